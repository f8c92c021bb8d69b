"""How each network authorises Podium, over HTTP (httpx, with the network timeout, against
configurable base addresses so that tests use local fakes):

- Mastodon: an app registered once per instance (``POST /api/v1/apps``), authorization code with
  ``state`` and PKCE (S256) where the instance announces it, the instance's limits from
  ``/api/v2/instance``;
- Bluesky: handle (or DID) and an app password, ``com.atproto.server.createSession``;
- X: OAuth 2.0 authorization code with PKCE (S256) and a rotating refresh token;
- LinkedIn: authorization code, a 60-day access token and no refresh;
- Threads: authorization code, a short-lived token exchanged for a 60-day one.

Nothing here touches the database but ``mastodon_app``; the services decide what is stored.
Wire facts: ../shared/reference/crosspost-protocols.md, sections 2.1, 2.2, 3.1, 4.1, 5.1, 6.1.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

import httpx
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.addresses import absolute_url
from accounts.models import Institution
from accounts.tenancy import tenant_context
from crossposting import credentials
from crossposting.connect.errors import (
    AuthorisationRefused,
    NotConfigured,
    NotThatKindOfServer,
    ServerUnreachable,
)
from crossposting.models import MastodonApp, Network

MASTODON_SCOPES = "read:accounts read:statuses write:statuses write:media"
X_SCOPES = "tweet.read tweet.write users.read offline.access media.write"
LINKEDIN_SCOPES = "openid profile w_member_social"
THREADS_SCOPES = "threads_basic,threads_content_publish,threads_delete"
# Networks authorised in the member's browser (Bluesky takes an app password instead).
OAUTH_NETWORKS = (Network.MASTODON, Network.X, Network.LINKEDIN, Network.THREADS)
APP_PASSWORD = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$", re.IGNORECASE)
IDENTIFIER = re.compile(
    r"^(did:(plc|web):[a-zA-Z0-9._:%-]{1,200}|([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)$"
)


@dataclass
class Identity:
    """The account a network confirmed, with what is stored for it."""

    network: str
    handle: str
    remote_user_id: str
    profile_url: str
    base_url: str
    secrets: dict
    token_expires_at: datetime | None = None
    token_issued_at: datetime | None = None
    limits: dict = field(default_factory=dict)


@dataclass
class Pkce:
    verifier: str

    @classmethod
    def new(cls) -> Pkce:
        return cls(secrets.token_urlsafe(64))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def redirect_uri(network: str) -> str:
    """The callback address registered with each network (one for the whole installation)."""
    return absolute_url(reverse("crossposting:connect-callback", args=[network]))


def client_id(network: str) -> str:
    return {
        Network.X: settings.PODIUM_X_CLIENT_ID,
        Network.LINKEDIN: settings.PODIUM_LINKEDIN_CLIENT_ID,
        Network.THREADS: settings.PODIUM_THREADS_CLIENT_ID,
    }.get(network, "")


def client_secret(network: str) -> str:
    return {
        Network.X: settings.PODIUM_X_CLIENT_SECRET,
        Network.LINKEDIN: settings.PODIUM_LINKEDIN_CLIENT_SECRET,
        Network.THREADS: settings.PODIUM_THREADS_CLIENT_SECRET,
    }.get(network, "")


def is_configured(network: str) -> bool:
    """Whether the operator set up the network (Mastodon and Bluesky need nothing)."""
    if network in (Network.MASTODON, Network.BLUESKY):
        return True
    needs_secret = network in (Network.LINKEDIN, Network.THREADS)
    return bool(client_id(network)) and (bool(client_secret(network)) or not needs_secret)


def require_configured(network: str) -> None:
    if not is_configured(network):
        raise NotConfigured(
            _("The operator of this Podium has not set up %(network)s yet.")
            % {"network": Network(network).label}
        )


# HTTP -------------------------------------------------------------------------------------------


def _http() -> httpx.Client:
    timeout = settings.PODIUM_NETWORK_TIMEOUT
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), follow_redirects=False
    )


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def _call(method: str, url: str, **kwargs) -> httpx.Response:
    try:
        with _http() as http:
            return http.request(method, url, **kwargs)
    except httpx.TimeoutException as error:
        raise ServerUnreachable(
            _("%(server)s did not answer in time. Try again later.") % {"server": _host(url)}
        ) from error
    except httpx.HTTPError as error:
        raise ServerUnreachable(
            _("Could not reach %(server)s. Check the address.") % {"server": _host(url)}
        ) from error


def _json(response: httpx.Response) -> dict | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _not_recognised(url: str, kind: str) -> NotThatKindOfServer:
    return NotThatKindOfServer(
        _("%(server)s does not answer like a %(kind)s server. Check the address.")
        % {"server": _host(url), "kind": kind}
    )


def _token_refused(response: httpx.Response, network_name: str) -> AuthorisationRefused:
    """The token endpoint's refusal, in words: a used or expired code, a revoked app."""
    body = _json(response) or {}
    error = body.get("error")
    if isinstance(error, dict):  # Graph API (Threads)
        text = str(error.get("message") or "")[:200]
        return AuthorisationRefused(
            _("%(network)s refused the authorisation: %(reason)s Start connecting again.")
            % {"network": network_name, "reason": text}
        )
    described = str(body.get("error_description") or "").lower()
    if error == "invalid_grant" or (error == "invalid_request" and "code" in described):
        return AuthorisationRefused(
            _(
                "%(network)s says the authorisation code was already used or has expired. "
                "Start connecting again."
            )
            % {"network": network_name}
        )
    if error == "invalid_client" or response.status_code == 401:
        return AuthorisationRefused(
            _(
                "%(network)s no longer accepts Podium's app (it was removed or revoked). "
                "Start connecting again; if this persists, tell the operator."
            )
            % {"network": network_name}
        )
    return AuthorisationRefused(
        _("%(network)s refused the authorisation (%(status)s). Start connecting again.")
        % {"network": network_name, "status": response.status_code}
    )


