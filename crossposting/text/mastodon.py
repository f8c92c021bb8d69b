"""Mastodon: graphemes after Mastodon's StatusLengthValidator rewrites URLs and remote mentions.

``countable_text`` of ``app/validators/status_length_validator.rb``: URLs that twitter-text finds
*with* a scheme (``extract_url_without_protocol: false``) and mentions (``Account::MENTION_RE``
through ``Extractor.extract_mentions_or_lists_with_indices``) are collected, overlaps removed as
twitter-text does, every URL becomes 23 characters and ``@user@domain`` becomes ``@user``; the
result is counted in grapheme clusters. The limit is the instance's own
(``configuration.statuses.max_characters`` of ``/api/v2/instance``), 500 when unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from crossposting.text.graphemes import grapheme_count
from crossposting.text.rendering import Image, Measurement, Network, Part, RenderInput
from crossposting.text.urls import extract_urls_with_indices

DEFAULT_LIMIT = 500
URL_PLACEHOLDER = "x" * 23
MAX_DOMAIN_LENGTH = 253  # Extractor: a longer domain is no mention
WORD = r"[\p{L}\p{M}\p{Nd}\p{Pc}]"  # Ruby's [[:word:]]
USERNAME = r"[a-zA-Z0-9_]+(?:[.-]+[a-zA-Z0-9_]+)*"
MENTION_RE = regex.compile(
    rf"(?<![=/]|{WORD})@(?P<name>(?P<user>{USERNAME})(?:@{WORD}+(?:[.-]+{WORD}+)*)?)"
)
# twitter-text's end_mention_match: no mention when an @, a Latin accent or "://" follows.
LATIN_ACCENTS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b"
    "\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
END_MENTION_RE = regex.compile(rf"[@\uff20{LATIN_ACCENTS}]|://", regex.IGNORECASE)


def entities(text: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) of each URL and mention Mastodon rewrites, overlaps removed."""
    found = [
        (entity["indices"][0], entity["indices"][1], URL_PLACEHOLDER)
        for entity in extract_urls_with_indices(text, without_protocol=False)
    ]
    if "@" in text or "\uff20" in text:
        for match in MENTION_RE.finditer(text):
            if END_MENTION_RE.match(text, match.end()):
                continue
            if len(match.group("name")) - len(match.group("user")) - 1 > MAX_DOMAIN_LENGTH:
                continue
            found.append((match.start("name") - 1, match.end("name"), "@" + match.group("user")))
    found.sort(key=lambda entity: entity[0])
    kept: list[tuple[int, int, str]] = []
    for entity in found:
        if kept and kept[-1][1] > entity[0]:
            continue
        kept.append(entity)
    return kept


def countable_text(text: str) -> str:
    """The text as Mastodon counts it: URLs as 23 x, remote mentions as ``@user``."""
    out, position = [], 0
    for start, end, replacement in entities(text):
        out += [text[position:start], replacement]
        position = end
    out.append(text[position:])
    return "".join(out)


@dataclass(frozen=True)
class Mastodon(Network):
    name: str = "mastodon"
    unit: str = "graphemes"
    default_limit: int = DEFAULT_LIMIT
    max_images: int = 4
    alt_text_limit: int = 1500  # configuration.media_attachments.description_limit's default

    def measure(self, text: str, limit: int | None = None) -> Measurement:
        limit = limit or self.default_limit
        length = grapheme_count(countable_text(text))
        links = tuple(
            text[start:end]
            for start, end, replacement in entities(text)
            if replacement == URL_PLACEHOLDER
        )
        return Measurement(
            network=self.name,
            length=length,
            valid=length <= limit,
            unit=self.unit,
            limit=limit,
            links=links,
        )

    def shape(
        self, texts: list[str], images: list[tuple[Image, ...]], data: RenderInput
    ) -> tuple[Part, ...]:
        return tuple(
            Part(text=text, images=group, extra={"language": data.language})
            for text, group in zip(texts, images, strict=True)
        )


NETWORK = Mastodon()
