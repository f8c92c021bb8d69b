"""The composer (members only): write, preview, attach images, save and submit posts; an
author's own posts with their state, and each post's history of revisions with its actions.

Every page works as plain HTML forms; podium/static/podium/composer.js adds the live preview,
the character count and uploads without a page load (``preview`` and ``upload_media`` answer
JSON for it). Domain errors re-render the page with the author's input and a 4xx status; the
tenant middleware rolls back whatever the failed request wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import errors
from accounts.api.errors import json_error
from accounts.models import Membership
from accounts.permissions import Permission, has_permission
from feeds import lifecycle, queries, services
from feeds.forms import (
    ATTACH,
    PREVIEW,
    SAVE,
    SUBMIT,
    MyPostsFilter,
    PostForm,
    RetractForm,
    add_domain_error,
    form_for_post,
)
from feeds.images import MAX_UPLOAD_BYTES, ImageInvalid, ImageTooLarge
from feeds.models import (
    MAX_ALT_TEXT_LENGTH,
    MAX_ATTACHMENTS,
    MAX_BODY_LENGTH,
    BodyFormat,
    Post,
    PostState,
    Revision,
)
from feeds.rendering import excerpt, plain_text

MY_POSTS_PAGE_SIZE = 50
# The preview endpoint renders at most this much text (the counter already shows the overflow).
PREVIEW_MAX_CHARACTERS = MAX_BODY_LENGTH * 4
AUTHOR_ACTIONS = ("submit", "withdraw", "discard_correction", "delete")
ACTIONS = frozenset({*AUTHOR_ACTIONS, "retract"})


# Looking things up --------------------------------------------------------------------------


def _require_writer(request: HttpRequest) -> Membership:
    if not has_permission(request.membership, Permission.WRITE_POSTS):
        raise DjangoPermissionDenied
    return request.membership


def _own_post(request: HttpRequest, post_id: int) -> Post:
    """The member's own post; anybody else's looks missing."""
    try:
        post = queries.editable_post(request.membership, post_id)
    except errors.NotFound as error:
        raise Http404(error.message) from error
    post.institution = request.institution
    return post


def _visible_post(request: HttpRequest, post_id: int) -> Post:
    """The member's own post, or any post of the institution for those who see all posts."""
    membership = request.membership
    see_all = has_permission(membership, Permission.VIEW_ALL_POSTS)
    post = queries.post_for_member(membership, post_id, see_all=see_all)
    if post is None:
        raise Http404(_("There is no post at this address."))
    post.institution = request.institution
    return post


def _body_length(body: str) -> int:
    """Characters as the services count them (composer.js counts the same way)."""
    return len((body or "").replace("\r\n", "\n").strip())


def _read_upload(upload: UploadedFile) -> bytes:
    # One byte more than allowed is enough for feeds.images to refuse an oversized file.
    return upload.read(MAX_UPLOAD_BYTES + 1)


# The composer -------------------------------------------------------------------------------


def _state_note(post: Post | None, review_required: bool) -> str:
    """What saving means for a post in its present state, said before the author saves."""
    if post is None:
        return ""
    if post.published_at is not None and not post.is_retracted:
        if review_required:
            return _(
                "This post is published. Your changes go through review again; the published "
                "text stays until approved. Readers then see it as corrected, with the "
                "earlier text available."
            )
        return _(
            "This post is published. When you publish your changes, readers see it as "
            "corrected, with the earlier text available."
        )
    if post.state == PostState.SUBMITTED:
        return _(
            "This post is in review. Saving changes takes it out of review until you submit "
            "it again."
        )
    if post.state == PostState.APPROVED:
        return _(
            "This post is approved and scheduled. Saving changes cancels the approval: it "
            "goes through review again."
        )
    if post.state == PostState.CHANGES_REQUESTED:
        return _("A reviewer asked for changes. Edit the post and submit it again.")
    return ""