def _positive(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _expiry(body: dict, now: datetime) -> datetime | None:
    seconds = _positive(body.get("expires_in"))
    return now + timedelta(seconds=seconds) if seconds else None


# Mastodon ---------------------------------------------------------------------------------------


def mastodon_limits(url: str) -> dict:
    """The instance's limits (``configuration.statuses``); refuses what is not Mastodon."""
    response = _call("GET", f"{url}/api/v2/instance")
    if response.status_code == 404:
        response = _call("GET", f"{url}/api/v1/instance")
    body = _json(response)
    if response.status_code != 200 or body is None or "configuration" not in body:
        raise _not_recognised(url, "Mastodon")
    statuses = (body.get("configuration") or {}).get("statuses") or {}
    limits = {
        "max_characters": _positive(statuses.get("max_characters")),
        "max_media_attachments": _positive(statuses.get("max_media_attachments")),
        "characters_reserved_per_url": _positive(statuses.get("characters_reserved_per_url")),
    }
    return {name: value for name, value in limits.items() if value is not None}


def _mastodon_supports_pkce(url: str) -> bool:
    try:
        response = _call("GET", f"{url}/.well-known/oauth-authorization-server")
    except ServerUnreachable:
        return False
    body = _json(response) if response.status_code == 200 else None
    return bool(body) and "S256" in (body.get("code_challenge_methods_supported") or [])


def mastodon_app(institution: Institution, url: str) -> MastodonApp:
    """The institution's app on the instance: registered on first use, then reused."""
    callback = redirect_uri(Network.MASTODON)
    with tenant_context(institution.id):
        found = MastodonApp.objects.filter(
            instance_url=url, redirect_uri=callback, scopes=MASTODON_SCOPES
        ).first()
    if found is not None:
        return found
    response = _call(
        "POST",
        f"{url}/api/v1/apps",
        json={
            "client_name": f"Podium ({institution.name})"[:100],
            "redirect_uris": callback,
            "scopes": MASTODON_SCOPES,
            "website": settings.PODIUM_BASE_URL,
        },
    )
    body = _json(response)
    if response.status_code not in (200, 201) or not body or not body.get("client_id"):
        if body is not None and response.status_code in (401, 403, 422, 429):
            raise AuthorisationRefused(
                _("%(server)s did not let Podium register: %(reason)s")
                % {"server": _host(url), "reason": str(body.get("error", ""))[:200]}
            )
        raise _not_recognised(url, "Mastodon")
    pkce = _mastodon_supports_pkce(url)
    with tenant_context(institution.id):
        app, created = MastodonApp.objects.get_or_create(
            institution=institution,
            instance_url=url,
            redirect_uri=callback,
            scopes=MASTODON_SCOPES,
            defaults={"client_id": str(body["client_id"]), "supports_pkce": pkce},
        )
        if created:
            app.secret = credentials.seal(
                institution.id,
                app.id,
                {"client_secret": str(body.get("client_secret") or "")},
                table="mastodon_app",
            )
            app.save(update_fields=["secret"])
    return app


def mastodon_app_secret(app: MastodonApp) -> str:
    sealed = credentials.unseal(app.institution_id, app.id, app.secret, table="mastodon_app")
    return sealed.get("client_secret", "")


def mastodon_app_revoked(app: MastodonApp) -> bool:
    """Whether the instance refuses the app's own credentials (its admin removed the app)."""
    try:
        response = _call(
            "POST",
            f"{app.instance_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app.client_id,
                "client_secret": mastodon_app_secret(app),
                "scope": "read",
            },
        )
    except ServerUnreachable:
        return False
    return response.status_code == 401


