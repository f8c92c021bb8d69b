"""Form: images without alt text, and text too long for a selected network."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from moderation.checks.base import Check, CheckContext, Finding
from moderation.checks.text import PreparedText


class MissingAltTextCheck(Check):
    name = "form.missing_alt_text"
    categories = ("missing_alt_text",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        if context.images_without_alt > 0:
            explanation = ngettext_lazy(
                "%(count)d image has no alt text.", "%(count)d images have no alt text.", "count"
            ) % {"count": context.images_without_alt}
            yield self.finding(text, 0, 0, explanation, normalised=False)


class TooLongCheck(Check):
    name = "form.too_long"
    categories = ("too_long",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        for network, length, limit in context.network_lengths:
            if length > limit:
                explanation = format_lazy(
                    _("Too long for {network}: {length} of {limit} characters."),
                    network=network,
                    length=length,
                    limit=limit,
                )
                yield self.finding(text, 0, len(text.original), explanation, normalised=False)
