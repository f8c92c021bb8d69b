"""What a renderer takes and gives, and the one shortening and thread-splitting routine that all
five networks share.

Decisions that hold on every network:

- The permalink is always added, on a line of its own after the text, and in thread mode it goes
  into the **first** part (where readers start and where link cards are shown).
- Shortening cuts the body at a grapheme boundary, never inside a URL, preferably at a space,
  appends ``…`` and keeps the permalink; the result is re-measured with the network's own counter.
- Thread parts end with `` i/n``; each part is measured with the number it carries. A network
  without threads (LinkedIn) shortens instead. At most ``MAX_PARTS`` parts: text beyond them is
  shortened into the last part.
- Images go with the first part up to the network's count, the rest (thread mode) with the
  following parts; images beyond that are dropped. Alt text is cut to the network's limit.
- A mention of a colleague (``@handle`` as feeds finds it) becomes the network handle from
  ``RenderInput.mentions``; without one it becomes plain text (the handle without ``@``) so it
  never points at a stranger with the same name on that network. A handle that is not a key of
  ``mentions`` but is written in a network's own form (``@name.bsky.social``,
  ``@user@instance``) is left as the author typed it.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django.utils.translation import gettext_lazy as _

from crossposting.text.graphemes import (
    ELLIPSIS,
    grapheme_boundaries,
    graphemes,
    trim,
    trim_end,
    trim_start,
    utf16_length,
)
from crossposting.text.urls import extract_urls_with_indices
from feeds.rendering import ENTITY_RE

MAX_PARTS = 20


class RenderError(ValueError):
    """The permalink alone does not fit the network's limit: nothing sensible can be posted."""


@dataclass(frozen=True)
class Image:
    url_or_path: str
    alt_text: str
    sha256: str = ""


@dataclass(frozen=True)
class RenderInput:
    body: str
    language: str
    permalink: str
    mentions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    images: Sequence[Image] = ()
    mode: str = "shorten"
    limit: int | None = None
    title: str = ""  # link-card title (Bluesky, LinkedIn); the body's first line when empty


