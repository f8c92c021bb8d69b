"""The institution's own lexicons: blocked terms (approval needs an override) and flagged terms."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from moderation.checks.base import Check, CheckContext, Finding
from moderation.checks.lexicons import compile_terms
from moderation.checks.text import PreparedText


class BlockedTermCheck(Check):
    name = "policy.blocked_term"
    categories = ("blocked_term",)
    severity = "block"

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        pattern = compile_terms(context.blocked_terms)
        if pattern is not None:
            for match in pattern.finditer(text.folded):
                yield self.finding(
                    text, *match.span(), _("A blocked term: approval needs an admin's override.")
                )


class FlaggedTermCheck(Check):
    name = "policy.flagged_term"
    categories = ("flagged_term",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        pattern = compile_terms(context.flagged_terms)
        if pattern is not None:
            for match in pattern.finditer(text.folded):
                yield self.finding(text, *match.span(), _("A term the institution flags."))