def _render_composer(
    request: HttpRequest,
    form: PostForm,
    post: Post | None,
    *,
    status: int = 200,
) -> HttpResponse:
    institution = request.institution
    body = form["body"].value() or ""
    body_format = form["body_format"].value() or BodyFormat.TEXT
    action_url = (
        reverse("feeds:edit", args=[institution.slug, post.id])
        if post is not None
        else reverse("feeds:compose", args=[institution.slug])
    )
    context = {
        "institution": institution,
        "post": post,
        "form": form,
        "is_correction": post is not None and post.published_at is not None,
        "state_note": _state_note(post, institution.review_required),
        "review_required": institution.review_required,
        "show_publish_at": "publish_at" in form.fields,
        "error_summary": form.error_summary(),
        "preview_html": services.preview_html(request.institution, body, body_format),
        "body_length": _body_length(body),
        "max_body_length": MAX_BODY_LENGTH,
        "max_attachments": MAX_ATTACHMENTS,
        "max_alt_length": MAX_ALT_TEXT_LENGTH,
        "action_url": action_url,
        "preview_url": reverse("feeds:preview", args=[institution.slug]),
        "upload_url": reverse("feeds:upload-media", args=[institution.slug]),
    }
    return render(request, "feeds/composer/compose.html", context, status=status)


def _form_status(form: PostForm) -> int:
    return 413 if form.has_error("new_image", "too_large") else 400


def _submitted_message(post: Post) -> str:
    if post.state == PostState.SUBMITTED:
        return _("Submitted for review. You will see the decision here.")
    if post.state == PostState.PUBLISHED:
        return _("Published.")
    if post.institution.publishing_paused:
        return _("Approved. Publishing is paused in this institution; it goes out when resumed.")
    if post.publish_at is not None:
        local = timezone.localtime(post.publish_at, post.institution.zone)
        return _("Approved. It will be published on %(time)s.") % {
            "time": date_format(local, "DATETIME_FORMAT")
        }
    return _("Approved.")


def _handle_composer(request: HttpRequest, post: Post | None) -> HttpResponse:
    membership = request.membership
    institution = request.institution
    form = PostForm(
        request.POST,
        request.FILES,
        institution=institution,
        intent=request.POST.get("intent", PREVIEW),
        show_publish_at=post is None or post.published_at is None,
    )
    form.attach_media(queries.uploads_of(membership, form.media_ids()))
    if not form.is_valid():
        if request.FILES.get("new_image") and not (
            form.has_error("new_image") or form.has_error("new_image_alt")
        ):
            form.add_error(
                "new_image",
                _("The image was not kept because of the problem shown; choose it again."),
            )
        return _render_composer(request, form, post, status=_form_status(form))

    added_row = None
    try:
        upload = form.cleaned_data.get("new_image")
        if upload:
            try:
                media = services.upload_media(membership, _read_upload(upload))
            except ImageInvalid as error:
                form.add_error("new_image", error.message)
                return _render_composer(request, form, post, status=error.status)
            added_row = form.add_row(media, (form.cleaned_data.get("new_image_alt") or "").strip())

        if form.intent in (PREVIEW, ATTACH):
            # Nothing is saved but the upload; show the page again with the image attached.
            return _render_composer(request, _continued(form, institution), post)

        if post is None:
            saved = services.create_post(
                membership, form.content(), publish_at=form.publish_at_value()
            )
        else:
            saved = services.edit_post(
                post, membership, form.content(), publish_at=form.publish_at_value()
            )
        if form.intent == SUBMIT:
            saved = services.submit_post(saved, membership)
    except errors.DomainError as error:
        if added_row is not None:
            # The failed request is rolled back, the upload with it.
            form.drop_row(added_row)
            form.add_error(
                "new_image",
                _("The image was not kept because of the problem shown; choose it again."),
            )
        form.add_service_error(error)
        return _render_composer(request, form, post, status=error.status)

    saved.institution = institution
    if form.intent == SAVE:
        if saved.published_at is not None:
            messages.success(
                request,
                _("Correction saved as a draft. The published text stays until it is approved.")
                if institution.review_required
                else _(
                    "Correction saved as a draft. The published text stays until you publish it."
                ),
            )
        else:
            messages.success(request, _("Draft saved."))
        return redirect("feeds:edit", institution.slug, saved.id)
    messages.success(request, _submitted_message(saved))
    return redirect("feeds:history", institution.slug, saved.id)