@dataclass(frozen=True)
class Part:
    text: str
    facets: tuple = ()
    images: tuple[Image, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendering:
    network: str
    parts: tuple[Part, ...]
    length_unit: str
    limit: int

    def canonical(self) -> dict[str, Any]:
        """The rendering as plain JSON data (what is hashed and what a reviewer sees)."""
        return {
            "network": self.network,
            "length_unit": self.length_unit,
            "limit": self.limit,
            "parts": [
                {
                    "text": part.text,
                    "facets": list(part.facets),
                    "images": [asdict(image) for image in part.images],
                    "extra": _plain(part.extra),
                }
                for part in self.parts
            ],
        }

    def content_hash(self) -> str:
        """SHA-256 (hex) over the canonical JSON of the rendering: what a reviewer approves."""
        data = json.dumps(
            self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        )
        return hashlib.sha256(data.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Measurement:
    """A network's counter applied to one raw text."""

    network: str
    length: int
    valid: bool
    unit: str
    limit: int
    bytes: int | None = None
    facets: tuple | None = None
    links: tuple[str, ...] | None = None
    text: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The fields of ``measure_texts`` output (``id`` is the caller's)."""
        out: dict[str, Any] = {
            "network": self.network,
            "length": self.length,
            "valid": self.valid,
            "unit": self.unit,
        }
        for name in ("bytes", "facets", "links", "text"):
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value) if isinstance(value, tuple) else value
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Network(ABC):
    """One network's text rules. Subclasses supply ``measure`` and may shape their parts."""

    name: str = ""
    unit: str = ""
    default_limit: int = 0
    max_images: int = 4
    alt_text_limit: int = 1000
    has_threads: bool = True
    separator: str = field(default="\n\n", repr=False)

    @abstractmethod
    def measure(self, text: str, limit: int | None = None) -> Measurement:
        """The network's counter applied to a raw text."""

    def measure_finished(self, text: str, limit: int | None = None) -> Measurement:
        """The measurement of a part's text as sent (``finished``), e.g. to show its length."""
        return self.measure(text, limit)

    def fits(self, text: str, limit: int) -> bool:
        """Whether a finished part text is within the network's limits."""
        return self.measure(text, limit).valid

    def finished(self, text: str) -> str:
        """The text as sent (LinkedIn escapes it); what ``fits`` is asked about."""
        return text

    def mention(self, handle: str, network_handle: str | None) -> str:
        """How a colleague's ``@handle`` is written on this network."""
        if not network_handle:
            return handle
        return "@" + network_handle.lstrip("@")

    def shape(
        self, texts: list[str], images: list[tuple[Image, ...]], data: RenderInput
    ) -> tuple[Part, ...]:
        """Turn finished part texts and their images into parts (facets, embeds, extra fields)."""
        return tuple(
            Part(text=text, images=group) for text, group in zip(texts, images, strict=True)
        )

    def alt_text(self, alt: str) -> str:
        """Alt text cut at a grapheme, with an ellipsis, to the network's alt-text limit; counted
        in UTF-16 units, never fewer than the characters or graphemes a network may count."""
        if utf16_length(alt) <= self.alt_text_limit:
            return alt
        kept, total = [], utf16_length(ELLIPSIS)
        for cluster in graphemes(alt):
            total += utf16_length(cluster)
            if total > self.alt_text_limit:
                break
            kept.append(cluster)
        return trim_end("".join(kept)) + ELLIPSIS

    def render(self, data: RenderInput) -> Rendering:
        """The network's payload parts for a revision (pure: same input, same rendering)."""
        limit = data.limit or self.default_limit
        body = trim(resolve_mentions(data.body, data.mentions, self))
        images = [replace(image, alt_text=self.alt_text(image.alt_text)) for image in data.images]
        if data.mode == "thread" and self.has_threads:
            texts = self._thread(body, data.permalink, limit)
        else:
            texts = [self._shortened(body, data.permalink, limit)]
        per_part = self.max_images
        groups = [tuple(images[i * per_part : (i + 1) * per_part]) for i in range(len(texts))]
        if len(texts) == 1 or data.mode != "thread":
            groups = [tuple(images[:per_part])] + [()] * (len(texts) - 1)
        parts = self.shape(texts, groups, data)
        return Rendering(network=self.name, parts=parts, length_unit=self.unit, limit=limit)

    # ----- shortening and splitting -------------------------------------------------------

    def _compose(self, chunk: str, permalink: str, suffix: str = "") -> str:
        head = chunk + suffix
        return self.finished(f"{head}{self.separator}{permalink}" if head else permalink)

    def _shortened(self, body: str, permalink: str, limit: int) -> str:
        whole = self._compose(body, permalink)
        if self.fits(whole, limit):
            return whole
        return self._longest(
            body, lambda head: self._compose(head, permalink), limit, ellipsis=True
        )[0]

    def _longest(
        self, body: str, compose: Callable[[str], str], limit: int, *, ellipsis: bool
    ) -> tuple[str, int]:
        """The longest finished text for a prefix of ``body`` that fits, and the prefix length
        (code points) used. The prefix ends at a grapheme boundary outside any URL, at a space
        when one is near."""
        boundaries = grapheme_boundaries(body)
        spans = url_spans(body)

        def text_for(cut: int) -> str:
            head = trim_end(body[:cut])
            if ellipsis and cut < len(body) and head:
                head += ELLIPSIS
            return compose(head)

        def ok(cut: int) -> bool:
            return self.fits(text_for(cut), limit)

        if not ok(0):
            raise RenderError(_("The link to the post alone is longer than this network allows."))
        low, high = 0, len(boundaries) - 1  # boundaries[low] fits
        while low < high:
            middle = (low + high + 1) // 2
            if ok(boundaries[middle]):
                low = middle
            else:
                high = middle - 1
        cut = boundaries[low]
        for start, end in spans:
            before = max(b for b in boundaries if b <= start)
            if start < cut < end and before > 0:  # a URL longer than a whole part is cut
                cut = before
        near = max(0, cut - max(12, cut // 4))
        spaces = [b for b in boundaries if near < b <= cut and b < len(body) and body[b].isspace()]
        if cut < len(body) and not body[cut].isspace() and spaces and ok(spaces[-1]):
            cut = spaces[-1]
        while cut > 0 and not ok(cut):  # counters are not quite monotonic (URLs)
            cut = max(b for b in boundaries if b < cut)
        return text_for(cut), cut

    def _thread(self, body: str, permalink: str, limit: int) -> list[str]:
        single = self._compose(body, permalink)
        if self.fits(single, limit):
            return [single]
        for digits in (1, 2):
            placeholder = "9" * digits
            chunks = self._chunks(body, permalink, limit, f" {placeholder}/{placeholder}")
            if len(chunks) < 10**digits:
                break
        count = len(chunks)
        if count == 1:  # nothing fits beside the permalink but a shortened text
            return [self._shortened(body, permalink, limit)]
        texts = [self._compose(chunks[0], permalink, f" 1/{count}")]
        texts += [
            self.finished(f"{chunk} {index}/{count}")
            for index, chunk in enumerate(chunks[1:], start=2)
        ]
        return texts

    def _chunks(self, body: str, permalink: str, limit: int, suffix: str) -> list[str]:
        """The body cut into thread chunks, measured with a worst-case number suffix; the last
        allowed part (``MAX_PARTS``) is shortened with an ellipsis when text is left over."""
        chunks: list[str] = []
        rest = body
        while True:
            first = not chunks

            def compose(head: str, first: bool = first) -> str:
                return (
                    self._compose(head, permalink, suffix)
                    if first
                    else self.finished(head + suffix)
                )

            if self.fits(compose(rest), limit):
                chunks.append(rest)
                return chunks
            cut = 0
            if len(chunks) < MAX_PARTS - 1:
                cut = self._longest(rest, compose, limit, ellipsis=False)[1]
            if cut == 0:  # the last part allowed, or not one grapheme fits beside the suffix
                cut = self._longest(rest, compose, limit, ellipsis=True)[1]
                head = trim_end(rest[:cut])
                chunks.append(head + ELLIPSIS if head else head)
                return chunks
            chunks.append(trim_end(rest[:cut]))
            rest = trim_start(rest[cut:])


def url_spans(text: str) -> list[tuple[int, int]]:
    """Code point spans of URLs (with or without scheme, twitter-text's rules) that a cut avoids."""
    return [tuple(entity["indices"]) for entity in extract_urls_with_indices(text)]


def resolve_mentions(body: str, mentions: Mapping[str, Mapping[str, str]], network: Network) -> str:
    """The body with each colleague ``@handle`` written as the network knows them, or as plain
    text when they have no account there; handles in a network's own form stay as typed."""
    known = {handle.lower().lstrip("@"): accounts for handle, accounts in mentions.items()}
    out, position = [], 0
    for match in ENTITY_RE.finditer(body):
        mention = match.group("mention")
        if not mention:
            continue
        start, end = match.span()
        handle = mention[1:]
        accounts = known.get(handle.lower())
        if accounts is None and ("." in handle or body[end : end + 1] == "@"):
            continue  # @name.bsky.social or @user@instance: written for that network on purpose
        written = network.mention(handle, (accounts or {}).get(network.name))
        out += [body[position:start], written]
        position = end
    out.append(body[position:])
    return "".join(out)


def cut_graphemes(text: str, limit: int) -> str:
    """A text cut to at most ``limit`` graphemes, the last one an ellipsis when it was cut."""
    clusters = graphemes(text)
    if len(clusters) <= limit:
        return text
    return trim_end("".join(clusters[: limit - 1])) + ELLIPSIS


def first_line(text: str, limit: int) -> str:
    """The first non-empty line of a text, cut to ``limit`` graphemes (a link card's title)."""
    for line in text.splitlines():
        if line.strip():
            return cut_graphemes(line.strip(), limit)
    return ""
