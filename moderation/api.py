"""The review API under /api/v1/institutions/<institution>/: the queue, one post's review with
flags and renderings, decisions, policy, lexicon and the emergency stop.

Everything goes through ``moderation.services``; the errors are theirs (409 when another
reviewer decided first, 403 for one's own post, 400 without a reason).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import second_factor
from accounts.api.access import InstitutionAPIView, InstitutionViewSet, schema_generation
from accounts.api.parsers import JSONParser
from accounts.api.schema import ApiSchema, error_response
from accounts.api.validation import NoInput, RejectUnknownFields, validated
from accounts.errors import NotFound
from accounts.models import Membership
from accounts.numbers import parse_ascii_int
from accounts.permissions import Permission
from feeds.api import PublishTimeField
from feeds.models import POST_LANGUAGES, Post
from feeds.services import Keep
from moderation import queries, services
from moderation.forms import PreferencesForm
from moderation.models import (
    MAX_DEADLINE_HOURS,
    MAX_DOMAINS,
    MAX_LEAD_MINUTES,
    MAX_TERM_LENGTH,
    LexiconTerm,
    NotificationPreference,
    ReviewMode,
    TermKind,
)

_CONFLICT = gettext_lazy("The post was decided meanwhile, or is not in review (already_decided).")


class MemberRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    handle = serializers.CharField()
    display_name = serializers.CharField()


class QueueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="post.id")
    author = MemberRefSerializer(source="post.author")
    revision = serializers.IntegerField(source="post.latest_revision.number")
    content_hash = serializers.CharField(source="post.latest_revision.content_hash")
    first_line = serializers.CharField()
    is_correction = serializers.SerializerMethodField()
    publish_at = serializers.DateTimeField(source="post.publish_at", allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    is_late = serializers.BooleanField()
    waiting_since = serializers.DateTimeField(source="post.updated_at")
    flags = serializers.DictField(child=serializers.IntegerField())
    blocked = serializers.BooleanField()
    approvals = serializers.IntegerField()

    def get_is_correction(self, item) -> bool:
        return item.post.published_at is not None


class QueuePageSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = QueueItemSerializer(many=True)


class FlagSerializer(serializers.Serializer):
    check = serializers.CharField(source="check_name")
    category = serializers.CharField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    severity = serializers.CharField()
    explanation = serializers.CharField()
    matched = serializers.CharField()


class RenderingSerializer(serializers.Serializer):
    network = serializers.CharField()
    account = serializers.CharField()
    parts = serializers.ListField(child=serializers.CharField())
    length = serializers.IntegerField()
    limit = serializers.IntegerField()
    unit = serializers.CharField()
    content_hash = serializers.CharField()
    too_long = serializers.BooleanField()
    error = serializers.CharField()


class DecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    verdict = serializers.CharField()
    reviewer = MemberRefSerializer()
    revision = serializers.IntegerField(source="revision.number")
    reason = serializers.CharField()
    content_hash = serializers.CharField()
    rendered_hashes = serializers.DictField(child=serializers.CharField())
    policy_version = serializers.IntegerField()
    publish_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class DiffLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    text = serializers.CharField()


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="post.id")
    state = serializers.CharField(source="post.state")
    author = MemberRefSerializer(source="post.author")
    revision = serializers.IntegerField(source="revision.number")
    body = serializers.CharField(source="revision.body")
    body_format = serializers.CharField(source="revision.body_format")
    body_html = serializers.CharField(source="revision.body_html")
    language = serializers.CharField(source="revision.language")
    content_hash = serializers.CharField(source="revision.content_hash")
    is_correction = serializers.BooleanField()
    publish_at = serializers.DateTimeField(source="post.publish_at", allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    is_late = serializers.BooleanField()
    approvals = serializers.SerializerMethodField()
    approvals_required = serializers.IntegerField()
    needs_override = serializers.BooleanField()
    flags = FlagSerializer(many=True)
    renderings = RenderingSerializer(many=True)
    diff_previous = DiffLineSerializer(many=True)
    diff_public = DiffLineSerializer(many=True)
    decisions = DecisionSerializer(many=True)

    def get_approvals(self, review) -> list[int]:
        return [decision.reviewer_id for decision in review.approvals]


class ApproveInputSerializer(RejectUnknownFields, serializers.Serializer):
    publish_at = PublishTimeField(
        allow_null=True,
        required=False,
        help_text=gettext_lazy(
            "Confirms a new publish time (null: as soon as approved). Needed when the approval "
            "deadline or the publish time has passed; leave out to keep the post's time."
        ),
    )


class ReasonInputSerializer(RejectUnknownFields, serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, trim_whitespace=False)


class CommentInputSerializer(RejectUnknownFields, serializers.Serializer):
    comment = serializers.CharField(max_length=2000, allow_blank=True, trim_whitespace=False)


class PauseInputSerializer(RejectUnknownFields, serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, default="")


class ApprovalSerializer(serializers.Serializer):
    approvals = serializers.IntegerField()
    required = serializers.IntegerField()
    completed = serializers.BooleanField()
    state = serializers.CharField(source="post.state")


class PolicySerializer(RejectUnknownFields, serializers.Serializer):
    review_mode = serializers.ChoiceField(choices=ReviewMode.choices)
    approvals_required = serializers.ChoiceField(choices=[1, 2])
    approval_deadline_hours = serializers.IntegerField(min_value=0, max_value=MAX_DEADLINE_HOURS)
    minimum_lead_minutes = serializers.IntegerField(min_value=0, max_value=MAX_LEAD_MINUTES)
    allowed_domains = serializers.ListField(
        child=serializers.CharField(max_length=253), max_length=MAX_DOMAINS
    )
    denied_domains = serializers.ListField(
        child=serializers.CharField(max_length=253), max_length=MAX_DOMAINS
    )
    own_contacts = serializers.ListField(child=serializers.CharField(max_length=300), max_length=50)
    api_decisions_need_code = serializers.BooleanField(
        help_text=gettext_lazy(
            "Decisions through the API must carry a current second-factor code in the "
            "X-Podium-OTP header (403 second_factor_code_required without one)."
        )
    )
    version = serializers.IntegerField(read_only=True)
    trusted_members = serializers.SerializerMethodField()

    def get_trusted_members(self, policy) -> list[int]:
        from moderation.models import TrustedMember

        return sorted(TrustedMember.objects.values_list("membership_id", flat=True))


class LexiconTermSerializer(RejectUnknownFields, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    term = serializers.CharField(max_length=MAX_TERM_LENGTH)
    kind = serializers.ChoiceField(choices=TermKind.choices)
    language = serializers.ChoiceField(
        choices=[("", ""), *POST_LANGUAGES], default="", allow_blank=True
    )
    category = serializers.CharField(max_length=40, default="", allow_blank=True)


class PublishingSerializer(serializers.Serializer):
    publishing_paused = serializers.BooleanField()


# Views --------------------------------------------------------------------------------------


def _post(post_id: int) -> Post:
    post = Post.objects.select_related("institution").filter(id=post_id).first()
    if post is None:
        raise NotFound()
    return post


def _second_factor(request, membership) -> None:
    """Before a decision: the member's second factor as the institution asks it of the API
    (accounts.second_factor.require_for_api_decision)."""
    policy = services.policy_of(membership.institution)
    code_required = policy is not None and policy.api_decisions_need_code
    second_factor.require_for_api_decision(request, membership, code_required=code_required)


_SECOND_FACTOR_NOTE = gettext_lazy(
    "Second factor: where the institution requires one of reviewers and administrators, "
    "a member without one enrolled gets 403 `second_factor_required`. A decision may carry the "
    "current code of the member's authenticator app (or an unused recovery code) in the "
    "`X-Podium-OTP` header; a wrong or reused code is 403 `second_factor_code_invalid`. With a "
    "browser session instead of a token, the last second-factor check must be recent, as on "
    "the web, or the header must carry a code (403 `second_factor_code_required`). When the "
    "policy's `api_decisions_need_code` is on, a token must carry a code too."
)
_OTP_PARAMETER = OpenApiParameter(
    second_factor.OTP_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "A current second-factor code (authenticator app or unused recovery code); each code "
        "is accepted once."
    ),
)


class QueueSchema(ApiSchema):
    """The queue answers one page object (page, next, previous, results), not a bare list."""

    def _is_list_view(self, serializer=None) -> bool:
        return (
            False
            if getattr(self.view, "action", None) == "list"
            else super()._is_list_view(serializer)
        )


@extend_schema(tags=["review"])
class ReviewViewSet(InstitutionViewSet):
    """The review queue and decisions (reviewers and administrators)."""

    schema = QueueSchema()

    permission_map = {
        "list": Permission.REVIEW_POSTS,
        "retrieve": Permission.REVIEW_POSTS,
        "approve": Permission.REVIEW_POSTS,
        "reject": Permission.REVIEW_POSTS,
        "request_changes": Permission.REVIEW_POSTS,
        "override": Permission.EDIT_INSTITUTION,
        "retract": Permission.REVIEW_POSTS,
    }
    parser_classes = [JSONParser]
    pagination_class = None
    serializer_class = QueueItemSerializer
    filter_backends: list = []
    lookup_field = "id"
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Post]:
        if schema_generation(self):
            return Post.unscoped.none()
        return Post.objects.none()

    def _review(self, post_id: int) -> Response:
        review = queries.review_of(post_id, self.actor.membership)
        return Response(ReviewSerializer(review).data)

    @extend_schema(
        operation_id="institutions_review_list",
        summary=gettext_lazy("The review queue"),
        description=gettext_lazy(
            "Posts in review, most urgent first (nearest publish time, so nearest deadline; "
            "then longest waiting). Your own posts are left out."
        ),
        responses=QueuePageSerializer,
        parameters=[
            OpenApiParameter("author", int, description=gettext_lazy("Member id")),
            OpenApiParameter("flag", str, description=gettext_lazy("Flag category")),
            OpenApiParameter(
                "age", str, enum=list(queries.AGES), description=gettext_lazy("Waiting at least")
            ),
            OpenApiParameter("page", int),
        ],
    )
    def list(self, request, institution_slug: str):
        params = request.query_params
        author = params.get("author")
        author_id = parse_ascii_int(author, minimum=1) if author else None
        age = params.get("age", "")
        if (author and author_id is None) or (age and age not in queries.AGES):
            raise serializers.ValidationError(
                {"author" if author and author_id is None else "age": [
                    gettext_lazy("Not a valid filter value.")
                ]}
            )  # fmt: skip
        filters = queries.QueueFilter(author_id, params.get("flag", "")[:40], age)
        posts = queries.pending_reviews(self.actor.membership, filters)
        number = parse_ascii_int(params.get("page", "1"), minimum=1, maximum=10_000)
        if number is None:
            raise serializers.ValidationError({"page": [gettext_lazy("Not a page number.")]})
        page = queries.queue_page(posts, number)
        policy = services.current_policy(self.institution)
        items = queries.queue_items(page.items, policy)

        def link(to: int) -> str:
            query = params.copy()
            query["page"] = str(to)
            return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

        body = {
            "page": page.number,
            "next": link(page.number + 1) if page.has_next else None,
            "previous": link(page.number - 1) if page.has_previous else None,
            "results": QueueItemSerializer(items, many=True).data,
        }
        return Response(body)

    @extend_schema(
        summary=gettext_lazy("One post's review: text, flags, renderings, diffs, decisions"),
        responses=ReviewSerializer,
    )
    def retrieve(self, request, institution_slug: str, id: int):
        return self._review(id)

    @extend_schema(
        summary=gettext_lazy("Approve"),
        description=format_lazy(
            "{}\n\n{}",
            gettext_lazy(
                "Records your approval of the exact text and renderings; the post is approved "
                "when the policy's number of different reviewers approved the same hashes."
            ),
            _SECOND_FACTOR_NOTE,
        ),
        parameters=[_OTP_PARAMETER],
        request=ApproveInputSerializer,
        responses={200: ApprovalSerializer, 409: error_response(_CONFLICT)},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, institution_slug: str, id: int):
        data = validated(ApproveInputSerializer, request.data)
        _second_factor(request, self.actor.membership)
        publish_at = data.get("publish_at", Keep.TIME)
        outcome = services.approve(_post(id), self.actor.membership, publish_at=publish_at)
        return Response(ApprovalSerializer(outcome).data)

    @extend_schema(
        summary=gettext_lazy("Reject with a reason"),
        description=_SECOND_FACTOR_NOTE,
        parameters=[_OTP_PARAMETER],
        request=ReasonInputSerializer,
        responses={200: ReviewSerializer, 409: error_response(_CONFLICT)},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, institution_slug: str, id: int):
        data = validated(ReasonInputSerializer, request.data)
        _second_factor(request, self.actor.membership)
        services.reject(_post(id), self.actor.membership, data["reason"])
        return self._review(id)

    @extend_schema(
        summary=gettext_lazy("Request changes with a comment"),
        description=_SECOND_FACTOR_NOTE,
        parameters=[_OTP_PARAMETER],
        request=CommentInputSerializer,
        responses={200: ReviewSerializer, 409: error_response(_CONFLICT)},
    )
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, institution_slug: str, id: int):
        data = validated(CommentInputSerializer, request.data)
        _second_factor(request, self.actor.membership)
        services.request_changes(_post(id), self.actor.membership, data["comment"])
        return self._review(id)

    @extend_schema(
        summary=gettext_lazy("Override blocked terms (administrators)"),
        description=_SECOND_FACTOR_NOTE,
        parameters=[_OTP_PARAMETER],
        request=ReasonInputSerializer,
        responses={200: ReviewSerializer, 409: error_response(_CONFLICT)},
    )
    @action(detail=True, methods=["post"])
    def override(self, request, institution_slug: str, id: int):
        data = validated(ReasonInputSerializer, request.data)
        _second_factor(request, self.actor.membership)
        services.override(_post(id), self.actor.membership, data["reason"])
        return self._review(id)

    @extend_schema(
        summary=gettext_lazy("Retract with a public reason"),
        description=_SECOND_FACTOR_NOTE,
        parameters=[_OTP_PARAMETER],
        request=ReasonInputSerializer,
        responses={200: ReviewSerializer, 409: error_response(_CONFLICT)},
    )
    @action(detail=True, methods=["post"])
    def retract(self, request, institution_slug: str, id: int):
        data = validated(ReasonInputSerializer, request.data)
        _second_factor(request, self.actor.membership)
        services.retract(_post(id), self.actor.membership, data["reason"])
        return self._review(id)


@extend_schema(tags=["review"])
class PolicyView(InstitutionAPIView):
    """The review policy: read by reviewers, changed by administrators."""

    permission_map = {"get": Permission.REVIEW_POSTS, "patch": Permission.EDIT_INSTITUTION}
    parser_classes = [JSONParser]

    @extend_schema(summary=gettext_lazy("Read the review policy"), responses=PolicySerializer)
    def get(self, request, institution_slug: str):
        policy = services.current_policy(self.institution)
        return Response(PolicySerializer(policy).data)

    @extend_schema(
        summary=gettext_lazy("Change the review policy"),
        description=gettext_lazy("Send only what changes; the version goes up."),
        request=PolicySerializer,
        responses=PolicySerializer,
    )
    def patch(self, request, institution_slug: str):
        changes = validated(PolicySerializer, request.data, partial=True)
        policy = services.update_policy(self.institution, self.actor.membership, **changes)
        return Response(PolicySerializer(policy).data)


@extend_schema(tags=["review"])
class LexiconViewSet(InstitutionViewSet):
    """Blocked and flagged terms: read by reviewers, edited by administrators."""

    permission_map = {
        "list": Permission.REVIEW_POSTS,
        "create": Permission.EDIT_INSTITUTION,
        "destroy": Permission.EDIT_INSTITUTION,
    }
    parser_classes = [JSONParser]
    serializer_class = LexiconTermSerializer
    pagination_class = None
    filter_backends: list = []
    lookup_field = "id"
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[LexiconTerm]:
        if schema_generation(self):
            return LexiconTerm.unscoped.none()
        return LexiconTerm.objects.order_by("kind", "language", "term", "id")

    @extend_schema(summary=gettext_lazy("The lexicon"))
    def list(self, request, institution_slug: str):
        services.ensure_policy(self.institution)  # the sector's starting lexicon, on first use
        return Response(LexiconTermSerializer(self.get_queryset(), many=True).data)

    @extend_schema(
        summary=gettext_lazy("Add a term"),
        request=LexiconTermSerializer,
        responses={201: LexiconTermSerializer},
    )
    def create(self, request, institution_slug: str):
        data = validated(LexiconTermSerializer, request.data)
        item = services.add_lexicon_term(self.institution, self.actor.membership, **data)
        return Response(LexiconTermSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=gettext_lazy("Remove a term"), responses={204: None})
    def destroy(self, request, institution_slug: str, id: int):
        item = self.get_queryset().filter(id=id).first()
        if item is None:
            raise NotFound()
        services.remove_lexicon_term(item, self.actor.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["review"])
class PauseView(InstitutionAPIView):
    """The emergency stop: an administrator pauses all publishing at once."""

    permission_map = {"post": Permission.EDIT_INSTITUTION}
    parser_classes = [JSONParser]

    @extend_schema(
        summary=gettext_lazy("Pause all publishing"),
        request=PauseInputSerializer,
        responses=PublishingSerializer,
    )
    def post(self, request, institution_slug: str):
        data = validated(PauseInputSerializer, request.data)
        services.pause_publishing(self.institution, self.actor.membership, data["reason"])
        return Response({"publishing_paused": True})


@extend_schema(tags=["review"])
class ResumeView(InstitutionAPIView):
    """Lifting the stop takes a second person (administrator or reviewer)."""

    permission_map = {"post": Permission.REVIEW_POSTS}
    parser_classes = [JSONParser]

    @extend_schema(
        summary=gettext_lazy("Resume publishing"),
        description=_SECOND_FACTOR_NOTE,
        parameters=[_OTP_PARAMETER],
        request=None,
        responses=PublishingSerializer,
    )
    def post(self, request, institution_slug: str):
        _second_factor(request, self.actor.membership)
        services.resume_publishing(self.institution, self.actor.membership)
        return Response({"publishing_paused": False})


# Trusted members ----------------------------------------------------------------------------


class TrustSerializer(serializers.Serializer):
    member = serializers.IntegerField(help_text=gettext_lazy("The member's id."))
    trusted = serializers.BooleanField(
        help_text=gettext_lazy(
            "Whether the member's posts may skip review where the policy's review_mode is "
            "untrusted."
        )
    )
    policy_version = serializers.IntegerField(
        help_text=gettext_lazy("The policy's version; it goes up when the trust changes.")
    )


class _TrustView(InstitutionAPIView):
    """Mark a member trusted or not (administrators), as the policy page does; audited as there
    (``policy.trust`` / ``policy.distrust``, through ``services.set_trusted``)."""

    permission_map = {"post": Permission.EDIT_INSTITUTION}
    parser_classes = [JSONParser]
    trusted: bool

    def post(self, request, institution_slug: str, id: int):
        validated(NoInput, request.data)
        member = Membership.objects.filter(id=id).first()
        if member is None:
            raise NotFound(_NO_MEMBER)
        member.institution = self.institution
        services.set_trusted(member, self.actor.membership, self.trusted)
        policy = services.current_policy(self.institution)
        body = {"member": member.id, "trusted": self.trusted, "policy_version": policy.version}
        return Response(TrustSerializer(body).data)


_NO_MEMBER = gettext_lazy("There is no such member.")


@extend_schema(tags=["review"])
class TrustView(_TrustView):
    trusted = True

    @extend_schema(
        summary=gettext_lazy("Mark a member trusted"),
        description=gettext_lazy(
            "Where the policy's review_mode is untrusted, a trusted member's posts skip "
            "review. The policy's version goes up; marking a trusted member again changes "
            "nothing. Takes no body."
        ),
        request=None,
        responses=TrustSerializer,
    )
    def post(self, request, institution_slug: str, id: int):
        return super().post(request, institution_slug, id)


@extend_schema(tags=["review"])
class UntrustView(_TrustView):
    trusted = False

    @extend_schema(
        summary=gettext_lazy("Mark a member not trusted"),
        description=gettext_lazy(
            "The member's posts go to review again. The policy's version goes up; a member who "
            "is not trusted stays so and nothing changes. Takes no body."
        ),
        request=None,
        responses=TrustSerializer,
    )
    def post(self, request, institution_slug: str, id: int):
        return super().post(request, institution_slug, id)


# Notice preferences -------------------------------------------------------------------------


class NoticePreferencesSerializer(RejectUnknownFields, serializers.Serializer):
    """Which notices the caller receives by e-mail (the web's notices page, same choices)."""

    on_submission = serializers.BooleanField(
        help_text=PreferencesForm.base_fields["on_submission"].label
    )
    on_deadline = serializers.BooleanField(
        help_text=PreferencesForm.base_fields["on_deadline"].label
    )
    on_decision = serializers.BooleanField(
        help_text=PreferencesForm.base_fields["on_decision"].label
    )


@extend_schema(tags=["me"])
class NoticePreferencesView(InstitutionAPIView):
    """The caller's own notice preferences in the institution."""

    permission_map = {"get": Permission.VIEW_MEMBERS, "patch": Permission.EDIT_OWN_PROFILE}
    parser_classes = [JSONParser]

    def _render(self) -> dict:
        membership = self.actor.membership
        current = NotificationPreference.objects.filter(membership=membership).first()
        names = PreferencesForm.base_fields
        # No row yet: every notice (the model's defaults, as the web page shows them).
        values = {name: getattr(current, name) if current else True for name in names}
        return NoticePreferencesSerializer(values).data

    @extend_schema(
        operation_id="notices_retrieve",
        summary=gettext_lazy("Read your notice preferences"),
        responses=NoticePreferencesSerializer,
    )
    def get(self, request, institution_slug: str):
        return Response(self._render())

    @extend_schema(
        operation_id="notices_update",
        summary=gettext_lazy("Change your notice preferences"),
        description=gettext_lazy("Which notices you receive by e-mail. Send only what changes."),
        request=NoticePreferencesSerializer,
        responses=NoticePreferencesSerializer,
    )
    def patch(self, request, institution_slug: str):
        changes = validated(NoticePreferencesSerializer, request.data, partial=True)
        if changes:
            services.set_preferences(self.actor.membership, **changes)
        return Response(self._render())