def _continued(form: PostForm, institution) -> PostForm:
    """A fresh form holding what was typed, for going on after a preview or an upload."""
    data = form.cleaned_data
    initial = {
        "body": data.get("body", ""),
        "body_format": data.get("body_format"),
        "language": data.get("language"),
    }
    if "publish_at" in form.fields:
        initial["publish_at"] = data.get("publish_at")
    return PostForm(
        institution=institution,
        intent=form.intent,
        rows=form.kept_rows,
        show_publish_at="publish_at" in form.fields,
        initial=initial,
    )


@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Write a new post."""
    _require_writer(request)
    if request.method == "POST":
        return _handle_composer(request, None)
    return _render_composer(request, PostForm(institution=request.institution), None)


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, institution_slug: str, post_id: int) -> HttpResponse:
    """Continue a draft, or change a post in review, scheduled or published (a correction)."""
    _require_writer(request)
    post = _own_post(request, post_id)
    if request.method == "POST":
        # A post that can no longer be edited is refused by the service, with the text kept.
        return _handle_composer(request, post)
    if not lifecycle.can(post, "edit"):
        return _render_history(
            request, post, status=409, error=_("This post can no longer be edited.")
        )
    return _render_composer(request, form_for_post(post, post.latest_revision), post)


@require_POST
def preview(request: HttpRequest, institution_slug: str) -> JsonResponse:
    """The rendered text for composer.js's live preview."""
    _require_writer(request)
    body = request.POST.get("body", "")
    if len(body) > PREVIEW_MAX_CHARACTERS:
        return _json_error(
            errors.DomainError(_("The text is far too long to preview."), field="body"), 413
        )
    html = services.preview_html(
        request.institution, body, request.POST.get("body_format", BodyFormat.TEXT)
    )
    return JsonResponse({"html": html, "length": _body_length(body), "limit": MAX_BODY_LENGTH})