def authorisation_url(
    network: str, *, state: str, pkce: Pkce, app: MastodonApp | None = None
) -> str:
    """Where the member's browser goes to allow Podium to post."""
    if network == Network.MASTODON:
        query = {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "scope": MASTODON_SCOPES,
            "state": state,
        }
        if app.supports_pkce:
            query |= {"code_challenge": pkce.challenge, "code_challenge_method": "S256"}
        return f"{app.instance_url}/oauth/authorize?{urlencode(query)}"
    require_configured(network)
    common = {
        "response_type": "code",
        "client_id": client_id(network),
        "redirect_uri": redirect_uri(network),
        "state": state,
    }
    if network == Network.X:
        query = common | {
            "scope": X_SCOPES,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
        }
        return f"{settings.PODIUM_X_AUTHORIZE_URL}?{urlencode(query)}"
    if network == Network.LINKEDIN:
        query = common | {"scope": LINKEDIN_SCOPES}
        return f"{settings.PODIUM_LINKEDIN_OAUTH_URL}/oauth/v2/authorization?{urlencode(query)}"
    if network == Network.THREADS:
        query = common | {"scope": THREADS_SCOPES}
        return f"{settings.PODIUM_THREADS_AUTHORIZE_URL}?{urlencode(query)}"
    raise NotConfigured(_("This network is not connected by authorisation in the browser."))


def finish_mastodon(app: MastodonApp, code: str, pkce: Pkce) -> Identity:
    url = app.instance_url
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app.client_id,
        "client_secret": mastodon_app_secret(app),
        "redirect_uri": app.redirect_uri,
        "scope": MASTODON_SCOPES,
    }
    if app.supports_pkce:
        form["code_verifier"] = pkce.verifier
    response = _call("POST", f"{url}/oauth/token", data=form)
    body = _json(response)
    if body is None:
        raise _not_recognised(url, "Mastodon")
    if response.status_code != 200 or not body.get("access_token"):
        raise _token_refused(response, _host(url))
    token = str(body["access_token"])
    response = _call(
        "GET",
        f"{url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
    )
    account = _json(response)
    if response.status_code == 401:
        raise AuthorisationRefused(
            _("%(server)s refused the new token (the app was revoked). Start connecting again.")
            % {"server": _host(url)}
        )
    if response.status_code != 200 or not account or not account.get("id"):
        raise _not_recognised(url, "Mastodon")
    username = str(account.get("username") or account.get("acct") or "")
    return Identity(
        network=Network.MASTODON,
        handle=f"@{username}@{_host(url)}",
        remote_user_id=str(account["id"]),
        profile_url=str(account.get("url") or ""),
        base_url=url,
        secrets={"access_token": token},
        limits=mastodon_limits(url),
    )


# X ----------------------------------------------------------------------------------------------


def _x_auth(form: dict) -> dict:
    """Confidential clients authenticate with Basic; public ones send their client id."""
    if settings.PODIUM_X_CLIENT_SECRET:
        pair = f"{settings.PODIUM_X_CLIENT_ID}:{settings.PODIUM_X_CLIENT_SECRET}".encode()
        return {"headers": {"Authorization": "Basic " + base64.b64encode(pair).decode()}}
    form["client_id"] = settings.PODIUM_X_CLIENT_ID
    return {}


