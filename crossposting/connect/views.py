"""The networks page: the accounts a member may see, connecting (in the browser, or with a
Bluesky app password), re-authorising, disconnecting and the "use for new posts" choice; and
the callback every network sends the browser back to."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.errors import DomainError
from accounts.permissions import Permission, has_permission
from crossposting.connect import atproto_oauth, flows, queries, services
from crossposting.models import Network, NetworkAccount

OAUTH_CALLBACK_NETWORKS = frozenset((*flows.OAUTH_NETWORKS, Network.BLUESKY))


def _require_member(request: HttpRequest) -> None:
    if not has_permission(request.membership, Permission.WRITE_POSTS):
        raise PermissionDenied(_("Your role does not allow this page."))


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("crossposting:networks", institution_slug=request.institution.slug)


def _account(request: HttpRequest, account_id: int) -> NetworkAccount:
    account = queries.visible_accounts(request.membership).filter(id=account_id).first()
    if account is None:
        raise Http404
    return account


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


def _continue_at(request: HttpRequest, url: str) -> HttpResponse:
    """Send the browser on to the network. Not a redirect of the form's POST: the page's
    Content-Security-Policy (``form-action 'self'``) would block a form that lands on another
    site, so a page of ours links there and refreshes to it."""
    response = render(
        request,
        "crossposting/connect_continue.html",
        {"url": url, "server": urlsplit(url).netloc},
    )
    response["Cache-Control"] = "no-store"
    return response


def _bluesky_offers_oauth() -> bool:
    """Whether the default Bluesky server offers AT Protocol OAuth (asked once an hour)."""
    server = settings.PODIUM_BLUESKY_PDS_URL
    key = "crossposting:bluesky-oauth:" + server
    offered = cache.get(key)
    if offered is None:
        offered = atproto_oauth.offers_oauth(server.rstrip("/"))
        cache.set(key, offered, 3600)
    return offered


@require_GET
def networks(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Every account the member may see, with its state, and the ways to connect another."""
    _require_member(request)
    member = request.membership
    now = timezone.now()
    rows = []
    for account in queries.visible_accounts(member):
        days = None
        if account.token_expires_at is not None:
            days = max((account.token_expires_at - now).days, 0)
        rows.append(
            {
                "account": account,
                "can_manage": services.may_manage(account, member),
                "can_disconnect": services.may_manage(account, member, "disconnect"),
                "days_left": days,
                "mine": account.member_id == member.id,
            }
        )
    is_admin = has_permission(member, Permission.EDIT_INSTITUTION)
    return render(
        request,
        "crossposting/networks.html",
        {
            "institution_rows": [r for r in rows if r["account"].member_id is None],
            "my_rows": [r for r in rows if r["mine"]],
            "member_rows": [r for r in rows if r["account"].member_id not in (None, member.id)],
            "networks": queries.networks_on_offer(),
            "is_admin": is_admin,
            "A": NetworkAccount.Status,
            "bluesky_default_server": settings.PODIUM_BLUESKY_PDS_URL,
            "bluesky_oauth": _bluesky_offers_oauth(),
        },
    )


def _owner_is_institution(request: HttpRequest) -> bool:
    return request.POST.get("owner") == "institution"


@require_POST
def connect(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Start authorising an account in the browser: off to the network."""
    _require_member(request)
    network = request.POST.get("network", "")
    try:
        url = services.start_connect(
            request.institution,
            network,
            by=request.membership,
            for_institution=_owner_is_institution(request),
            instance=request.POST.get("instance", "") or request.POST.get("server", ""),
            session_key=_session_key(request),
            login_hint=request.POST.get("identifier", "").strip().removeprefix("@")[:253],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _back(request)
    return _continue_at(request, url)


@require_POST
def connect_bluesky(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Connect a Bluesky account with an app password."""
    _require_member(request)
    try:
        account = services.connect_bluesky(
            request.institution,
            identifier=request.POST.get("identifier", ""),
            app_password=request.POST.get("app_password", ""),
            server=request.POST.get("server", ""),
            by=request.membership,
            for_institution=_owner_is_institution(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Bluesky account %(handle)s connected.") % {"handle": account.handle}
        )
    return _back(request)


@require_POST
def reauthorise(request: HttpRequest, institution_slug: str, account_id: int) -> HttpResponse:
    """Authorise an account again (Bluesky: with a new app password)."""
    _require_member(request)
    account = _account(request, account_id)
    try:
        if account.network == Network.BLUESKY and request.POST.get("oauth") != "1":
            account = services.connect_bluesky(
                request.institution,
                identifier=request.POST.get("identifier", "") or account.handle,
                app_password=request.POST.get("app_password", ""),
                by=request.membership,
                account=account,
            )
            messages.success(
                request, _("Bluesky account %(handle)s connected.") % {"handle": account.handle}
            )
            return _back(request)
        url = services.start_connect(
            request.institution,
            account.network,
            by=request.membership,
            account=account,
            session_key=_session_key(request),
            login_hint=account.handle if account.network == Network.BLUESKY else "",
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _back(request)
    return _continue_at(request, url)


@require_POST
def disconnect(request: HttpRequest, institution_slug: str, account_id: int) -> HttpResponse:
    """Withdraw Podium's access and delete the credentials; the delivery history stays."""
    _require_member(request)
    account = _account(request, account_id)
    try:
        result = services.disconnect_account(account, by=request.membership)
    except DomainError as error:
        messages.error(request, error.message)
        return _back(request)
    if result.revoked_at_network:
        text = _("%(handle)s is disconnected, and %(network)s withdrew Podium's access.")
    else:
        text = _(
            "%(handle)s is disconnected and its credentials are deleted. %(network)s offers "
            "Podium no way to withdraw the access: remove Podium in the account's settings there."
        )
    messages.success(
        request, text % {"handle": account.handle, "network": account.get_network_display()}
    )
    return _back(request)


@require_POST
def set_default(request: HttpRequest, institution_slug: str, account_id: int) -> HttpResponse:
    """Switch "use for new posts" on or off."""
    _require_member(request)
    account = _account(request, account_id)
    use = request.POST.get("use") == "on"
    try:
        services.set_account_default(account, use=use, by=request.membership)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            (
                _("New posts will be copied to %(handle)s.")
                if use
                else _("New posts will no longer be copied to %(handle)s.")
            )
            % {"handle": account.handle},
        )
    return _back(request)


@require_GET
def callback(request: HttpRequest, network: str) -> HttpResponse:
    """Where the network sends the browser back with a code (or an error) and the state."""
    if network not in OAUTH_CALLBACK_NETWORKS:
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    state = request.GET.get("state", "")
    institution = services.institution_of_state(state)
    try:
        account = services.finish_connect(
            network,
            state=state,
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
            user=request.user,
            session_key=request.session.session_key or "",
            issuer=request.GET.get("iss", ""),
        )
    except DomainError as error:
        if institution is None:
            return render(
                request, "crossposting/connect_failed.html", {"message": error.message}, status=400
            )
        messages.error(request, error.message)
        return redirect("crossposting:networks", institution_slug=institution.slug)
    messages.success(
        request,
        _("%(network)s account %(handle)s connected.")
        % {"network": account.get_network_display(), "handle": account.handle},
    )
    return redirect("crossposting:networks", institution_slug=institution.slug)


@require_GET
def bluesky_client_metadata(request: HttpRequest) -> JsonResponse:
    """The AT Protocol OAuth client metadata at Podium's client_id address: public, no cookies."""
    response = JsonResponse(atproto_oauth.client_metadata())
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response
