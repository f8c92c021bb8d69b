"""Request body parsers of the API: bounded in size, nesting and number of containers.

A body is refused before it is decoded when it is larger than the endpoint takes (413), and a
JSON body is refused before ``json.loads`` when it nests deeper than ``MAX_JSON_DEPTH`` or holds
more than ``MAX_JSON_CONTAINERS`` objects and arrays (400). Both checks run at C speed over the
text with strings removed, so a 2 MB body of ``[[[[…`` or ``{},{},…`` costs milliseconds and
never builds the objects it describes (issue 11: 1,000 levels raised RecursionError; 300,000
empty items took 700 MB).
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

MAX_JSON_DEPTH = 32
MAX_JSON_CONTAINERS = 1000
# The largest multipart body: the largest image (a post image) plus the form around it.
MAX_MULTIPART_BYTES = images.MAX_ANY_UPLOAD_BYTES + 1024 * 1024

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
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
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
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
    """JSON of at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes and MAX_JSON_DEPTH levels."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
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
