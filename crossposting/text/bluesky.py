"""Bluesky: 300 graphemes and 3,000 UTF-8 bytes; facets detected as @atproto/api's RichText does.

``detect_facets`` follows ``detectFacets`` of @atproto/api 0.19.19 (``rich-text/detection.ts``
and ``util.ts``) rule by rule: mentions, then links, then tags, then cashtags, stably sorted by
``byteStart``. JavaScript regex semantics are kept where Python's differ: ``\\s`` is JavaScript's
space set, ``\\d`` and ``\\b`` are ASCII, the URL pattern's ``i`` flag touches ASCII letters only,
``$`` is the end of the text, and a tag's 64 limit counts UTF-16 units. A bare domain or a handle
counts only when it ends in a TLD of the ``tlds`` list that @atproto/api ships (``tlds.txt``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import regex

from crossposting.text.graphemes import (
    JS_SPACE,
    grapheme_count,
    utf8_length,
    utf8_offsets,
    utf16_length,
)
from crossposting.text.rendering import (
    Image,
    Measurement,
    Network,
    Part,
    RenderInput,
    cut_graphemes,
    first_line,
)

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
S = f"[{JS_SPACE}]"
NOT_S = f"[^{JS_SPACE}]"
ZERO_WIDTH = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
ASCII_BOUNDARY = r"(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))"
LINE_START = r"(?:^|(?<=[\n\r\u2028\u2029]))"

MENTION_RE = re.compile(rf"(?P<lead>^|{S}|\()@(?P<handle>[a-zA-Z0-9.-]+){ASCII_BOUNDARY}")
URL_RE = re.compile(
    rf"(?P<lead>{LINE_START}|{S}|\()"
    rf"(?P<uri>(?P<scheme>[hH][tT][tT][pP][sS]?://{NOT_S}+)"
    rf"|(?P<domain>[a-zA-Z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+)+){NOT_S}*)"
)
TAG_RE = regex.compile(
    rf"(?P<lead>^|{S})[#\uff03](?P<tag>(?!\ufe0f)[^{JS_SPACE}{ZERO_WIDTH}]*"
    rf"[^0-9{JS_SPACE}\p{{P}}{ZERO_WIDTH}]+[^{JS_SPACE}{ZERO_WIDTH}]*)?",
    regex.VERSION0,
)
TRAILING_PUNCTUATION_RE = regex.compile(r"\p{P}+\Z")
CASHTAG_RE = re.compile(
    rf"(?P<lead>^|{S}|\()\$(?P<ticker>[A-Za-z][A-Za-z0-9]{{0,4}})(?={S}|\Z|[.,;:!?)\"'\u2019])"
)
JS_TRIM = re.compile(rf"^{S}+|{S}+\Z")
ALT_TEXT_LIMIT = 2000  # the Bluesky app's limit (graphemes; counted here in UTF-16 units)
LINK_CARD_TITLE = 100
LINK_CARD_DESCRIPTION = 300


@cache
def tlds() -> frozenset[str]:
    """Top-level domains as @atproto/api's dependency ``tlds`` lists them (none has a dot)."""
    lines = (Path(__file__).with_name("tlds.txt")).read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_valid_domain(text: str) -> bool:
    """Whether a text ends in ``.`` and a known TLD (case-sensitive, as @atproto/api checks)."""
    return "." in text and text.rsplit(".", 1)[1] in tlds()


