"""Cursor pagination for every list endpoint: stable under inserts, constant cost per page.

Lists are ordered by id, so a cursor's position is an id: a cursor that decodes to anything
else (``p=abc``, ``p=1e5``, ``p=1.5``) is refused with 400 before it reaches the database, and so
is a ``page_size`` that is not a whole number from 1 to ``max_page_size``.
"""

from __future__ import annotations

from base64 import b64decode
from urllib import parse

from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor

from accounts.numbers import parse_ascii_int


class CursorPagination(pagination.CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = _("The cursor is not valid; use the next or previous link as given.")
    page_size_query_description = _("Items per page, 1 to 200 (50 when left out).")

    def decode_cursor(self, request) -> Cursor | None:
        # DRF's own decoding lets anything through as the position (the database then raises)
        # and reads undecodable text as the first page; here anything but a cursor DRF wrote
        # is a 400.
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            text = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        except ValueError as error:  # binascii.Error and UnicodeError are ValueErrors
            raise self._invalid() from error
        if set(tokens) - {"o", "r", "p"} or any(len(values) != 1 for values in tokens.values()):
            raise self._invalid()
        offset = parse_ascii_int(tokens.get("o", ["0"])[0], maximum=self.offset_cutoff)
        reverse = tokens.get("r", ["0"])[0]
        position = tokens.get("p", [None])[0]
        if offset is None or reverse not in ("0", "1"):
            raise self._invalid()
        if position is not None and parse_ascii_int(position, minimum=1) is None:
            raise self._invalid()
        return Cursor(offset=offset, reverse=reverse == "1", position=position)

    def _invalid(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})

    def get_page_size(self, request) -> int:
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        size = parse_ascii_int(value, minimum=1, maximum=self.max_page_size)
        if size is None:
            raise ValidationError(
                {self.page_size_query_param: [_("Give a whole number from 1 to 200.")]}
            )
        return size

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
                parameter["description"] = force_str(self.page_size_query_description)
        return parameters
