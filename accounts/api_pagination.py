"""Cursor pagination for every list endpoint: stable under inserts, constant cost per page."""

from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class CursorPagination(pagination.CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = _("The cursor is not valid; use the next or previous link as given.")

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except Exception as error:  # DRF raises NotFound; a bad cursor is bad input
            raise ValidationError({"cursor": [self.invalid_cursor_message]}) from error
