"""Conditional requests: ETags on editable resources and ``If-Match`` on their updates.

A view is editable when its permission map allows an update (``partial_update``/``update``
actions, or ``patch``/``put`` methods). Reading one of its resources (and updating it) returns
an ``ETag``: a strong tag over the representation this caller gets. An update or delete sent
with ``If-Match`` proceeds only while the resource still has one of the given tags, otherwise
412, so two integrations editing the same post never overwrite each other silently. The check
locks the resource's row first (the request runs in one transaction), so two updates with the
same tag cannot both pass. ``If-None-Match`` on a read answers 304 when nothing changed.
"""

from __future__ import annotations

import hashlib
import json

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.response import Response

from accounts.errors import DomainError
from accounts.models import Institution

UPDATE_ACTIONS = frozenset({"partial_update", "update", "patch", "put"})
CONDITIONAL_METHODS = frozenset({"PATCH", "PUT", "DELETE"})
READ_ACTIONS = frozenset({"retrieve", "get"})


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"
    default_message = _(
        "The resource changed since you read it (If-Match does not match its ETag). Read it "
        "again, apply your change to the new version, and send it with the new ETag."
    )


def etag_of(data) -> str:
    """A strong entity tag over a representation."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


class ConditionalUpdates:
    """API view mixin: ETags on an editable view's single resource, If-Match on its writes."""

    def _is_editable(self) -> bool:
        return bool(UPDATE_ACTIONS & set(getattr(self, "permission_map", {}) or {}))

    def _is_single_resource(self, request) -> bool:
        action = getattr(self, "action", None)
        if action is not None:  # a viewset: one object is addressed by its lookup
            lookup = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "")
            return lookup in self.kwargs and hasattr(self, "retrieve")
        return hasattr(self, "get")  # a singleton such as the institution or the profile

    def _lock(self) -> None:
        if connection.vendor != "postgresql" or not connection.in_atomic_block:
            return
        if getattr(self, "action", None) is not None:
            lookup = getattr(self, "lookup_url_kwarg", None) or self.lookup_field
            model = self.get_queryset().model
            list(model.objects.select_for_update().filter(pk=self.kwargs[lookup]).values("pk"))
        else:
            django_request = self.request._request
            institution = django_request.institution
            list(Institution.objects.select_for_update().filter(id=institution.id).values("id"))
            # A singleton renders rows the request loaded before the lock (the institution, the
            # caller's membership): read them again, or a second update would see the old ones.
            institution.refresh_from_db()
            actor = getattr(self.request, "actor", None)
            if actor is not None:
                actor.membership.refresh_from_db()

    def _current_tag(self, request, *args, **kwargs) -> str:
        handler = self.retrieve if getattr(self, "action", None) is not None else self.get
        response = handler(request, *args, **kwargs)
        return etag_of(response.data)

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        condition = request.headers.get("If-Match", "").strip()
        if (
            not condition  # absent (or empty): an unconditional update
            or request.method not in CONDITIONAL_METHODS
            or not self._is_editable()
            or not self._is_single_resource(request)
        ):
            return
        self._lock()
        current = self._current_tag(request, *args, **kwargs)  # 404 when it is gone
        tags = _tags(condition)
        if "*" not in tags and current not in tags:
            raise PreconditionFailed()

    def finalize_response(self, request, response, *args, **kwargs):
        action = getattr(self, "action", None) or request.method.lower()
        if (
            response.status_code == status.HTTP_200_OK
            and isinstance(getattr(response, "data", None), dict)
            and (action in READ_ACTIONS or action in UPDATE_ACTIONS)
            and self._is_editable()
            and self._is_single_resource(request)
        ):
            tag = etag_of(response.data)
            response["ETag"] = tag
            if request.method == "GET" and tag in _tags(request.headers.get("If-None-Match", "")):
                response = Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        return super().finalize_response(request, response, *args, **kwargs)


def document_conditional_requests(result: dict, generator, request, public) -> dict:
    """Schema post-processing hook: ETag, If-None-Match and If-Match on editable resources."""
    etag_header = {
        "ETag": {
            "schema": {"type": "string"},
            "description": str(_("The version of this resource; send it back in If-Match.")),
        }
    }
    for operations in result.get("paths", {}).values():
        if "get" not in operations or not ({"patch", "put"} & set(operations)):
            continue
        get = operations["get"]
        get.setdefault("parameters", []).append(
            {
                "in": "header",
                "name": "If-None-Match",
                "required": False,
                "schema": {"type": "string"},
                "description": str(_("An ETag you hold: 304 when the resource still has it.")),
            }
        )
        get.setdefault("responses", {}).setdefault(
            "304",
            {
                "description": str(_("Not modified since the ETag you sent.")),
                "headers": etag_header,
            },
        )
        for method in ("get", "patch", "put"):
            ok = operations.get(method, {}).get("responses", {}).get("200")
            if ok is not None:
                ok.setdefault("headers", {}).update(etag_header)
        for method in ("patch", "put", "delete"):
            operation = operations.get(method)
            if operation is None:
                continue
            operation.setdefault("parameters", []).append(
                {
                    "in": "header",
                    "name": "If-Match",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": str(
                        _(
                            "The ETag you read: the change is made only if the resource still "
                            "has it (otherwise 412). Recommended for every update."
                        )
                    ),
                }
            )
            _add_error(operation, "412", _("The resource changed since you read it."))
    return result


def _add_error(operation: dict, code: str, description) -> None:
    responses = operation.setdefault("responses", {})
    if code in responses:
        return
    template = next((responses[c] for c in ("400", "401", "403", "404") if c in responses), None)
    entry = {"description": str(description)}
    if template is not None and "content" in template:
        entry["content"] = template["content"]
    responses[code] = entry
