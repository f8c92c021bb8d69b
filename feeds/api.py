"""The posts part of the REST API: posts with their revisions, and image uploads.

Everything lives under ``/api/v1/institutions/<institution>/`` (routes in ``feeds.api_urls``).
Handlers are thin: an input serializer checks the shape of the request, one service of
``feeds.services`` does the work (and raises domain errors that ``accounts.api.errors`` renders),
an output serializer says what the client sees.

Who sees what: reviewers and administrators (through a token: one with the read scope) list
and read every post of the institution; everyone else only their own, and another member's post
looks missing (404). Only the author changes a post; reviewers and administrators retract.

Editing (PATCH) merges: fields left out keep the value of the latest revision (``attachments``,
when sent, replaces the whole list), and ``publish_at`` left out keeps the post's current time.
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.addresses import absolute_url
from accounts.api.access import InstitutionViewSet, schema_generation
from accounts.api.pagination import CursorPagination
from accounts.api.parsers import JSONParser, MultiPartParser
from accounts.api.schema import error_response
from accounts.api.validation import (
    EARLIEST,
    LATEST,
    DateTimeField,
    NoInput,
    RejectUnknownFields,
    validated,
)
from accounts.errors import DomainError
from accounts.models import Membership
from accounts.numbers import parse_ascii_int
from accounts.permissions import Permission
from feeds import services
from feeds.images import MAX_UPLOAD_BYTES, UPLOAD_LIMITS_TEXT
from feeds.models import (
    MAX_ATTACHMENTS,
    MAX_BODY_LENGTH,
    POST_LANGUAGES,
    Attachment,
    BodyFormat,
    Media,
    Post,
    PostState,
    Revision,
)
from feeds.public.addresses import PublicAddresses, post_permalink
from feeds.services import AttachmentInput, PostContent

MAX_RETRACTION_REASON = 1000


def image_url(serializer: serializers.Serializer, file) -> str | None:
    """An image's address under the request's institution: public while a public revision shows
    it, for members otherwise (feeds.public.views.post_image decides)."""
    if not file:
        return None
    request = serializer.context["request"]
    institution = getattr(request, "_request", request).institution
    return absolute_url(PublicAddresses(institution.slug).image(file.name))


# Output shapes ------------------------------------------------------------------------------


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["id", "handle", "display_name"]
        read_only_fields = fields


class MediaSerializer(serializers.ModelSerializer):
    """An uploaded image, stored without metadata, in a display and a small size."""

    url = serializers.SerializerMethodField(help_text=gettext_lazy("The display size."))
    small_url = serializers.SerializerMethodField(
        help_text=gettext_lazy("At most 640 pixels on the longer side, for lists.")
    )

    class Meta:
        model = Media
        fields = ["id", "url", "small_url", "width", "height", "content_type", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, media: Media) -> str:
        return image_url(self, media.image)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_small_url(self, media: Media) -> str | None:
        return image_url(self, media.small)


class AttachmentSerializer(serializers.ModelSerializer):
    """An image of a revision, in order, with its description for people who cannot see it."""

    media_id = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()
    small_url = serializers.SerializerMethodField()
    width = serializers.IntegerField(source="media.width", read_only=True)
    height = serializers.IntegerField(source="media.height", read_only=True)
    content_type = serializers.CharField(source="media.content_type", read_only=True)

    class Meta:
        model = Attachment
        fields = [
            "position", "media_id", "alt_text", "url", "small_url", "width", "height",
            "content_type",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment: Attachment) -> str:
        return image_url(self, attachment.media.image)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_small_url(self, attachment: Attachment) -> str | None:
        return image_url(self, attachment.media.small)


class RevisionSerializer(serializers.ModelSerializer):
    """One version of a post's content; immutable once submitted."""

    attachments = AttachmentSerializer(many=True, read_only=True)
    body_html = serializers.CharField(
        read_only=True, help_text=gettext_lazy("The body rendered and sanitised, as published.")
    )
    content_hash = serializers.CharField(
        read_only=True,
        help_text=gettext_lazy(
            "SHA-256 over text, format, language, images and alt texts; approval covers it."
        ),
    )
    created_by = serializers.IntegerField(source="created_by_id", read_only=True)

    class Meta:
        model = Revision
        fields = [
            "number", "body", "body_format", "language", "body_html", "content_hash",
            "attachments", "created_by", "created_at", "submitted_at", "approved_at",
            "published_at",
        ]  # fmt: skip
        read_only_fields = fields


