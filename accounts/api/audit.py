"""The audit log in the API: events with filters, verification of the chain, streamed export."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import audit
from accounts.api.access import InstitutionViewSet, schema_generation
from accounts.api.pagination import CursorPagination
from accounts.api.validation import IdFilter
from accounts.models import AuditEvent
from accounts.permissions import Permission


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "sequence", "created_at", "actor_kind", "actor_membership_id", "actor_user_id",
            "actor_label", "verb", "object_type", "object_id", "before", "after", "request_id",
            "previous_hash", "hash",
        ]  # fmt: skip
        read_only_fields = fields


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField(help_text=gettext_lazy("Events that verified."))
    first_bad_sequence = serializers.IntegerField(allow_null=True)
    first_bad_event_id = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_blank=True)


class AuditEventFilter(filters.FilterSet):
    verb = filters.CharFilter(help_text=gettext_lazy("An action, e.g. post.approve."))
    verb_prefix = filters.CharFilter(field_name="verb", lookup_expr="startswith")
    object_type = filters.CharFilter()
    object_id = filters.CharFilter()
    actor_membership_id = IdFilter()
    since = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields: list[str] = []


class AuditPagination(CursorPagination):
    ordering = "-sequence"


EXPORTS = {
    "jsonl": (audit.export_json_lines, "application/jsonl; charset=utf-8"),
    "csv": (audit.export_csv, "text/csv; charset=utf-8"),
}


@extend_schema(tags=["audit"])
class AuditEventViewSet(mixins.ListModelMixin, InstitutionViewSet):
    """The institution's tamper-evident record of every change (administrators)."""

    permission_map = {
        "list": Permission.VIEW_AUDIT_LOG,
        "verify": Permission.VIEW_AUDIT_LOG,
        "export": Permission.VIEW_AUDIT_LOG,
    }
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = AuditPagination

    def get_queryset(self):
        if schema_generation(self):
            return AuditEvent.unscoped.none()
        return AuditEvent.objects.all()

    @extend_schema(summary=gettext_lazy("List audit events, newest first"))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Verify the audit chain"),
        description=gettext_lazy(
            "Recomputes every event's hash in order; names the first event that was changed, "
            "or the first missing one."
        ),
        responses={200: VerificationSerializer},
    )
    @action(detail=False, methods=["get"])
    def verify(self, request, institution_slug: str):
        return Response(audit.verify(self.institution.id).as_dict())

    @extend_schema(
        summary=gettext_lazy("Export the audit log"),
        description=gettext_lazy(
            "Every event in chain order, streamed, as JSON Lines (as=jsonl) or CSV (as=csv); "
            "the same filters as the list apply."
        ),
        parameters=[
            OpenApiParameter(
                "as", OpenApiTypes.STR, enum=sorted(EXPORTS), default="jsonl", required=False
            )
        ],
        responses={
            (200, "application/jsonl"): OpenApiResponse(OpenApiTypes.STR),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
        },
    )
    @action(detail=False, methods=["get"])
    def export(self, request, institution_slug: str):
        chosen = request.query_params.get("as", "jsonl")
        if chosen not in EXPORTS:
            raise serializers.ValidationError({"as": [gettext_lazy("Use jsonl or csv.")]})
        filterset = self.filterset_class(request.query_params, queryset=AuditEvent.unscoped.none())
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        conditions = {
            f"{field.field_name}__{field.lookup_expr}": value
            for name, field in filterset.filters.items()
            if (value := filterset.form.cleaned_data.get(name)) not in (None, "")
        }
        writer, content_type = EXPORTS[chosen]
        response = StreamingHttpResponse(
            writer(self.institution.id, **conditions), content_type=content_type
        )
        response["Content-Disposition"] = f'attachment; filename="audit.{chosen}"'
        return response
