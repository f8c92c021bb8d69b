"""The check interface: what a check receives (context), what it returns (findings)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from moderation.checks.text import PreparedText

SEVERITIES = ("block", "warning", "info")


@dataclass(frozen=True)
class CheckContext:
    """What the checks know besides the text: language, sector and the institution's policy."""

    language: str  # "de" | "en"
    sector: str  # "school" | "clinic" | "law_firm" | "company"
    blocked_terms: tuple[str, ...] = ()
    flagged_terms: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    denied_domains: tuple[str, ...] = ()
    own_contacts: tuple[str, ...] = ()
    images_without_alt: int = 0
    network_lengths: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class Finding:
    """One flag: a span of the text as given (code points), its category and severity."""

    check: str
    category: str
    start: int
    end: int
    severity: str
    explanation: str
    matched: str


class Check(ABC):
    """One automated check; subclasses set ``name`` and ``categories`` and implement ``find``."""

    name: ClassVar[str]
    categories: ClassVar[tuple[str, ...]]
    severity: ClassVar[str] = "warning"

    @abstractmethod
    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        """The findings of this check in the prepared text."""

    def finding(
        self,
        text: PreparedText,
        start: int,
        end: int,
        explanation: str,
        *,
        category: str | None = None,
        severity: str | None = None,
        normalised: bool = True,
    ) -> Finding:
        """A finding for a span of the prepared text (or of the original when not normalised)."""
        if normalised:
            start, end = text.span(start, end)
        return Finding(
            check=self.name,
            category=category or self.categories[0],
            start=start,
            end=end,
            severity=severity or self.severity,
            explanation=explanation,
            matched=text.original[start:end],
        )
