"""Web pages of cross-posting: the institution's delivery dashboard, one post's copies on the
networks, retrying one failed delivery, and choosing the networks of a post's revision."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.errors import DomainError
from accounts.permissions import Permission, has_permission
from crossposting import queries, services
from crossposting.models import Delivery, DeliveryState
from feeds.models import Post

DASHBOARD_LIMIT = 200


def _require(request: HttpRequest, permission: Permission) -> None:
    if not has_permission(request.membership, permission):
        raise PermissionDenied(_("Your role does not allow this page."))


@require_GET
def dashboard(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Deliveries that need a person: failed, held, waiting for re-authorisation."""
    _require(request, Permission.VIEW_ALL_POSTS)
    state = request.GET.get("state", "")
    if state not in queries.ATTENTION_STATES:
        state = DeliveryState.FAILED
    return render(
        request,
        "crossposting/dashboard.html",
        {
            "counts": queries.state_counts(),
            "attention": [(s, DeliveryState(s).label) for s in queries.ATTENTION_STATES],
            "state": state,
            "deliveries": queries.deliveries(state)[:DASHBOARD_LIMIT],
            "accounts": queries.accounts_needing_reauthorisation(),
            "can_retry": has_permission(request.membership, Permission.REVIEW_POSTS),
        },
    )


@require_GET
def post_deliveries(request: HttpRequest, institution_slug: str, post_id: int) -> HttpResponse:
    """Each target of one post: its state, the link to the copy, the attempts, the last error."""
    post = Post.objects.filter(id=post_id).select_related("author").first()
    if post is None:
        raise Http404
    mine = post.author_id == request.membership.id
    if not mine and not has_permission(request.membership, Permission.VIEW_ALL_POSTS):
        raise Http404
    return render(
        request,
        "crossposting/post_deliveries.html",
        {
            "post": post,
            "deliveries": queries.deliveries_of_post(post),
            "can_retry": has_permission(request.membership, Permission.REVIEW_POSTS),
        },
    )


@require_POST
def retry(request: HttpRequest, institution_slug: str, delivery_id: int) -> HttpResponse:
    """Send one failed delivery again."""
    delivery = Delivery.objects.filter(id=delivery_id).first()
    if delivery is None:
        raise Http404
    try:
        services.retry_delivery(delivery, by=request.membership)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The delivery will be tried again."))
    return redirect(
        "crossposting:post", institution_slug=institution_slug, post_id=delivery.post_id
    )


@require_http_methods(["GET", "POST"])
def targets(request: HttpRequest, institution_slug: str, post_id: int) -> HttpResponse:
    """Choose the accounts the post's latest revision is copied to (the author or a reviewer)."""
    post = Post.objects.filter(id=post_id).select_related("latest_revision").first()
    membership = request.membership
    if post is None or post.latest_revision is None:
        raise Http404
    if post.author_id != membership.id and not has_permission(membership, Permission.REVIEW_POSTS):
        raise Http404
    usable = services.usable_accounts(post)
    if request.method == "POST":
        wanted = set(request.POST.getlist("accounts"))
        try:
            services.choose_targets(post, [a for a in usable if str(a.id) in wanted], by=membership)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The networks for this post were saved."))
        return redirect("crossposting:targets", institution_slug=institution_slug, post_id=post.id)
    return render(
        request,
        "crossposting/targets.html",
        {
            "post": post,
            "revision": post.latest_revision,
            "accounts": usable,
            "chosen": {a.id for a in services.targets_of(post.latest_revision)},
            "can_choose": services.can_choose_targets(post),
        },
    )
