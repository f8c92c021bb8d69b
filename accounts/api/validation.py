"""Checking request bodies: one ``validated()`` and the rules every input serializer shares.

- Unknown fields are a 400 (a typo or a read-only field is never a silent no-op).
- Every list has a maximum length, checked before any of its items is validated
  (``check_list_bounds``); a list field without one is a programming error.
- A partial update (PATCH) may leave top-level fields out, but each list item it sends is
  validated whole: required fields present, defaults applied.
- Times lie within ``EARLIEST``..``LATEST`` on any clock, so converting them between time zones
  can never overflow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django_filters import Filter
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.errors import MAX_ERROR_FIELDS
from accounts.numbers import EARLIEST_TIME, LATEST_TIME, parse_ascii_int, time_in_range

EARLIEST, LATEST = EARLIEST_TIME, LATEST_TIME  # accounts.numbers: the one range of times


def _is_list(field: serializers.Field) -> bool:
    return isinstance(field, serializers.ListSerializer | serializers.ListField)


def check_list_bounds(field: serializers.Field, data, path: str = "") -> None:
    """Refuse any list in ``data`` longer than its field allows, before its items are looked at."""
    if _is_list(field):
        if field.max_length is None:
            raise ImproperlyConfigured(f"The list field {path or field!r} has no max_length.")
        if not isinstance(data, list):
            return  # the field itself says "not a list"
        if len(data) > field.max_length:
            message = _("Ensure this field has no more than %(limit)s elements.") % {
                "limit": field.max_length
            }
            raise serializers.ValidationError({path or "non_field_errors": [message]})
        for index, item in enumerate(data):
            check_list_bounds(field.child, item, f"{path}.{index}" if path else str(index))
    elif isinstance(field, serializers.Serializer) and isinstance(data, dict):
        for name, child in field.fields.items():
            if not child.read_only and name in data:
                check_list_bounds(child, data[name], f"{path}.{name}" if path else name)


def validated(serializer_class: type[serializers.Serializer], data, **kwargs) -> dict:
    """The validated data of a request body, or a ValidationError (400)."""
    serializer = serializer_class(data=data, **kwargs)
    check_list_bounds(serializer, data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# Mixin for input serializers: a field the serializer does not accept is a 400. As an item of a
# list in a partial update, the serializer validates the item whole. (A comment, not a
# docstring: drf-spectacular would show a mixin's docstring as every serializer's description.)
class RejectUnknownFields:
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            accepted = {name for name, field in self.fields.items() if not field.read_only}
            # Multipart forms name list items like links[0]label; the field is the part before "[".
            unknown = sorted({str(key).split("[", 1)[0] for key in data} - accepted)
            if unknown:
                message = _("Unknown field, or one that cannot be changed here.")
                # The error names the first few; the body stays small however many were sent.
                shown = unknown[:MAX_ERROR_FIELDS]
                raise serializers.ValidationError({name: [message] for name in shown})
            if isinstance(self.parent, serializers.ListSerializer) and getattr(
                self.root, "partial", False
            ):
                data = self._whole(data)
        return super().to_internal_value(data)

    def _whole(self, data: Mapping) -> Mapping:
        """The item with its defaults filled in; every required field must be there."""
        # A multipart item is a MultiValueDict: copy it as one, so values stay single.
        item = data.copy() if hasattr(data, "getlist") else dict(data)
        missing = {}
        for name, field in self.fields.items():
            if field.read_only or name in item:
                continue
            if field.default is not serializers.empty:
                # Not field.get_default(): under a partial root it skips the field instead.
                default = field.default
                item[name] = default() if callable(default) else default
            elif field.required:
                missing[name] = [field.error_messages["required"]]
        if missing:
            raise serializers.ValidationError(missing)
        return item


class NoInput(RejectUnknownFields, serializers.Serializer):
    """For actions that take no body: anything sent is an unknown field."""


class DateTimeField(serializers.DateTimeField):
    """An ISO 8601 time between 1970 and 2999 (on its own clock), so no conversion overflows."""

    default_error_messages = {
        "out_of_range": _("Give a time between 1970 and 2999."),
    }

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        self.check_range(parsed)
        return parsed

    def check_range(self, value: dt.datetime) -> None:
        """Refuse a time outside EARLIEST..LATEST, however it is written."""
        if not time_in_range(value):
            self.fail("out_of_range")


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, but a filter parameter sent empty (``?status=``) is a 400.

    django-filter reads an empty value as "no filter"; the schema offers only the listed values
    (an enum, a number), so an empty one is an error, not a silent list of everything.
    """

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            empty = sorted(
                name
                for name in filterset.filters
                if any(not value.strip() for value in request.query_params.getlist(name))
            )
            if empty:
                message = _("Give a value, or leave the parameter out.")
                raise serializers.ValidationError({name: [message] for name in empty})
        return super().filter_queryset(request, queryset, view)


# Ids in query strings ---------------------------------------------------------------------------


class IdField(forms.Field):
    """An id in a query string: canonical ASCII digits from 1 (``accounts.numbers``).

    django-filter's ``NumberFilter`` reads a decimal, so ``?member=0.5`` or ``1e3`` passed as a
    filter that matches nothing, where the schema promises an integer."""

    default_error_messages = {
        "invalid": _("Give an id: a whole number from 1, in digits 0 to 9."),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_ascii_int(value, minimum=1)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


@extend_schema_field({"type": "integer", "minimum": 1})
class IdFilter(Filter):
    """The filter for every id in a query string (members, endpoints, actors)."""

    field_class = IdField
