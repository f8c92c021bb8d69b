"""Threads: 500 characters, emoji counted by their UTF-8 bytes, at most 5 distinct links.

Meta documents only "emojis are counted as the number of UTF-8 bytes". Counted here as the
reference's conservative reading: a grapheme cluster that holds an emoji (Extended_Pictographic,
a regional indicator or the keycap mark) counts its UTF-8 bytes (😀 4, 👍🏽 8, a family of four
25), any other cluster its code points. Links are the URLs twitter-text finds, with or without
scheme; more than 5 distinct ones make the post invalid (Threads rejects it with
``THREADS_API__LINK_LIMIT_EXCEEDED``), so the renderer shortens the text before the sixth distinct
link, or in thread mode carries it into the next part.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from crossposting.text.graphemes import graphemes, utf8_length
from crossposting.text.rendering import Image, Measurement, Network, Part, RenderInput
from crossposting.text.urls import extract_urls_with_indices

MAX_LENGTH = 500
MAX_LINKS = 5
EMOJI_RE = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3")


def length(text: str) -> int:
    """Threads' length of a text (emoji clusters by UTF-8 bytes, the rest by code points)."""
    return sum(
        utf8_length(cluster) if EMOJI_RE.search(cluster) else len(cluster)
        for cluster in graphemes(text)
    )


def links(text: str) -> list[str]:
    """The URLs of a text in order (twitter-text's rules, with or without scheme)."""
    return [entity["url"] for entity in extract_urls_with_indices(text)]


@dataclass(frozen=True)
class Threads(Network):
    name: str = "threads"
    unit: str = "chars-emoji-utf8"
    default_limit: int = MAX_LENGTH
    max_images: int = 1  # a carousel (2-20 items) is a different container kind
    alt_text_limit: int = 1000

    def measure(self, text: str, limit: int | None = None) -> Measurement:
        limit = limit or self.default_limit
        size = length(text)
        found = links(text)
        valid = size <= limit and len(set(found)) <= MAX_LINKS
        return Measurement(
            network=self.name,
            length=size,
            valid=valid,
            unit=self.unit,
            limit=limit,
            links=tuple(found),
        )

    def shape(
        self, texts: list[str], images: list[tuple[Image, ...]], data: RenderInput
    ) -> tuple[Part, ...]:
        parts = []
        for index, (text, group) in enumerate(zip(texts, images, strict=True)):
            extra = {"link_attachment": data.permalink} if index == 0 and not group else {}
            parts.append(Part(text=text, images=group, extra=extra))
        return tuple(parts)


NETWORK = Threads()