class PostSerializer(serializers.ModelSerializer):
    """A post with its state, schedule and latest revision (the one its author works on)."""

    author = AuthorSerializer(read_only=True)
    retracted_by = AuthorSerializer(read_only=True, allow_null=True)
    public_url = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "The post's permanent public address once it has been published (after a "
            "retraction it shows the notice); null before."
        )
    )
    public_revision = serializers.SerializerMethodField(
        help_text=gettext_lazy("Number of the revision the public sees; null if none.")
    )
    latest_revision = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = [
            "id", "state", "author", "publish_at", "published_at", "corrected_at",
            "retracted_at", "retraction_reason", "retracted_by", "held_at", "held_reason",
            "created_at", "updated_at", "public_url", "public_revision", "latest_revision",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "publish_at": {
                "help_text": gettext_lazy("When the post goes public (UTC); null: on approval.")
            },
            "held_reason": {
                "help_text": gettext_lazy(
                    "Why a scheduled post waits for a person, e.g. author_left; empty if not held."
                )
            },
        }

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_public_url(self, post: Post) -> str | None:
        if post.published_at is None:
            return None
        return post_permalink(self.context["institution"], post)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_public_revision(self, post: Post) -> int | None:
        revision = _revision_of(post, post.public_revision_id)
        return revision.number if revision else None

    @extend_schema_field(RevisionSerializer)
    def get_latest_revision(self, post: Post) -> dict | None:
        revision = _revision_of(post, post.latest_revision_id)
        return RevisionSerializer(revision, context=self.context).data if revision else None


class PostDetailSerializer(PostSerializer):
    """A post with every revision, oldest first: the record of what was written and public."""

    revisions = RevisionSerializer(many=True, read_only=True)

    class Meta(PostSerializer.Meta):
        fields = [*PostSerializer.Meta.fields, "revisions"]
        read_only_fields = fields


def _revision_of(post: Post, revision_id: int | None) -> Revision | None:
    """A revision of the post, from the prefetched revisions when there are any."""
    if revision_id is None:
        return None
    prefetched = getattr(post, "_prefetched_objects_cache", {}).get("revisions")
    if prefetched is not None:
        return next((r for r in prefetched if r.id == revision_id), None)
    if revision_id == post.latest_revision_id:
        return post.latest_revision
    return post.public_revision


