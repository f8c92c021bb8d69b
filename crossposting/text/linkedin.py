"""LinkedIn: the "little" text format of ``commentary``, escaped so that no text is lost.

Every reserved character (``\\ | { } @ [ ] ( ) < > # * _ ~``) is escaped with a backslash,
everywhere, URLs and hashtags included: LinkedIn silently truncates a post at an unescaped one,
and the escapes are read back as the plain characters, so what readers see is the text as
written. The 3,000 limit is counted on the escaped commentary in UTF-16 code units (Java's
``String.length()``): LinkedIn does not document its unit, and this count is never lower than
characters or code points. LinkedIn has no threads, so thread mode shortens; mentions become
plain text (a LinkedIn mention needs a member URN, which Podium does not keep).
"""

from __future__ import annotations

from dataclasses import dataclass

from crossposting.text.graphemes import utf16_length
from crossposting.text.rendering import (
    Image,
    Measurement,
    Network,
    Part,
    RenderInput,
    cut_graphemes,
    first_line,
)

MAX_LENGTH = 3000
RESERVED = frozenset("\\|{}@[]()<>#*_~")


def escape(text: str) -> str:
    """Commentary in the little text format: each reserved character behind a backslash."""
    return "".join("\\" + character if character in RESERVED else character for character in text)


def unescape(text: str) -> str:
    """The plain text of escaped commentary (the inverse of ``escape``)."""
    out, index = [], 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in RESERVED:
            out.append(text[index + 1])
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


@dataclass(frozen=True)
class LinkedIn(Network):
    name: str = "linkedin"
    unit: str = "utf16-escaped"
    default_limit: int = MAX_LENGTH
    max_images: int = 20  # content.multiImage takes 2-20
    alt_text_limit: int = 4086
    has_threads: bool = False

    def measure(self, text: str, limit: int | None = None) -> Measurement:
        limit = limit or self.default_limit
        escaped = escape(text)
        size = utf16_length(escaped)
        return Measurement(
            network=self.name,
            length=size,
            valid=size <= limit,
            unit=self.unit,
            limit=limit,
            text=escaped,
        )

    def measure_finished(self, text: str, limit: int | None = None) -> Measurement:
        return self.measure(unescape(text), limit)  # not escaped twice

    def finished(self, text: str) -> str:
        return escape(text)

    def fits(self, text: str, limit: int) -> bool:
        return utf16_length(text) <= limit  # ``text`` is already escaped

    def mention(self, handle: str, network_handle: str | None) -> str:
        return handle

    def shape(
        self, texts: list[str], images: list[tuple[Image, ...]], data: RenderInput
    ) -> tuple[Part, ...]:
        text, group = texts[0], images[0]
        extra: dict = {"commentary": text}
        if not group:
            extra["article"] = {
                "source": data.permalink,
                "title": cut_graphemes(data.title, 200)
                if data.title
                else first_line(data.body, 200),
                "description": cut_graphemes(" ".join(data.body.split()), 256),
            }
        return (Part(text=text, images=group, extra=extra),)


NETWORK = LinkedIn()