@require_POST
def upload_media(request: HttpRequest, institution_slug: str) -> JsonResponse:
    """Store one image for composer.js; the post's form attaches it with its description."""
    membership = _require_writer(request)
    upload = request.FILES.get("image")
    try:
        if upload is None:
            raise ImageInvalid(_("Choose an image file to upload."), field="image")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ImageTooLarge(
                _("The image is larger than %(mb)d MB.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
                field="image",
            )
        media = services.upload_media(membership, _read_upload(upload))
    except errors.DomainError as error:
        return _json_error(error, error.status)
    return JsonResponse(
        {
            "id": media.id,
            "small_url": (media.small or media.image).url,
            "url": media.image.url,
            "width": media.width,
            "height": media.height,
        },
        status=201,
    )


def _json_error(error: errors.DomainError, status: int) -> JsonResponse:
    fields = {error.field: [error.message]} if error.field else {}
    return json_error(status, error.code, error.message, fields)


# My posts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostListItem:
    post: Post
    first_line: str
    can_edit: bool


def _first_line(revision: Revision | None) -> str:
    if revision is None:
        return ""
    for line in revision.body.splitlines():
        text = plain_text(line, revision.body_format)
        if text:
            return excerpt(text, 140)
    return ""


@require_http_methods(["GET"])
def my_posts(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """The member's posts, latest change first, each with its state; filterable by state."""
    membership = _require_writer(request)
    filter_form = MyPostsFilter(request.GET or None)
    posts = queries.posts_of_author(membership)
    status = 200
    state = ""
    if filter_form.is_bound:
        if filter_form.is_valid():
            state = filter_form.cleaned_data["state"]
        else:
            status = 400
    if state:
        posts = posts.filter(state=state)
    page = Paginator(posts, MY_POSTS_PAGE_SIZE).get_page(request.GET.get("page"))
    items = [
        PostListItem(post, _first_line(post.latest_revision), lifecycle.can(post, "edit"))
        for post in page.object_list
    ]
    context = {
        "institution": request.institution,
        "filter_form": filter_form,
        "state": state,
        "page": page,
        "items": items,
    }
    return render(request, "feeds/composer/my_posts.html", context, status=status)


# History and actions ------------------------------------------------------------------------


def _render_history(
    request: HttpRequest,
    post: Post,
    *,
    status: int = 200,
    error: str = "",
    retract_form: RetractForm | None = None,
) -> HttpResponse:
    membership = request.membership
    revisions = queries.revisions_of(post)
    is_author = post.author_id == membership.id
    actions = []
    if is_author and has_permission(membership, Permission.WRITE_POSTS):
        if lifecycle.can(post, "submit"):
            actions.append("submit")
        if lifecycle.can(post, "withdraw"):
            actions.append("withdraw")
        if lifecycle.can(post, "discard_correction"):
            actions.append("discard_correction")
        never_submitted = not any(revision.is_submitted for revision in revisions)
        if post.state == PostState.DRAFT and never_submitted:
            actions.append("delete")
    may_retract = has_permission(membership, Permission.REVIEW_POSTS) and lifecycle.can(
        post, "retract"
    )
    context = {
        "institution": request.institution,
        "post": post,
        "revisions": revisions,
        "is_author": is_author,
        "can_edit": is_author and lifecycle.can(post, "edit"),
        "actions": actions,
        "review_required": request.institution.review_required,
        "may_retract": may_retract,
        "retract_form": retract_form or (RetractForm() if may_retract else None),
        "error": error,
    }
    return render(request, "feeds/composer/history.html", context, status=status)


@require_http_methods(["GET"])
def history(request: HttpRequest, institution_slug: str, post_id: int) -> HttpResponse:
    """Every revision of a post and what can be done with it now."""
    return _render_history(request, _visible_post(request, post_id))


_DONE = {
    "withdraw": gettext_lazy("Withdrawn from review. The post is a draft again."),
    "discard_correction": gettext_lazy("Correction discarded. The published text stays as it is."),
    "delete": gettext_lazy("Draft deleted."),
    "retract": gettext_lazy("Post retracted. Readers now see the notice with your reason."),
}


@require_POST
def post_action(
    request: HttpRequest, institution_slug: str, post_id: int, action: str
) -> HttpResponse:
    """Submit, withdraw, delete a draft, discard a correction, or retract (reviewers)."""
    if action not in ACTIONS:
        raise Http404(_("There is no such action."))
    membership = request.membership
    post = _visible_post(request, post_id)
    slug = request.institution.slug
    retract_form = None
    try:
        if action == "retract":
            if not has_permission(membership, Permission.REVIEW_POSTS):
                raise errors.PermissionDenied(
                    _("Only reviewers and administrators can retract posts.")
                )
            retract_form = RetractForm(request.POST)
            if not retract_form.is_valid():
                return _render_history(request, post, status=400, retract_form=retract_form)
            services.retract_post(post, by=membership, reason=retract_form.cleaned_data["reason"])
        elif action == "submit":
            post = services.submit_post(post, membership)
        elif action == "withdraw":
            services.withdraw_post(post, membership)
        elif action == "discard_correction":
            services.discard_correction(post, membership)
        elif action == "delete":
            services.delete_post(post, membership)
    except errors.DomainError as error:
        if retract_form is not None and error.field == "reason":
            add_domain_error(retract_form, error)
            return _render_history(request, post, status=error.status, retract_form=retract_form)
        return _render_history(
            request, post, status=error.status, error=error.message, retract_form=retract_form
        )

    if action == "delete":
        messages.success(request, _DONE["delete"])
        return redirect("feeds:my-posts", slug)
    if action == "submit":
        post.institution = request.institution
        messages.success(request, _submitted_message(post))
    else:
        messages.success(request, _DONE[action])
    return redirect("feeds:history", slug, post_id)
