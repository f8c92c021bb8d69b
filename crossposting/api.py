"""The deliveries API under ``/api/v1/institutions/<slug>/deliveries/``: list and read each
delivery with its attempts, and retry one that failed; and a post's targets under
``/api/v1/institutions/<slug>/posts/<id>/targets/``: read them and choose them."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.api.access import InstitutionViewSet, schema_generation
from accounts.api.pagination import CursorPagination
from accounts.numbers import parse_ascii_int
from accounts.permissions import Permission
from crossposting import services
from crossposting.models import Delivery, DeliveryAttempt, DeliveryState, NetworkAccount
from feeds.models import Post


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["started_at", "ended_at", "outcome", "status_code", "error"]


class DeliverySerializer(serializers.ModelSerializer):
    network = serializers.CharField(source="account.network")
    account = serializers.CharField(source="account.handle")
    revision = serializers.IntegerField(source="revision.number")
    post = serializers.IntegerField(source="post_id")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "post",
            "revision",
            "network",
            "account",
            "kind",
            "part",
            "state",
            "remote_id",
            "remote_url",
            "attempts",
            "next_attempt_at",
            "last_error",
            "sent_at",
            "updated_at",
        ]


class DeliveryDetailSerializer(DeliverySerializer):
    attempts_made = AttemptSerializer(source="attempt_rows", many=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "attempts_made"]


@extend_schema(tags=["deliveries"])
class DeliveryViewSet(InstitutionViewSet):
    """Copies of posts on networks: each target's state, link, tries and last error."""

    permission_map = {
        "list": Permission.VIEW_ALL_POSTS,
        "retrieve": Permission.VIEW_ALL_POSTS,
        "retry": Permission.REVIEW_POSTS,
    }
    serializer_class = DeliverySerializer
    lookup_field = "id"
    lookup_value_converter = "int"
    pagination_class = CursorPagination

    def get_queryset(self) -> QuerySet[Delivery]:
        if schema_generation(self):
            return Delivery.unscoped.none()
        rows = Delivery.objects.select_related("account", "revision").prefetch_related(
            Prefetch("attempt_rows", queryset=DeliveryAttempt.objects.order_by("-started_at"))
        )
        if self.action != "list":
            return rows
        params = self.request.query_params
        state = params.get("state")
        if state is not None:
            if state not in DeliveryState.values:
                raise serializers.ValidationError(
                    {"state": [gettext_lazy("Use one of: %s.") % ", ".join(DeliveryState.values)]}
                )
            rows = rows.filter(state=state)
        if "post" in params:
            post = parse_ascii_int(params["post"], minimum=1)
            if post is None:
                raise serializers.ValidationError({"post": [gettext_lazy("Give a post's id.")]})
            rows = rows.filter(post_id=post)
        return rows

    @extend_schema(
        summary=gettext_lazy("List deliveries"),
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=DeliveryState.values),
            OpenApiParameter("post", OpenApiTypes.INT, description=gettext_lazy("A post's id")),
        ],
    )
    def list(self, request, institution_slug: str):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary=gettext_lazy("Read a delivery with its attempts"),
        responses=DeliveryDetailSerializer,
    )
    def retrieve(self, request, institution_slug: str, id: int):
        return Response(DeliveryDetailSerializer(self.get_object()).data)

    @extend_schema(
        summary=gettext_lazy("Try a failed delivery again"),
        request=None,
        responses=DeliveryDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, institution_slug: str, id: int):
        delivery = services.retry_delivery(self.get_object(), by=self.actor.membership)
        return Response(DeliveryDetailSerializer(self.get_queryset().get(id=delivery.id)).data)


class TargetAccountSerializer(serializers.ModelSerializer):
    chosen = serializers.SerializerMethodField()

    class Meta:
        model = NetworkAccount
        fields = ["id", "network", "handle", "chosen"]

    def get_chosen(self, account: NetworkAccount) -> bool:
        return account.id in self.context["chosen"]


# One object per post (the choice), not a list, although the router calls its GET "list".
@extend_schema_serializer(many=False)
class TargetsSerializer(serializers.Serializer):
    revision = serializers.IntegerField(help_text=gettext_lazy("The revision's number"))
    can_choose = serializers.BooleanField()
    accounts = TargetAccountSerializer(many=True)


class ChooseTargetsSerializer(serializers.Serializer):
    accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=True,
        max_length=100,
        help_text=gettext_lazy("Ids of the network accounts to copy the post to"),
    )


@extend_schema(tags=["deliveries"])
class PostTargetViewSet(InstitutionViewSet):
    """The network accounts a post's latest revision is copied to (reviewers approve them)."""

    permission_map = {"list": Permission.WRITE_POSTS, "create": Permission.WRITE_POSTS}
    serializer_class = TargetsSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Post]:
        # Only for the schema generator (which asks for the model); the actions use _post.
        return Post.unscoped.none()

    def _post(self) -> Post:
        post = (
            Post.objects.filter(id=self.kwargs["post_id"]).select_related("latest_revision").first()
        )
        membership = self.actor.membership
        mine = post is not None and post.author_id == membership.id
        if post is None or post.latest_revision is None:
            raise NotFound()
        if not mine and not self.actor.can(Permission.REVIEW_POSTS):
            raise NotFound()
        return post

    def _answer(self, post: Post) -> Response:
        chosen = {a.id for a in services.targets_of(post.latest_revision)}
        data = {
            "revision": post.latest_revision.number,
            "can_choose": services.can_choose_targets(post),
            "accounts": TargetAccountSerializer(
                services.usable_accounts(post), many=True, context={"chosen": chosen}
            ).data,
        }
        return Response(data)

    @extend_schema(summary=gettext_lazy("Read a post's targets"), responses=TargetsSerializer)
    def list(self, request, institution_slug: str, post_id: int):
        return self._answer(self._post())

    @extend_schema(
        summary=gettext_lazy("Choose a post's targets"),
        request=ChooseTargetsSerializer,
        # The choice replaces the one before: nothing new is created, so 200 as for an update.
        responses={200: TargetsSerializer},
    )
    def create(self, request, institution_slug: str, post_id: int):
        post = self._post()
        given = ChooseTargetsSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        usable = {a.id: a for a in services.usable_accounts(post)}
        wanted = given.validated_data["accounts"]
        unknown = [i for i in wanted if i not in usable]
        if unknown:
            raise serializers.ValidationError(
                {"accounts": [gettext_lazy("This account cannot be used for this post.")]}
            )
        services.choose_targets(post, [usable[i] for i in wanted], by=self.actor.membership)
        post.refresh_from_db()
        return self._answer(post)