def finish_x(code: str, pkce: Pkce) -> Identity:
    api = settings.PODIUM_X_API_URL
    now = timezone.now()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(Network.X),
        "code_verifier": pkce.verifier,
    }
    extra = _x_auth(form)
    response = _call("POST", f"{api}/2/oauth2/token", data=form, **extra)
    body = _json(response)
    if body is None:
        raise _not_recognised(api, "X")
    if response.status_code != 200 or not body.get("access_token"):
        raise _token_refused(response, "X")
    token = str(body["access_token"])
    response = _call("GET", f"{api}/2/users/me", headers={"Authorization": f"Bearer {token}"})
    user = (_json(response) or {}).get("data") or {}
    if response.status_code != 200 or not user.get("id"):
        raise AuthorisationRefused(_("X did not say which account was authorised."))
    username = str(user.get("username") or "")
    expires = _expiry(body, now)
    return Identity(
        network=Network.X,
        handle=f"@{username}",
        remote_user_id=str(user["id"]),
        profile_url=f"https://x.com/{username}" if username else "",
        base_url=api,
        secrets={
            "access_token": token,
            "refresh_token": str(body.get("refresh_token") or ""),
            "client_id": settings.PODIUM_X_CLIENT_ID,
            "expires_at": expires.isoformat() if expires else "",
        },
        token_issued_at=now,
    )


# LinkedIn ---------------------------------------------------------------------------------------


def finish_linkedin(code: str) -> Identity:
    oauth, api = settings.PODIUM_LINKEDIN_OAUTH_URL, settings.PODIUM_LINKEDIN_API_URL
    now = timezone.now()
    response = _call(
        "POST",
        f"{oauth}/oauth/v2/accessToken",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": settings.PODIUM_LINKEDIN_CLIENT_ID,
            "client_secret": settings.PODIUM_LINKEDIN_CLIENT_SECRET,
            "redirect_uri": redirect_uri(Network.LINKEDIN),
        },
    )
    body = _json(response)
    if body is None:
        raise _not_recognised(oauth, "LinkedIn")
    if response.status_code != 200 or not body.get("access_token"):
        raise _token_refused(response, "LinkedIn")
    token = str(body["access_token"])
    response = _call("GET", f"{api}/v2/userinfo", headers={"Authorization": f"Bearer {token}"})
    person = _json(response) or {}
    if response.status_code != 200 or not person.get("sub"):
        raise AuthorisationRefused(_("LinkedIn did not say which account was authorised."))
    name = str(person.get("name") or person.get("given_name") or person["sub"])
    return Identity(
        network=Network.LINKEDIN,
        handle=name[:255],
        remote_user_id=f"urn:li:person:{person['sub']}",
        profile_url="",
        base_url=api,
        secrets={"access_token": token},
        token_expires_at=_expiry(body, now) or now + timedelta(days=60),
        token_issued_at=now,
    )


# Threads ----------------------------------------------------------------------------------------


def finish_threads(code: str) -> Identity:
    api = settings.PODIUM_THREADS_API_URL
    now = timezone.now()
    response = _call(
        "POST",
        f"{api}/oauth/access_token",
        data={
            "client_id": settings.PODIUM_THREADS_CLIENT_ID,
            "client_secret": settings.PODIUM_THREADS_CLIENT_SECRET,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri(Network.THREADS),
        },
    )
    body = _json(response)
    if body is None:
        raise _not_recognised(api, "Threads")
    if response.status_code != 200 or not body.get("access_token"):
        raise _token_refused(response, "Threads")
    response = _call(
        "GET",
        f"{api}/access_token",
        params={
            "grant_type": "th_exchange_token",
            "client_secret": settings.PODIUM_THREADS_CLIENT_SECRET,
            "access_token": str(body["access_token"]),
        },
    )
    long_lived = _json(response) or {}
    if response.status_code != 200 or not long_lived.get("access_token"):
        raise _token_refused(response, "Threads")
    token = str(long_lived["access_token"])
    response = _call(
        "GET", f"{api}/v1.0/me", params={"fields": "id,username", "access_token": token}
    )
    me = _json(response) or {}
    if response.status_code != 200 or not me.get("id"):
        raise AuthorisationRefused(_("Threads did not say which account was authorised."))
    username = str(me.get("username") or "")
    return Identity(
        network=Network.THREADS,
        handle=f"@{username}" if username else str(me["id"]),
        remote_user_id=str(me["id"]),
        profile_url=f"https://www.threads.net/@{username}" if username else "",
        base_url=api,
        secrets={"access_token": token},
        token_expires_at=_expiry(long_lived, now) or now + timedelta(days=60),
        token_issued_at=now,
    )