# Input shapes -------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "string",
        "example": "2025-03-01T08:00:00+01:00",
        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$",
    }
)
class PublishTimeField(DateTimeField):
    """ISO 8601. With an offset it is that instant; without one, a time on the institution's
    wall clock, which ``feeds.scheduling`` converts (refusing times that DST skips or repeats).
    Either way between 1970 and 2999, so no conversion between clocks can overflow."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            return value  # read on the institution's clock by the service, never guessed here
        self.check_range(value)
        return value.astimezone(dt.UTC)


class AttachmentInputSerializer(RejectUnknownFields, serializers.Serializer):
    """An image to attach: one of your uploads, with its alt text."""

    media_id = serializers.IntegerField(
        min_value=1, help_text=gettext_lazy("An image you uploaded through media/.")
    )
    alt_text = serializers.CharField(
        default="",
        allow_blank=True,
        trim_whitespace=False,
        help_text=gettext_lazy("Required: describes the image for people who cannot see it."),
    )


class PostInputSerializer(RejectUnknownFields, serializers.Serializer):
    """What an author writes. Rules (length, alt text, own images, times) live in the service."""

    body = serializers.CharField(
        trim_whitespace=False,
        max_length=MAX_BODY_LENGTH,
        help_text=gettext_lazy("The text, at most 5000 characters; not empty."),
    )
    body_format = serializers.ChoiceField(choices=BodyFormat.choices, default=BodyFormat.TEXT)
    language = serializers.ChoiceField(
        choices=POST_LANGUAGES, help_text=gettext_lazy("ISO 639-1 code of the post's language.")
    )
    publish_at = PublishTimeField(
        allow_null=True,
        default=None,
        help_text=gettext_lazy(
            "ISO 8601. With an offset (2025-03-01T08:00:00+01:00 or …Z) that instant; without "
            "one, the time on the institution's wall clock. A time that daylight saving skips "
            "or repeats, one in the past or more than a year ahead is refused. Null: publish "
            "as soon as approved."
        ),
    )
    attachments = AttachmentInputSerializer(
        many=True,
        default=list,
        max_length=MAX_ATTACHMENTS,
        help_text=gettext_lazy("Up to 4 images, in order. When editing, replaces the list."),
    )


class RetractInputSerializer(RejectUnknownFields, serializers.Serializer):
    """Why the post is taken down; readers see it."""

    reason = serializers.CharField(
        max_length=MAX_RETRACTION_REASON,
        help_text=gettext_lazy("Shown publicly in place of the post; required."),
    )


class MediaUploadSerializer(RejectUnknownFields, serializers.Serializer):
    """An image file, sent as multipart/form-data."""

    file = serializers.FileField(
        help_text=format_lazy(
            gettext_lazy("A JPEG, PNG, WebP or GIF image: {limits}."), limits=UPLOAD_LIMITS_TEXT
        )
    )


def _attachments(items) -> tuple[AttachmentInput, ...]:
    return tuple(AttachmentInput(item["media_id"], item["alt_text"]) for item in items)


# Filters ------------------------------------------------------------------------------------

# A "+" in a query string arrives as a space: "08:00:00 01:00" was meant as "08:00:00+01:00".
_SPACE_FOR_PLUS = re.compile(r"(T[\d:.]+) (\d{2}(?::?\d{2})?)$")


class InstantField(forms.Field):
    """An ISO 8601 date or date and time; naive values are read on the institution's clock."""

    default_error_messages = {
        "invalid": gettext_lazy(
            "Use an ISO 8601 date or time, such as 2025-03-01 or 2025-03-01T08:00:00+01:00."
        )
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = _SPACE_FOR_PLUS.sub(r"\1+\2", str(value).strip())
        try:
            parsed = parse_datetime(text) or parse_date(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        # Far from the range any post lives in, and converting it between clocks could overflow.
        if isinstance(parsed, dt.datetime):
            wall_clock = parsed.replace(tzinfo=None)
        else:
            wall_clock = dt.datetime.combine(parsed, dt.time.min)
        if not EARLIEST <= wall_clock <= LATEST:
            raise forms.ValidationError(
                DateTimeField.default_error_messages["out_of_range"], code="out_of_range"
            )
        return parsed


class InstantFilter(filters.Filter):
    """Compares a time column with an instant; a date means its midnight at the institution."""

    field_class = InstantField

    def filter(self, qs, value):
        if value is None:
            return qs
        if not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time.min)
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.parent.request.institution.zone)
        return super().filter(qs, value)


class PostFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=PostState.choices)
    author = filters.CharFilter(method="filter_author")
    mine = filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_mine"
    )
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")
    created_before = InstantFilter(field_name="created_at", lookup_expr="lt")
    updated_after = InstantFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = InstantFilter(field_name="updated_at", lookup_expr="lt")
    published_after = InstantFilter(field_name="published_at", lookup_expr="gte")
    published_before = InstantFilter(field_name="published_at", lookup_expr="lt")

    class Meta:
        model = Post
        fields: list[str] = []

    def filter_author(self, posts: QuerySet[Post], name: str, value: str) -> QuerySet[Post]:
        value = value.strip()
        author_id = parse_ascii_int(value, minimum=1)
        if author_id is not None:
            return posts.filter(author_id=author_id)
        return posts.filter(author__handle=value.removeprefix("@").lower())

    def filter_mine(self, posts: QuerySet[Post], name: str, value: str) -> QuerySet[Post]:
        return posts.filter(author=self.request.actor.membership) if value == "true" else posts


