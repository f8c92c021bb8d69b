"""Webhooks in the API: endpoints (with their secret, shown once, and its rotation), the events
sent to them with every attempt, and "send again". Administrators only."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import webhooks
from accounts.api.access import InstitutionViewSet, schema_generation
from accounts.api.parsers import JSONParser
from accounts.api.schema import error_response
from accounts.api.validation import IdFilter, NoInput, RejectUnknownFields, validated
from accounts.models import WebhookAttempt, WebhookEndpoint, WebhookEvent
from accounts.permissions import Permission

_EVENT_TYPES = serializers.ListField(
    child=serializers.ChoiceField(choices=list(webhooks.EVENT_TYPES)),
    min_length=1,
    max_length=len(webhooks.EVENT_TYPES),
    help_text=gettext_lazy("The event types to receive."),
)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.CharField())
    secret_rotation_ends_at = serializers.DateTimeField(
        source="previous_secret_expires_at", read_only=True, allow_null=True
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "created_at",
            "updated_at",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "secret_rotation_ends_at",
        ]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.SerializerMethodField(
        help_text=gettext_lazy("The signing secret (whsec_…), shown this once.")
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, endpoint: WebhookEndpoint) -> str:
        return self.context["secret"]


class WebhookEndpointInputSerializer(RejectUnknownFields, serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = _EVENT_TYPES
    is_active = serializers.BooleanField(required=False)


class RotateSecretSerializer(RejectUnknownFields, serializers.Serializer):
    overlap_hours = serializers.IntegerField(
        min_value=0,
        max_value=168,
        default=24,
        help_text=gettext_lazy("How long the old secret keeps signing beside the new one."),
    )


class RotatedSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text=gettext_lazy("The new secret, shown this once."))
    previous_secret_expires_at = serializers.DateTimeField()


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "duration_ms", "status_code", "error", "succeeded"]
        read_only_fields = fields


class WebhookEventSerializer(serializers.ModelSerializer):
    endpoint = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = WebhookEvent
        fields = [
            "id",
            "event_id",
            "event_type",
            "endpoint",
            "state",
            "attempts",
            "created_at",
            "next_attempt_at",
            "delivered_at",
            "last_status_code",
            "last_error",
        ]
        read_only_fields = fields


class WebhookEventDetailSerializer(WebhookEventSerializer):
    payload = serializers.JSONField(read_only=True)
    attempt_list = WebhookAttemptSerializer(source="attempt_rows", many=True, read_only=True)

    class Meta(WebhookEventSerializer.Meta):
        fields = [*WebhookEventSerializer.Meta.fields, "payload", "attempt_list"]
        read_only_fields = fields


_ADMIN = Permission.EDIT_INSTITUTION


@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, InstitutionViewSet):
    """Endpoints that receive the institution's events, signed (Standard Webhooks)."""

    permission_map = {
        "list": _ADMIN,
        "retrieve": _ADMIN,
        "create": _ADMIN,
        "partial_update": _ADMIN,
        "destroy": _ADMIN,
        "rotate_secret": _ADMIN,
    }
    serializer_class = WebhookEndpointSerializer
    filter_backends: list = []
    parser_classes = [JSONParser]
    lookup_field = "id"

    def get_queryset(self):
        if schema_generation(self):
            # The schema generator runs outside any institution and only needs the model.
            return WebhookEndpoint.unscoped.none()
        return WebhookEndpoint.objects.all()

    @extend_schema(summary=gettext_lazy("List webhook endpoints"))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary=gettext_lazy("Read a webhook endpoint"))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Register a webhook endpoint"),
        description=gettext_lazy(
            "The response carries the signing secret in `secret`, this once. Addresses on "
            "loopback, private, link-local or reserved networks are refused unless the operator "
            "allows them; redirects are never followed."
        ),
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
    )
    def create(self, request, institution_slug: str):
        data = validated(WebhookEndpointInputSerializer, request.data)
        endpoint, secret = webhooks.create_endpoint(
            self.institution,
            self.actor.membership,
            url=data["url"],
            event_types=data["event_types"],
            description=data.get("description", ""),
            is_active=data.get("is_active", True),
        )
        body = WebhookEndpointCreatedSerializer(endpoint, context={"secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(
        summary=gettext_lazy("Change a webhook endpoint"),
        description=gettext_lazy(
            "Send only what changes. Switching an endpoint on again starts its failure count "
            "over and sends the events that waited."
        ),
        request=WebhookEndpointInputSerializer,
        responses=WebhookEndpointSerializer,
    )
    def partial_update(self, request, institution_slug: str, id: int):
        endpoint = self.get_object()
        changes = validated(WebhookEndpointInputSerializer, request.data, partial=True)
        endpoint = webhooks.update_endpoint(endpoint, self.actor.membership, **changes)
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(summary=gettext_lazy("Remove a webhook endpoint"), responses={204: None})
    def destroy(self, request, institution_slug: str, id: int):
        webhooks.delete_endpoint(self.get_object(), self.actor.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=gettext_lazy("Rotate the signing secret"),
        description=gettext_lazy(
            "Returns the new secret this once. During the overlap every delivery carries two "
            "signatures (old and new secret) in webhook-signature."
        ),
        request=RotateSecretSerializer,
        responses=RotatedSecretSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, institution_slug: str, id: int):
        endpoint = self.get_object()
        hours = validated(RotateSecretSerializer, request.data)["overlap_hours"]
        secret = webhooks.rotate_secret(
            endpoint, self.actor.membership, overlap=timedelta(hours=hours)
        )
        endpoint.refresh_from_db()
        body = {"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at}
        return Response(RotatedSecretSerializer(body).data, headers={"Cache-Control": "no-store"})


class WebhookEventFilter(filters.FilterSet):
    endpoint = IdFilter(field_name="endpoint_id")
    state = filters.ChoiceFilter(choices=WebhookEvent.State.choices)
    event_type = filters.ChoiceFilter(choices=[(name, name) for name in webhooks.EVENT_TYPES])

    class Meta:
        model = WebhookEvent
        fields = ["endpoint", "state", "event_type"]


@extend_schema(tags=["webhooks"])
class WebhookEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, InstitutionViewSet):
    """Events sent (or waiting to be sent) to the endpoints, with every attempt."""

    permission_map = {"list": _ADMIN, "retrieve": _ADMIN, "send_again": _ADMIN}
    serializer_class = WebhookEventSerializer
    filterset_class = WebhookEventFilter
    parser_classes = [JSONParser]
    lookup_field = "id"

    def get_queryset(self):
        if schema_generation(self):
            # The schema generator runs outside any institution and only needs the model.
            return WebhookEvent.unscoped.none()
        events = WebhookEvent.objects.all()
        if self.action == "list":
            return events
        return events.prefetch_related("attempt_rows")

    @extend_schema(summary=gettext_lazy("List webhook events"))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Read a webhook event with its attempts"),
        responses=WebhookEventDetailSerializer,
    )
    def retrieve(self, request, *args, **kwargs):
        return Response(WebhookEventDetailSerializer(self.get_object()).data)

    @extend_schema(
        summary=gettext_lazy("Send an event again"),
        description=gettext_lazy(
            "Delivers the event once more with the same webhook-id. Takes no body."
        ),
        request=None,
        responses={
            200: WebhookEventDetailSerializer,
            409: error_response(
                gettext_lazy("The event is being sent right now, or its endpoint is switched off.")
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="send-again")
    def send_again(self, request, institution_slug: str, id: int):
        event = self.get_object()
        validated(NoInput, request.data)
        event = webhooks.send_again(event, self.actor.membership)
        return Response(WebhookEventDetailSerializer(self.get_queryset().get(id=event.id)).data)