def refresh_threads(base_url: str, token: str) -> tuple[str, datetime | None]:
    """A fresh long-lived Threads token (``th_refresh_token``) and when it ends."""
    now = timezone.now()
    response = _call(
        "GET",
        f"{base_url}/refresh_access_token",
        params={"grant_type": "th_refresh_token", "access_token": token},
    )
    body = _json(response) or {}
    if response.status_code != 200 or not body.get("access_token"):
        raise _token_refused(response, "Threads")
    return str(body["access_token"]), _expiry(body, now)


# Bluesky ----------------------------------------------------------------------------------------


def bluesky_session(server: str, identifier: str, app_password: str) -> Identity:
    """Open a session with the app password (``createSession``) on the member's server."""
    response = _call(
        "POST",
        f"{server}/xrpc/com.atproto.server.createSession",
        json={"identifier": identifier, "password": app_password},
    )
    body = _json(response)
    if body is None:
        raise _not_recognised(server, "Bluesky")
    if response.status_code in (400, 401):
        if body.get("error") == "AuthFactorTokenRequired":
            raise AuthorisationRefused(
                _(
                    "Bluesky asks for an e-mail code: that is the main password. "
                    "Use an app password."
                )
            )
        raise AuthorisationRefused(
            _(
                "Bluesky refused the handle or app password. Check both, or create a new "
                "app password."
            )
        )
    if response.status_code != 200 or not body.get("accessJwt") or not body.get("did"):
        raise _not_recognised(server, "Bluesky")
    handle = str(body.get("handle") or identifier)
    return Identity(
        network=Network.BLUESKY,
        handle=handle,
        remote_user_id=str(body["did"]),
        profile_url=f"https://bsky.app/profile/{handle}",
        base_url=_pds_of(body) or server,
        secrets={
            "identifier": identifier,
            "password": app_password,
            "access_jwt": str(body["accessJwt"]),
            "refresh_jwt": str(body.get("refreshJwt") or ""),
            "did": str(body["did"]),
        },
        token_issued_at=timezone.now(),
    )


def _pds_of(session: dict) -> str:
    """The account's own server from the DID document (``#atproto_pds``), when it names one
    that passes the address guard."""
    from crossposting.connect.addresses import checked_server_url

    document = session.get("didDoc") or {}
    for service in document.get("service") or []:
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
            try:
                return checked_server_url(str(service.get("serviceEndpoint") or ""))
            except Exception:
                return ""
    return ""


# Revocation -------------------------------------------------------------------------------------


def revoke(network: str, base_url: str, secrets_: dict, app: MastodonApp | None) -> bool:
    """Withdraw Podium's access at the network where it offers that; True when it confirmed."""
    try:
        if network == Network.MASTODON and app is not None and secrets_.get("access_token"):
            response = _call(
                "POST",
                f"{base_url}/oauth/revoke",
                data={
                    "client_id": app.client_id,
                    "client_secret": mastodon_app_secret(app),
                    "token": secrets_["access_token"],
                },
            )
            return response.status_code == 200
        if network == Network.X and secrets_.get("refresh_token"):
            form = {"token": secrets_["refresh_token"], "token_type_hint": "refresh_token"}
            extra = _x_auth(form)
            response = _call("POST", f"{base_url}/2/oauth2/revoke", data=form, **extra)
            return response.status_code == 200
        if network == Network.BLUESKY and secrets_.get("dpop_key"):
            from crossposting.connect import atproto_oauth

            return atproto_oauth.revoke(secrets_)
        if network == Network.BLUESKY and secrets_.get("refresh_jwt"):
            response = _call(
                "POST",
                f"{base_url}/xrpc/com.atproto.server.deleteSession",
                headers={"Authorization": f"Bearer {secrets_['refresh_jwt']}"},
            )
            return response.status_code == 200
    except ServerUnreachable:
        return False
    return False