_TIME_RANGE_HELP = gettext_lazy(
    "ISO 8601 date or date and time; without an offset, on the institution's clock. "
    "*_after includes the instant, *_before excludes it."
)
_TIME_EXAMPLES = [
    OpenApiExample("date", value="2025-03-01"),
    OpenApiExample("instant", value="2025-03-01T08:00:00+01:00"),
]
POST_FILTER_PARAMETERS = [
    OpenApiParameter(
        "state",
        {"type": "array", "items": {"type": "string", "enum": PostState.values}},
        explode=True,
        description=gettext_lazy("Only posts in these states; repeat the parameter for several."),
    ),
    OpenApiParameter(
        "author", str, description=gettext_lazy("A member's id or handle (with or without @).")
    ),
    OpenApiParameter(
        "mine", bool, description=gettext_lazy("true: only posts you wrote yourself.")
    ),
    *(
        OpenApiParameter(
            f"{column}_{side}", str, description=_TIME_RANGE_HELP, examples=_TIME_EXAMPLES
        )
        for column in ("created", "updated", "published")
        for side in ("after", "before")
    ),
]


# Endpoints ----------------------------------------------------------------------------------


_ILLEGAL = gettext_lazy("Not possible in the post's present state (illegal_transition).")
_NOT_AUTHOR = gettext_lazy("Only the author changes a post.")
_AUTHOR_ACTION_RESPONSES = {
    200: PostDetailSerializer,
    403: error_response(_NOT_AUTHOR),
    409: error_response(_ILLEGAL),
}


