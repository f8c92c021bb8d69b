"""The review pages (members only): the queue, one post's review with the decision forms,
policy and lexicon for administrators, the emergency stop, and notice preferences.

Plain HTML forms, usable by keyboard alone. Domain errors re-render the page with the message
and the error's status (409 when another reviewer decided first); the tenant middleware rolls
back whatever the failed request wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import errors, second_factor
from accounts.localtime import local_time_text, machine_time
from accounts.models import Membership
from accounts.pagecache import member_page_cache
from accounts.permissions import Permission, has_permission
from feeds.services import Keep
from moderation import queries, services
from moderation.forms import (
    ApproveForm,
    CommentForm,
    LexiconTermForm,
    PauseForm,
    PolicyForm,
    PreferencesForm,
    QueueFilterForm,
    ReasonForm,
    add_domain_error,
)
from moderation.models import LexiconTerm, NotificationPreference, Policy, TrustedMember


def _require(request: HttpRequest, permission: Permission) -> Membership:
    if not has_permission(request.membership, permission):
        raise DjangoPermissionDenied
    return request.membership


# The queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """One row of the queue page, every value ready to print (the loop only looks values up)."""

    item: queries.QueueItem
    url: str
    author: str
    is_correction: bool
    deadline: tuple[str, str] | None  # (datetime attribute, text on the institution's clock)
    publish_at: tuple[str, str] | None
    waiting_since: tuple[str, str]
    flags: list[tuple[str, int]]


def _moment(value, zone) -> tuple[str, str]:
    return machine_time(value, zone), local_time_text(value, zone)


def _queue_rows(items: list[queries.QueueItem], institution, base_url: str) -> list[QueueRow]:
    zone = institution.zone
    rows = []
    for item in items:
        post = item.post
        publish_at = post.publish_at if post.publish_at and not post.published_at else None
        rows.append(
            QueueRow(
                item=item,
                url=f"{base_url}{post.id}/",
                author=post.author.display_name,
                is_correction=post.published_at is not None,
                deadline=_moment(item.deadline, zone) if item.deadline else None,
                publish_at=_moment(publish_at, zone) if publish_at else None,
                waiting_since=_moment(post.updated_at, zone),
                flags=list(item.flags.items()),
            )
        )
    return rows


def _filter_fields(form: QueueFilterForm) -> list[dict]:
    """The filter form's selects with their options marked up once, in Python: the per-option
    templates of Django's widgets cost more than the rest of the queue page together."""
    fields = []
    for bound in form:
        value = str(bound.value() or "")
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (choice, mark_safe(" selected") if str(choice) == value else "", label)
                for choice, label in bound.field.choices
            ),
        )
        fields.append(
            {"id": bound.auto_id, "name": bound.name, "label": bound.label,
             "errors": bound.errors, "options": options}
        )  # fmt: skip
    return fields


