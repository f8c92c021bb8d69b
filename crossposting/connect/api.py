"""The network accounts API under ``/api/v1/institutions/<slug>/networks/``: list and read the
accounts the caller may see, start connecting one (the answer is the network's authorisation
address; the network sends the browser back to the web callback), connect Bluesky with an app
password, re-authorise, disconnect, and "use for new posts". Credentials never appear."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.access import InstitutionViewSet, schema_generation
from accounts.permissions import Permission
from crossposting.connect import queries, services
from crossposting.connect.services import STATE_SECONDS
from crossposting.models import Network, NetworkAccount

OWNERS = ("member", "institution")


class NetworkAccountSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()
    member = serializers.IntegerField(source="member_id", allow_null=True)
    server = serializers.CharField(source="base_url")

    class Meta:
        model = NetworkAccount
        fields = [
            "id",
            "network",
            "handle",
            "server",
            "profile_url",
            "owner",
            "member",
            "status",
            "status_reason",
            "token_expires_at",
            "default_for_new_posts",
            "max_characters",
            "created_at",
            "updated_at",
        ]

    def get_owner(self, account: NetworkAccount) -> str:
        return "institution" if account.member_id is None else "member"


class ConnectInput(serializers.Serializer):
    network = serializers.ChoiceField(choices=[n for n in Network.values if n != Network.BLUESKY])
    owner = serializers.ChoiceField(choices=OWNERS, default="member")
    instance = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        help_text=gettext_lazy("Mastodon only: the instance, like mastodon.social."),
    )


class BlueskyInput(serializers.Serializer):
    identifier = serializers.CharField(max_length=253)
    app_password = serializers.CharField(
        max_length=19,
        help_text=gettext_lazy("An app password (xxxx-xxxx-xxxx-xxxx), never the main password."),
    )
    server = serializers.CharField(required=False, allow_blank=True, max_length=300)
    owner = serializers.ChoiceField(choices=OWNERS, default="member")


class ReauthoriseInput(serializers.Serializer):
    app_password = serializers.CharField(
        required=False,
        max_length=19,
        help_text=gettext_lazy("Bluesky only: a new app password."),
    )


class DefaultInput(serializers.Serializer):
    use = serializers.BooleanField()


Authorisation = inline_serializer(
    "NetworkAuthorisation",
    {
        "authorization_url": serializers.URLField(),
        "expires_in": serializers.IntegerField(),
    },
)


def _authorisation(url: str) -> Response:
    return Response({"authorization_url": url, "expires_in": STATE_SECONDS})


@extend_schema(tags=["networks"])
class NetworkAccountViewSet(InstitutionViewSet):
    """The caller's network accounts and the institution's (administrators: every account)."""

    permission_map = {
        "list": Permission.WRITE_POSTS,
        "retrieve": Permission.WRITE_POSTS,
        "connect": Permission.WRITE_POSTS,
        "bluesky": Permission.WRITE_POSTS,
        "reauthorise": Permission.WRITE_POSTS,
        "disconnect": Permission.WRITE_POSTS,
        "default": Permission.WRITE_POSTS,
    }
    serializer_class = NetworkAccountSerializer
    lookup_field = "id"
    lookup_value_converter = "int"
    pagination_class = None

    def get_queryset(self) -> QuerySet[NetworkAccount]:
        if schema_generation(self):
            return NetworkAccount.unscoped.none()
        return queries.visible_accounts(self.actor.membership)

    def _input(self, serializer_class):
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data

    @extend_schema(summary=gettext_lazy("List network accounts"))
    def list(self, request, institution_slug: str):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    @extend_schema(summary=gettext_lazy("Read a network account"))
    def retrieve(self, request, institution_slug: str, id: int):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary=gettext_lazy("Start connecting an account"),
        description=gettext_lazy(
            "Answers the network's authorisation address. Open it in a browser signed in to "
            "Podium as the same member; the network sends the browser back to Podium, which "
            "stores the account. The address can be used once, within the time given."
        ),
        request=ConnectInput,
        responses=Authorisation,
    )
    @action(detail=False, methods=["post"])
    def connect(self, request, institution_slug: str):
        data = self._input(ConnectInput)
        url = services.start_connect(
            self.institution,
            data["network"],
            by=self.actor.membership,
            for_institution=data["owner"] == "institution",
            instance=data.get("instance", ""),
        )
        return _authorisation(url)

    @extend_schema(
        summary=gettext_lazy("Connect a Bluesky account with an app password"),
        request=BlueskyInput,
        responses={201: NetworkAccountSerializer},
    )
    @action(detail=False, methods=["post"])
    def bluesky(self, request, institution_slug: str):
        data = self._input(BlueskyInput)
        account = services.connect_bluesky(
            self.institution,
            identifier=data["identifier"],
            app_password=data["app_password"],
            server=data.get("server", ""),
            by=self.actor.membership,
            for_institution=data["owner"] == "institution",
        )
        return Response(self.get_serializer(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Authorise an account again"),
        description=gettext_lazy(
            "Bluesky: send a new app password; the answer is the account. Other networks: the "
            "answer is the authorisation address to open in a browser."
        ),
        request=ReauthoriseInput,
        responses={200: Authorisation, 201: NetworkAccountSerializer},
    )
    @action(detail=True, methods=["post"])
    def reauthorise(self, request, institution_slug: str, id: int):
        account = self.get_object()
        data = self._input(ReauthoriseInput)
        if account.network == Network.BLUESKY:
            account = services.connect_bluesky(
                self.institution,
                identifier=account.handle,
                app_password=data.get("app_password", ""),
                by=self.actor.membership,
                account=account,
            )
            return Response(self.get_serializer(account).data, status=status.HTTP_201_CREATED)
        url = services.start_connect(
            self.institution, account.network, by=self.actor.membership, account=account
        )
        return _authorisation(url)

    @extend_schema(
        summary=gettext_lazy("Disconnect an account"),
        description=gettext_lazy(
            "Withdraws Podium's access at the network where it offers that and deletes the "
            "credentials; the account stays listed (revoked) with its delivery history."
        ),
        request=None,
        responses=NetworkAccountSerializer,
    )
    @action(detail=True, methods=["post"])
    def disconnect(self, request, institution_slug: str, id: int):
        result = services.disconnect_account(self.get_object(), by=self.actor.membership)
        return Response(self.get_serializer(result.account).data)

    @extend_schema(
        summary=gettext_lazy("Choose whether new posts use the account"),
        request=DefaultInput,
        responses=NetworkAccountSerializer,
    )
    @action(detail=True, methods=["post"])
    def default(self, request, institution_slug: str, id: int):
        data = self._input(DefaultInput)
        account = services.set_account_default(
            self.get_object(), use=data["use"], by=self.actor.membership
        )
        return Response(self.get_serializer(account).data)