@extend_schema(tags=["posts"])
class PostViewSet(InstitutionViewSet):
    """Posts of the institution: write drafts, edit, submit to review, withdraw, retract."""

    permission_map = {
        # Reading needs only the read scope; whose posts one sees is decided in get_queryset.
        "list": Permission.VIEW_OWN_POSTS,
        "retrieve": Permission.VIEW_OWN_POSTS,
        "create": Permission.WRITE_POSTS,
        "partial_update": Permission.WRITE_POSTS,
        "destroy": Permission.WRITE_POSTS,
        "submit": Permission.WRITE_POSTS,
        "withdraw": Permission.WRITE_POSTS,
        "discard_correction": Permission.WRITE_POSTS,
        "retract": Permission.REVIEW_POSTS,
    }
    serializer_class = PostSerializer
    filterset_class = PostFilter
    parser_classes = [JSONParser]
    lookup_field = "id"
    lookup_value_converter = "int"
    # Newest first by id (the paginator's ordering): an id never changes, so walking the pages
    # never skips or repeats a post, even while posts are edited (updated_at moves) meanwhile.
    pagination_class = CursorPagination

    def get_queryset(self) -> QuerySet[Post]:
        if schema_generation(self):
            # The schema generator runs outside any institution and only needs the model.
            return Post.unscoped.none()
        posts = Post.objects.select_related("author", "retracted_by")
        attachments = Attachment.objects.select_related("media").order_by("position")
        if self.action == "list":
            # A constant number of queries per page: the latest revisions and their images.
            posts = posts.select_related("latest_revision", "public_revision").prefetch_related(
                Prefetch("latest_revision__attachments", queryset=attachments)
            )
        else:
            revisions = Revision.objects.order_by("number").prefetch_related(
                Prefetch("attachments", queryset=attachments)
            )
            posts = posts.prefetch_related(Prefetch("revisions", queryset=revisions))
        # Retracting is a reviewer's act on any post; everything else sees what the role shows.
        if self.action == "retract" or self.actor.can(Permission.VIEW_ALL_POSTS):
            return posts
        return posts.filter(author=self.actor.membership)

    def filter_queryset(self, queryset: QuerySet[Post]) -> QuerySet[Post]:
        # Filters belong to the list; a single post is found by its id alone.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if not schema_generation(self):
            context["institution"] = self.institution
        return context

    def _render(self, post: Post, status_code: int = status.HTTP_200_OK, **kwargs) -> Response:
        post = self.get_queryset().get(id=post.id)  # fresh, with every revision
        body = PostDetailSerializer(post, context=self.get_serializer_context()).data
        return Response(body, status=status_code, **kwargs)

    @extend_schema(
        summary=gettext_lazy("List posts"),
        description=gettext_lazy(
            "Newest first. Reviewers and administrators see every post of the institution, "
            "authors their own. Filters combine with AND."
        ),
        parameters=POST_FILTER_PARAMETERS,
    )
    def list(self, request, institution_slug: str):
        posts = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(posts)
        body = self.get_serializer(page, many=True).data
        return self.get_paginated_response(body)

    @extend_schema(
        summary=gettext_lazy("Read a post with all its revisions"),
        responses=PostDetailSerializer,
    )
    def retrieve(self, request, institution_slug: str, id: int):
        return Response(
            PostDetailSerializer(self.get_object(), context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary=gettext_lazy("Write a draft"),
        description=gettext_lazy(
            "Creates a post in state draft with its first revision. Attach images uploaded "
            "through media/, each with alt text."
        ),
        request=PostInputSerializer,
        responses={201: PostDetailSerializer},
    )
    def create(self, request, institution_slug: str):
        data = validated(PostInputSerializer, request.data)
        content = PostContent(
            body=data["body"],
            language=data["language"],
            body_format=data["body_format"],
            attachments=_attachments(data["attachments"]),
        )
        post = services.create_post(self.actor.membership, content, publish_at=data["publish_at"])
        location = reverse(
            "feeds_api:post-detail", kwargs={"institution_slug": institution_slug, "id": post.id}
        )
        return self._render(post, status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(
        summary=gettext_lazy("Edit a post"),
        description=gettext_lazy(
            "Send only what changes: other fields keep the latest revision's values and "
            "`attachments`, when sent, replaces the list; without `publish_at` the post keeps "
            "its time (which is checked again). A draft that was never submitted changes in "
            "place; anything submitted gets a new revision and goes back to draft, and for a "
            "published post that revision is a correction which the public sees only once "
            "approved."
        ),
        request=PostInputSerializer,
        responses={
            200: PostDetailSerializer,
            403: error_response(_NOT_AUTHOR),
            409: error_response(gettext_lazy("The post was rejected or retracted.")),
        },
    )
    def partial_update(self, request, institution_slug: str, id: int):
        post = self.get_object()
        if post.author_id != self.actor.membership.id:
            # The service checks this too; checked first here so that a reviewer hears "not
            # yours" rather than a complaint about the fields sent.
            raise services.PostNotEditable()
        changes = validated(PostInputSerializer, request.data, partial=True)
        if not changes:
            raise DomainError(_("Send at least one field to change."))
        latest = _revision_of(post, post.latest_revision_id)
        if "attachments" in changes:
            attachments = _attachments(changes["attachments"])
        else:
            attachments = tuple(
                AttachmentInput(a.media_id, a.alt_text) for a in latest.attachments.all()
            )
        content = PostContent(
            body=changes.get("body", latest.body),
            language=changes.get("language", latest.language),
            body_format=changes.get("body_format", latest.body_format),
            attachments=attachments,
        )
        publish_at = changes.get("publish_at", post.publish_at)
        if post.published_at is not None and publish_at != post.publish_at:
            raise DomainError(
                _("This post has been published; its publish time cannot change any more."),
                field="publish_at",
            )
        post = services.edit_post(post, self.actor.membership, content, publish_at=publish_at)
        return self._render(post)

    @extend_schema(
        summary=gettext_lazy("Delete a draft"),
        description=gettext_lazy("Only drafts that were never submitted can be deleted."),
        responses={204: None, 403: error_response(_NOT_AUTHOR), 409: error_response(_ILLEGAL)},
    )
    def destroy(self, request, institution_slug: str, id: int):
        services.delete_post(self.get_object(), self.actor.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=gettext_lazy("Submit for review"),
        description=gettext_lazy(
            "From draft or changes_requested. Where the institution does not require review "
            "the post is approved at once, and published unless it has a later publish time. "
            "Takes no body."
        ),
        request=None,
        responses=_AUTHOR_ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, institution_slug: str, id: int):
        post = self.get_object()
        validated(NoInput, request.data)
        return self._render(services.submit_post(post, self.actor.membership))

    @extend_schema(
        summary=gettext_lazy("Withdraw from review"),
        description=gettext_lazy(
            "Back to draft; the submitted revision stays on record. Takes no body."
        ),
        request=None,
        responses=_AUTHOR_ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, institution_slug: str, id: int):
        post = self.get_object()
        validated(NoInput, request.data)
        return self._render(services.withdraw_post(post, self.actor.membership))

    @extend_schema(
        summary=gettext_lazy("Discard an unfinished correction"),
        description=gettext_lazy(
            "For a published post whose correction is a draft or has changes requested: the "
            "public text stays as it is. Takes no body."
        ),
        request=None,
        responses=_AUTHOR_ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"], url_path="discard-correction")
    def discard_correction(self, request, institution_slug: str, id: int):
        post = self.get_object()
        validated(NoInput, request.data)
        return self._render(services.discard_correction(post, self.actor.membership))

    @extend_schema(
        summary=gettext_lazy("Retract a post"),
        description=gettext_lazy(
            "Reviewers and administrators. A published post is replaced by a public notice "
            "with the reason; its history stays."
        ),
        request=RetractInputSerializer,
        responses={200: PostDetailSerializer, 409: error_response(_ILLEGAL)},
    )
    @action(detail=True, methods=["post"])
    def retract(self, request, institution_slug: str, id: int):
        post = self.get_object()
        reason = validated(RetractInputSerializer, request.data)["reason"]
        return self._render(services.retract_post(post, by=self.actor.membership, reason=reason))


@extend_schema(tags=["media"])
class MediaViewSet(InstitutionViewSet):
    """Images to attach to posts. They are re-encoded without metadata (EXIF, GPS, XMP)."""

    permission_map = {
        "create": Permission.WRITE_POSTS,
        "retrieve": Permission.VIEW_OWN_POSTS,
    }
    serializer_class = MediaSerializer
    parser_classes = [MultiPartParser]
    filter_backends: list = []
    pagination_class = None
    lookup_field = "id"
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Media]:
        if schema_generation(self):
            # The schema generator runs outside any institution and only needs the model.
            return Media.unscoped.none()
        return Media.objects.filter(uploaded_by=self.actor.membership)

    @extend_schema(
        summary=gettext_lazy("Upload an image"),
        description=gettext_lazy(
            "multipart/form-data with the image in `file`. Attach it to a post by its id, "
            "with alt text."
        ),
        request={"multipart/form-data": MediaUploadSerializer},
        responses={
            201: MediaSerializer,
            400: error_response(gettext_lazy("Not an image that can be read, or no file.")),
            413: error_response(UPLOAD_LIMITS_TEXT),
            415: error_response(gettext_lazy("Not multipart/form-data.")),
        },
    )
    def create(self, request, institution_slug: str):
        upload = validated(MediaUploadSerializer, request.data)["file"]
        # Read one byte past the limit: enough for the service to refuse, never the whole file.
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        media = services.upload_media(self.actor.membership, data)
        return Response(self.get_serializer(media).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=gettext_lazy("Read one of your images"))
    def retrieve(self, request, institution_slug: str, id: int):
        return Response(self.get_serializer(self.get_object()).data)