def detect_facets(text: str) -> list[dict[str, Any]]:
    """Facets as ``{"type", "byteStart", "byteEnd", "uri"|"handle"|"tag"}``, RichText's order."""
    offsets = utf8_offsets(text)
    facets: list[dict[str, Any]] = []
    for match in MENTION_RE.finditer(text):
        handle = match.group("handle")
        if not is_valid_domain(handle) and not handle.endswith(".test"):
            continue
        start = match.start("handle") - 1
        facets.append(
            {
                "type": "mention",
                "byteStart": offsets[start],
                "byteEnd": offsets[match.end("handle")],
                "handle": handle,
            }
        )
    for match in URL_RE.finditer(text):
        uri = match.group("uri")
        if not uri.startswith("http"):
            domain = match.group("domain")
            if not domain or not is_valid_domain(domain):
                continue
            uri = "https://" + uri
        start, end = match.start("uri"), match.end("uri")
        if uri[-1] in ".,;:!?":
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        facets.append(
            {"type": "link", "byteStart": offsets[start], "byteEnd": offsets[end], "uri": uri}
        )
    for match in TAG_RE.finditer(text):
        tag = match.group("tag")
        if not tag:
            continue
        tag = TRAILING_PUNCTUATION_RE.sub("", JS_TRIM.sub("", tag))
        if not tag or utf16_length(tag) > 64:
            continue
        start = match.start() + len(match.group("lead"))
        facets.append(
            {
                "type": "tag",
                "byteStart": offsets[start],
                "byteEnd": offsets[start + 1 + len(tag)],
                "tag": tag,
            }
        )
    for match in CASHTAG_RE.finditer(text):
        ticker = match.group("ticker").upper()
        start = match.start() + len(match.group("lead"))
        facets.append(
            {
                "type": "tag",
                "byteStart": offsets[start],
                "byteEnd": offsets[start + 1 + len(ticker)],
                "tag": "$" + ticker,
            }
        )
    facets.sort(key=lambda facet: facet["byteStart"])
    return facets


FEATURE_TYPES = {"link": "uri", "mention": "handle", "tag": "tag"}


def record_facet(facet: dict[str, Any]) -> dict[str, Any]:
    """A detected facet in the ``app.bsky.richtext.facet`` record shape. Mentions carry the
    ``handle``: the client resolves it to ``did`` (and drops the facet when it cannot)."""
    kind = facet["type"]
    key = FEATURE_TYPES[kind]
    return {
        "index": {"byteStart": facet["byteStart"], "byteEnd": facet["byteEnd"]},
        "features": [{"$type": f"app.bsky.richtext.facet#{kind}", key: facet[key]}],
    }


@dataclass(frozen=True)
class Bluesky(Network):
    name: str = "bluesky"
    unit: str = "graphemes"
    default_limit: int = MAX_GRAPHEMES
    max_images: int = 4
    alt_text_limit: int = ALT_TEXT_LIMIT

    def measure(self, text: str, limit: int | None = None) -> Measurement:
        limit = limit or self.default_limit
        length = grapheme_count(text)
        size = utf8_length(text)
        return Measurement(
            network=self.name,
            length=length,
            valid=length <= limit and size <= MAX_BYTES,
            unit=self.unit,
            limit=limit,
            bytes=size,
            facets=tuple(detect_facets(text)),
        )

    def fits(self, text: str, limit: int) -> bool:
        return utf8_length(text) <= MAX_BYTES and grapheme_count(text) <= limit

    def shape(
        self, texts: list[str], images: list[tuple[Image, ...]], data: RenderInput
    ) -> tuple[Part, ...]:
        parts = []
        for index, (text, group) in enumerate(zip(texts, images, strict=True)):
            extra: dict[str, Any] = {"langs": [data.language]}
            if group:
                extra["embed"] = {
                    "$type": "app.bsky.embed.images",
                    "images": [
                        {"alt": image.alt_text, "image": image.url_or_path} for image in group
                    ],
                }
            elif index == 0:
                extra["embed"] = {
                    "$type": "app.bsky.embed.external",
                    "external": {
                        "uri": data.permalink,
                        "title": cut_graphemes(data.title, LINK_CARD_TITLE)
                        if data.title
                        else first_line(data.body, LINK_CARD_TITLE),
                        "description": cut_graphemes(
                            " ".join(data.body.split()), LINK_CARD_DESCRIPTION
                        ),
                    },
                }
            facets = tuple(record_facet(facet) for facet in detect_facets(text))
            parts.append(Part(text=text, facets=facets, images=group, extra=extra))
        return tuple(parts)


NETWORK = Bluesky()
