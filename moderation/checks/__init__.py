"""Automated checks of a post's text: one class per check, all run by ``run_checks``.

A pure library: no models, no database. The moderation app builds a ``CheckContext`` from an
institution's policy; ``manage.py check_texts`` runs whole corpora.
"""

from __future__ import annotations

import re
from dataclasses import replace

from django.utils.translation import gettext_lazy as _

from moderation.checks.base import Check, CheckContext, Finding
from moderation.checks.form import MissingAltTextCheck, TooLongCheck
from moderation.checks.lexicons import sector_for_kind, starting_terms
from moderation.checks.links import LinkDomainCheck, UrlShortenerCheck
from moderation.checks.personal_data import (
    DateOfBirthCheck,
    EmailCheck,
    IbanCheck,
    PhoneCheck,
    StreetAddressCheck,
    parse_phone,
)
from moderation.checks.risks import (
    ClientMatterCheck,
    HealthDataCheck,
    InsiderFinancialCheck,
    MinorIdentifiedCheck,
)
from moderation.checks.terms import BlockedTermCheck, FlaggedTermCheck
from moderation.checks.text import PreparedText

__all__ = [
    "CHECKS",
    "RISK_CATEGORIES",
    "Check",
    "CheckContext",
    "Finding",
    "run_checks",
    "sector_for_kind",
    "starting_terms",
]

CHECKS: list[Check] = [
    MinorIdentifiedCheck(),
    HealthDataCheck(),
    ClientMatterCheck(),
    InsiderFinancialCheck(),
    EmailCheck(),
    PhoneCheck(),
    IbanCheck(),
    DateOfBirthCheck(),
    StreetAddressCheck(),
    UrlShortenerCheck(),
    LinkDomainCheck(),
    BlockedTermCheck(),
    FlaggedTermCheck(),
    MissingAltTextCheck(),
    TooLongCheck(),
]

RISK_CATEGORIES = (
    "minor_identified",
    "health_data",
    "client_matter",
    "insider_financial",
    "email",
    "phone",
    "iban",
    "date_of_birth",
    "street_address",
    "url_shortener",
)
_CONTACT_CATEGORIES = ("email", "phone", "iban", "street_address")


def run_checks(text: str, context: CheckContext) -> list[Finding]:
    """Every check's findings on the text, sorted by start (spans in code points of ``text``)."""
    prepared = PreparedText(text)
    findings: list[Finding] = []
    for check in CHECKS:
        findings.extend(check.find(prepared, context))
    if context.own_contacts:
        own = {_contact_key(c, category, context.language) for c in context.own_contacts
               for category in _CONTACT_CATEGORIES}  # fmt: skip
        findings = [_mark_own(f, own, context.language) for f in findings]
    findings.sort(key=lambda f: (f.start, f.end, f.category))
    return _merged(findings)


def _merged(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings of one check and severity become one (a diagnosis said twice)."""
    merged: list[Finding] = []
    last: dict[tuple[str, str, str], int] = {}
    for finding in findings:
        key = (finding.check, finding.category, finding.severity)
        index = last.get(key)
        if index is not None and finding.start < merged[index].end and finding.end > 0:
            previous = merged[index]
            if finding.end > previous.end:
                text_end = previous.matched + finding.matched[previous.end - finding.start :]
                merged[index] = replace(previous, end=finding.end, matched=text_end)
            continue
        last[key] = len(merged)
        merged.append(finding)
    return merged


def _contact_key(value: str, category: str, language: str) -> str:
    """A comparable form of a contact: digits of a phone number, compact IBAN, folded words."""
    folded = PreparedText(value).folded
    if category == "phone":
        for kind in ("intl", "national", "us"):
            number = parse_phone(folded.strip(), language, kind)
            if number is not None:
                return f"phone:{number.country_code}:{number.national_number}"
        return "phone:?"
    if category == "iban":
        return "iban:" + re.sub(r"\s", "", folded)
    if category == "email":
        return "email:" + folded.strip()
    return "address:" + " ".join(re.findall(r"\w+", folded))


def _mark_own(finding: Finding, own: set[str], language: str) -> Finding:
    if finding.category not in _CONTACT_CATEGORIES:
        return finding
    if _contact_key(finding.matched, finding.category, language) not in own:
        return finding
    return Finding(
        check=finding.check,
        category=finding.category,
        start=finding.start,
        end=finding.end,
        severity="info",
        explanation=_("The institution's own published contact."),
        matched=finding.matched,
    )