@require_http_methods(["GET"])
@member_page_cache
def queue(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Posts waiting for review, most urgent first, with filters; keyset pages of 25. Kept
    while nothing in the institution changes, until the next deadline on the page passes."""
    membership = _require(request, Permission.REVIEW_POSTS)
    members = queries.author_choices()
    form = QueueFilterForm(
        request.GET or None, authors=members, categories=queries.flag_categories()
    )
    filters = queries.QueueFilter()
    status = 200
    error = ""
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            filters = queries.QueueFilter(data["author"], data["flag"], data["age"])
        else:
            status = 400
    posts = queries.pending_reviews(membership, filters)
    by_id = {member.id: member for member in members}
    after, before = request.GET.get("after", ""), request.GET.get("before", "")
    try:
        page = queries.queue_page_at(posts, after=after[:200], before=before[:200], members=by_id)
    except queries.BadCursor:
        status, error = 400, _("This page address is not valid; here is the first page.")
        page = queries.queue_page_at(posts, members=by_id)
    policy = services.current_policy(request.institution)
    total = queries.capped_count(posts)
    if filters == queries.QueueFilter():
        # The navigation's badge counts the same posts: no second count on this page.
        request.moderation_review_count = total
    query = request.GET.copy()
    for key in ("after", "before", "page"):
        query.pop(key, None)
    base_url = reverse("moderation:queue", args=[request.institution.slug])
    items = queries.queue_items(page.items, policy)
    context = {
        "institution": request.institution,
        "form": form,
        "filter_fields": _filter_fields(form),
        "page": page,
        "rows": _queue_rows(items, request.institution, base_url),
        "total": total,
        "count_cap": queries.COUNT_CAP,
        "policy": policy,
        "approvals_required": policy.approvals_required if policy else 1,
        "query": query.urlencode(),
        "error": error,
    }
    response = render(request, "moderation/queue.html", context, status=status)
    # A row turns late when its deadline passes: the page is true until the first one does.
    now = timezone.now()
    response.fresh_until = min(
        (item.deadline for item in items if item.deadline and item.deadline > now), default=None
    )
    return response


# One post's review --------------------------------------------------------------------------


def _render_review(
    request: HttpRequest,
    post_id: int,
    *,
    status: int = 200,
    error: str = "",
    forms: dict | None = None,
) -> HttpResponse:
    membership = request.membership
    try:
        review = queries.review_of(post_id, membership)
    except errors.NotFound as missing:
        raise Http404(missing.message) from missing
    post = review.post
    post.institution = request.institution
    is_author = post.author_id == membership.id
    in_review = post.state == "submitted"
    is_admin = has_permission(membership, Permission.EDIT_INSTITUTION)
    forms = forms or {}
    context = {
        "institution": request.institution,
        "review": review,
        "post": post,
        "error": error,
        "is_author": is_author,
        "may_decide": in_review and not is_author,
        "may_override": in_review and not is_author and is_admin and review.needs_override,
        "may_retract": post.state != "retracted" and post.published_at is not None,
        "approve_form": forms.get("approve") or ApproveForm(),
        "reject_form": forms.get("reject")
        or ReasonForm(prefix_id="reject", label=_("Reason for the rejection")),
        "changes_form": forms.get("request_changes") or CommentForm(),
        "override_form": forms.get("override")
        or ReasonForm(prefix_id="override", label=_("Reason for the override")),
        "retract_form": forms.get("retract")
        or ReasonForm(
            prefix_id="retract",
            label=_("Reason for the retraction"),
            help_text=_("Readers see this reason in place of the post."),
        ),
        "already_approved": any(d.reviewer_id == membership.id for d in review.approvals),
    }
    return render(request, "moderation/review.html", context, status=status)


@require_http_methods(["GET"])
def review(request: HttpRequest, institution_slug: str, post_id: int) -> HttpResponse:
    """One post as the public and each network will see it, its flags, diffs and decisions."""
    _require(request, Permission.REVIEW_POSTS)
    return _render_review(request, post_id)


def _post(request: HttpRequest, post_id: int):
    from feeds.models import Post

    post = Post.objects.select_related("institution").filter(id=post_id).first()
    if post is None:
        raise Http404(_("There is no post at this address."))
    return post


_DONE = {
    "reject": gettext_lazy("Rejected. The author sees your reason."),
    "request_changes": gettext_lazy("Sent back to the author with your comment."),
    "override": gettext_lazy("Override recorded. The post can now be approved."),
    "retract": gettext_lazy("Post retracted. Readers now see the notice with your reason."),
}


@require_POST
def decide(request: HttpRequest, institution_slug: str, post_id: int, verdict: str) -> HttpResponse:
    """Approve, reject, request changes, override blocked terms, or retract."""
    membership = _require(request, Permission.REVIEW_POSTS)
    post = _post(request, post_id)
    slug = request.institution.slug
    try:
        # A decision asks for a fresh second-factor code (then the form is sent again).
        second_factor.require_recent(request, reverse("moderation:review", args=[slug, post_id]))
    except second_factor.StepUpRequired as step_up:
        return step_up.response
    if verdict == "approve":
        form = ApproveForm(request.POST)
    elif verdict == "request_changes":
        form = CommentForm(request.POST)
    else:
        form = ReasonForm(request.POST, prefix_id=verdict)
    if not form.is_valid():
        return _render_review(request, post_id, status=400, forms={verdict: form})
    data = form.cleaned_data
    try:
        if verdict == "approve":
            publish_at = Keep.TIME
            if data["publish_now"]:
                publish_at = None
            elif data["publish_at"] is not None:
                publish_at = data["publish_at"]
            outcome = services.approve(post, membership, publish_at=publish_at)
            if outcome.completed:
                message = _("Approved.")
            else:
                message = _("Your approval is recorded (%(count)d of %(required)d).") % {
                    "count": outcome.approvals,
                    "required": outcome.required,
                }
        elif verdict == "reject":
            services.reject(post, membership, data["reason"])
        elif verdict == "request_changes":
            services.request_changes(post, membership, data["comment"])
        elif verdict == "override":
            services.override(post, membership, data["reason"])
        elif verdict == "retract":
            services.retract(post, membership, data["reason"])
        else:
            raise Http404(_("There is no such decision."))
    except errors.DomainError as error:
        if error.field in form.fields:
            add_domain_error(form, error)
            return _render_review(request, post_id, status=error.status, forms={verdict: form})
        if isinstance(error, errors.NotFound):
            raise Http404(error.message) from error
        return _render_review(
            request, post_id, status=error.status, error=error.message, forms={verdict: form}
        )
    messages.success(request, message if verdict == "approve" else _DONE[verdict])
    if verdict in ("override", "retract"):
        return redirect("moderation:review", slug, post_id)
    return redirect("moderation:queue", slug)


def decide_view(verdict: str):
    """The view of one decision's URL (one URL per verb, as the lifecycle names them)."""

    def view(request: HttpRequest, institution_slug: str, post_id: int) -> HttpResponse:
        return decide(request, institution_slug, post_id, verdict)

    view.__name__ = f"decide_{verdict}"
    view.__doc__ = f"POST: {verdict.replace('_', ' ')}."
    return require_POST(view)


# Policy, lexicon, trusted members -----------------------------------------------------------


def _policy_context(request: HttpRequest, policy: Policy, **extra) -> dict:
    trusted = set(TrustedMember.objects.values_list("membership_id", flat=True))
    members = Membership.objects.filter(status=Membership.Status.ACTIVE).order_by(
        "display_name", "id"
    )
    return {
        "institution": request.institution,
        "policy": policy,
        "members": [(m, m.id in trusted) for m in members],
        **extra,
    }


@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """The review policy (administrators)."""
    membership = _require(request, Permission.EDIT_INSTITUTION)
    current = services.ensure_policy(request.institution, membership)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                services.update_policy(request.institution, membership, **form.changes())
            except errors.DomainError as error:
                add_domain_error(form, error)
                context = _policy_context(request, current, form=form)
                return render(request, "moderation/policy.html", context, status=error.status)
            messages.success(request, _("Policy saved."))
            return redirect("moderation:policy", request.institution.slug)
        context = _policy_context(request, current, form=form)
        return render(request, "moderation/policy.html", context, status=400)
    initial = {
        "review_mode": current.review_mode,
        "approvals_required": current.approvals_required,
        "approval_deadline_hours": current.approval_deadline_hours,
        "minimum_lead_minutes": current.minimum_lead_minutes,
        "allowed_domains": "\n".join(current.allowed_domains),
        "denied_domains": "\n".join(current.denied_domains),
        "own_contacts": "\n".join(current.own_contacts),
        "api_decisions_need_code": current.api_decisions_need_code,
    }
    context = _policy_context(request, current, form=PolicyForm(initial=initial))
    return render(request, "moderation/policy.html", context)


@require_POST
def trust(request: HttpRequest, institution_slug: str, membership_id: int) -> HttpResponse:
    """Mark a member trusted or not (administrators)."""
    admin = _require(request, Permission.EDIT_INSTITUTION)
    member = Membership.objects.filter(id=membership_id).first()
    if member is None:
        raise Http404(_("There is no such member."))
    member.institution = request.institution
    try:
        services.set_trusted(member, admin, request.POST.get("trusted") == "1")
    except errors.DomainError as error:
        messages.error(request, error.message)
        return redirect("moderation:policy", request.institution.slug)
    messages.success(request, _("Saved."))
    return redirect("moderation:policy", request.institution.slug)


def _render_lexicon(request: HttpRequest, form: LexiconTermForm, status: int = 200):
    context = {
        "institution": request.institution,
        "policy": services.ensure_policy(request.institution, request.membership),
        "terms": list(LexiconTerm.objects.order_by("kind", "language", "term", "id")),
        "form": form,
    }
    return render(request, "moderation/lexicon.html", context, status=status)


@require_http_methods(["GET", "POST"])
def lexicon(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Blocked and flagged terms (administrators)."""
    membership = _require(request, Permission.EDIT_INSTITUTION)
    if request.method == "GET":
        return _render_lexicon(request, LexiconTermForm())
    form = LexiconTermForm(request.POST)
    if not form.is_valid():
        return _render_lexicon(request, form, 400)
    try:
        services.add_lexicon_term(request.institution, membership, **form.cleaned_data)
    except errors.DomainError as error:
        add_domain_error(form, error)
        return _render_lexicon(request, form, error.status)
    messages.success(request, _("Term added."))
    return redirect("moderation:lexicon", request.institution.slug)


@require_POST
def remove_term(request: HttpRequest, institution_slug: str, term_id: int) -> HttpResponse:
    """Remove a term from the lexicon (administrators)."""
    membership = _require(request, Permission.EDIT_INSTITUTION)
    item = LexiconTerm.objects.filter(id=term_id).first()
    if item is None:
        raise Http404(_("There is no such term."))
    services.remove_lexicon_term(item, membership)
    messages.success(request, _("Term removed."))
    return redirect("moderation:lexicon", request.institution.slug)


# The emergency stop -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def pause(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Stop all publishing at once (administrators); the page also offers resuming."""
    membership = _require(request, Permission.REVIEW_POSTS)
    form = PauseForm(request.POST) if request.method == "POST" else PauseForm()
    status = 200
    if request.method == "POST":
        try:
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            if form.errors:
                raise errors.DomainError(_("Check the reason."), field="reason")
            services.pause_publishing(request.institution, membership, reason)
        except errors.DomainError as error:
            add_domain_error(form, error)
            status = error.status
        else:
            messages.success(request, _("Publishing is paused. Nothing goes out until resumed."))
            return redirect("moderation:pause", request.institution.slug)
    context = {
        "institution": request.institution,
        "form": form,
        "open_pause": services.open_pause(request.institution),
        "may_pause": has_permission(membership, Permission.EDIT_INSTITUTION),
    }
    return render(request, "moderation/pause.html", context, status=status)


@require_POST
def resume(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Lift the stop (a second person: administrator or reviewer)."""
    membership = _require(request, Permission.REVIEW_POSTS)
    try:
        second_factor.require_recent(
            request, reverse("moderation:pause", args=[request.institution.slug])
        )
    except second_factor.StepUpRequired as step_up:
        return step_up.response
    try:
        services.resume_publishing(request.institution, membership)
    except errors.DomainError as error:
        context = {
            "institution": request.institution,
            "form": PauseForm(),
            "open_pause": services.open_pause(request.institution),
            "may_pause": has_permission(membership, Permission.EDIT_INSTITUTION),
            "error": error.message,
        }
        return render(request, "moderation/pause.html", context, status=error.status)
    messages.success(request, _("Publishing resumed."))
    return redirect("moderation:pause", request.institution.slug)


# Notices ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Which notices the member receives by e-mail."""
    membership = request.membership
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.set_preferences(membership, **form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect("moderation:notifications", request.institution.slug)
    else:
        current = NotificationPreference.objects.filter(membership=membership).first()
        form = PreferencesForm(
            initial={
                "on_submission": current.on_submission if current else True,
                "on_deadline": current.on_deadline if current else True,
                "on_decision": current.on_decision if current else True,
            }
        )
    return render(
        request,
        "moderation/notifications.html",
        {"institution": request.institution, "form": form},
    )
