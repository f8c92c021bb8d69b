"""Request body parsers of the API: bounded in size, nesting and number of values.

A body larger than the endpoint takes is refused before it is read (413: 512 KiB of JSON, 11 MiB
of multipart). A JSON body is refused before ``json.loads`` when it nests deeper than
``MAX_JSON_DEPTH``, holds more than ``MAX_JSON_CONTAINERS`` objects and arrays or more than
``MAX_JSON_VALUES`` values (400). The checks count brackets and commas at C speed, with strings
taken out only when the raw counts come near a limit, so a body of ``[[[[…`` or ``{},{},…``
costs milliseconds and never builds the objects it describes (issue 11: 1,000 levels raised
RecursionError; 300,000 empty items took 700 MB).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from accounts import images

# The largest JSON body. The largest real one (a policy with 2 x 500 domains of 253 characters,
# about 270 KB) fits; a smaller limit than Django's 2 MiB for forms makes every bad body cheaper
# to refuse, which is what keeps readers fast while bad requests arrive (bench/abuse.py).
MAX_JSON_BYTES = 512 * 1024
MAX_JSON_DEPTH = 32
MAX_JSON_CONTAINERS = 1000
# Values in all objects and arrays together (commas outside strings, plus one).
MAX_JSON_VALUES = 5000
# The largest multipart body: the largest image (a post image) plus the form around it.
MAX_MULTIPART_BYTES = images.MAX_ANY_UPLOAD_BYTES + 1024 * 1024

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_PLAIN_JSON_STRING = re.compile(r'"[^"]*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")


def _content_length(parser_context: dict | None) -> int:
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", {})
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def check_json_shape(text: str) -> None:
    """Refuse JSON text that nests too deep or holds too many objects and arrays."""
    opening = text.count("[") + text.count("{")
    if opening <= MAX_JSON_DEPTH and text.count(",") < MAX_JSON_VALUES:
        return  # too few brackets and commas to break a limit, strings included: nothing to do
    # Strings may hold brackets and commas that are text; take them out first. Without any
    # backslash no string holds an escaped quote, and the simpler pattern is several times faster.
    strings = _JSON_STRING if "\\" in text else _PLAIN_JSON_STRING
    structure = strings.sub("", text)
    if structure.count(",") >= MAX_JSON_VALUES:
        raise ParseError(
            _("The JSON body holds more than %(limit)s values.") % {"limit": MAX_JSON_VALUES}
        )
    brackets = _NOT_A_BRACKET.sub("", structure)
    if len(brackets) > 2 * MAX_JSON_CONTAINERS:
        raise ParseError(
            _("The JSON body holds more than %(limit)s objects and arrays.")
            % {"limit": MAX_JSON_CONTAINERS}
        )
    # Each pass removes the innermost level; what is left after MAX_JSON_DEPTH passes is deeper.
    for _level in range(MAX_JSON_DEPTH):
        brackets, removed = _INNERMOST_PAIR.subn("", brackets)
        if not brackets or not removed:
            return  # done, or unbalanced (json.loads says what is wrong)
    raise ParseError(
        _("The JSON body nests deeper than %(limit)s levels.") % {"limit": MAX_JSON_DEPTH}
    )


class JSONParser(parsers.JSONParser):
    """JSON of at most MAX_JSON_BYTES bytes and MAX_JSON_DEPTH levels."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = min(MAX_JSON_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if _content_length(parser_context) > limit:
            raise RequestDataTooBig()
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise RequestDataTooBig()
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise ParseError(
                _("JSON parse error - the body is not valid %s.") % encoding
            ) from error
        check_json_shape(text)
        parse_constant = json.strict_constant if self.strict else None
        try:
            return json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as error:
            raise ParseError(_("JSON parse error - %s") % error) from error


class MultiPartParser(parsers.MultiPartParser):
    """multipart/form-data up to MAX_MULTIPART_BYTES; larger bodies are refused unread."""

    def parse(self, stream, media_type=None, parser_context=None):
        if _content_length(parser_context) > MAX_MULTIPART_BYTES:
            raise RequestDataTooBig()
        return super().parse(stream, media_type, parser_context)
