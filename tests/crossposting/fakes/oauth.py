"""The fake networks with their authorisation endpoints, as the reference describes them
(../shared/reference/crosspost-protocols.md, sections 2.1, 3.1, 4.1, 5.1, 6.1): Mastodon's app
registration, authorization code with PKCE and revocation; Bluesky's sessions; X's
authorization code with PKCE and rotating refresh; LinkedIn's 60-day tokens and userinfo;
Threads' short-lived code exchange, long-lived tokens and refresh.

The authorisation page of each network is replaced by an immediate consent: ``GET`` on it
answers 302 to the redirect URI with ``code`` and ``state``, for the user named in
``signed_in`` (a test plays the browser by following that redirect). Codes are single use.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import urlencode

from tests.crossposting.fakes.networks import (
    FakeBluesky,
    FakeLinkedIn,
    FakeMastodon,
    FakeThreads,
    FakeX,
    next_id,
)
from tests.crossposting.fakes.server import FakeNetwork, Reply, Request

INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "The provided authorization grant is invalid, expired, revoked, does "
    "not match the redirection URI used in the authorization request, or was issued to another "
    "client.",
}
INVALID_CLIENT = {
    "error": "invalid_client",
    "error_description": "Client authentication failed due to unknown client, no client "
    "authentication included, or unsupported authentication method.",
}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Codes:
    """Authorization codes: issued on consent, redeemed once, checked against the redirect URI,
    the client and the PKCE challenge."""

    def __init__(self) -> None:
        self.issued: dict[str, dict] = {}
        self.redeemed: list[str] = []

    def issue(self, **grant) -> str:
        code = secrets.token_urlsafe(16)
        self.issued[code] = grant | {"used": False, "at": time.time()}
        return code

    def redeem(self, code: str, *, client_id: str, redirect_uri: str, verifier: str | None):
        grant = self.issued.get(code)
        if grant is None or grant["used"] or grant["client_id"] != client_id:
            return None
        if grant["redirect_uri"] != redirect_uri:
            return None
        challenge = grant.get("challenge")
        if challenge and (not verifier or s256(verifier) != challenge):
            return None
        grant["used"] = True
        self.redeemed.append(code)
        return grant


def consent_redirect(redirect_uri: str, code: str, state: str) -> Reply:
    joiner = "&" if "?" in redirect_uri else "?"
    location = redirect_uri + joiner + urlencode({"code": code, "state": state})
    return Reply(302, b"", {"Location": location}, "text/plain")


def denied_redirect(redirect_uri: str, state: str) -> Reply:
    query = urlencode({"error": "access_denied", "state": state})
    return Reply(302, b"", {"Location": f"{redirect_uri}?{query}"}, "text/plain")


# Mastodon ---------------------------------------------------------------------------------------


class FakeMastodonOAuth(FakeMastodon):
    routes = [
        *FakeMastodon.routes,
        ("POST", r"/api/v1/apps", "register_app"),
        ("GET", r"/\.well-known/oauth-authorization-server", "server_metadata"),
        ("GET", r"/oauth/authorize", "authorize"),
        ("POST", r"/oauth/token", "token"),
        ("POST", r"/oauth/revoke", "revoke_token"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.apps: dict[str, dict] = {}  # client id -> app
        self.codes = Codes()
        self.pkce = True  # 4.3+: announces S256
        self.signed_in = "teacher"
        self.deny = False
        self.token_app: dict[str, str] = {}  # token -> client id

    def register_app(self, request: Request) -> Reply:
        body = request.json() or request.form()
        uris = body.get("redirect_uris")
        if not body.get("client_name") or not uris:
            return Reply(422, {"error": "Validation failed: Name can't be blank"})
        client_id = secrets.token_urlsafe(24)
        app = {
            "id": next_id(),
            "name": body["client_name"],
            "website": body.get("website"),
            "scopes": str(body.get("scopes") or "read").split(),
            "redirect_uris": [uris] if isinstance(uris, str) else list(uris),
            "client_id": client_id,
            "client_secret": secrets.token_urlsafe(24),
            "client_secret_expires_at": 0,
            "revoked": False,
        }
        self.apps[client_id] = app
        return Reply(200, {k: v for k, v in app.items() if k != "revoked"})

    def revoke_app(self, client_id: str) -> None:
        """The instance's admin removed the app: its client and its tokens stop working."""
        self.apps[client_id]["revoked"] = True
        for token, owner in list(self.token_app.items()):
            if owner == client_id:
                self.tokens.pop(token, None)

    def server_metadata(self, request: Request) -> Reply:
        if not self.pkce:
            return Reply(404, {"error": "Not found"})
        return Reply(
            200,
            {
                "issuer": self.base_url,
                "authorization_endpoint": f"{self.base_url}/oauth/authorize",
                "token_endpoint": f"{self.base_url}/oauth/token",
                "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
            },
        )

    def _client(self, client_id: str, secret: str | None) -> dict | None:
        app = self.apps.get(client_id)
        if app is None or app["revoked"] or (secret is not None and app["client_secret"] != secret):
            return None
        return app

    def authorize(self, request: Request) -> Reply:
        q = request.query
        app = self._client(q.get("client_id", ""), None)
        if app is None:
            return Reply(401, {"error": "invalid_client"})
        if q.get("redirect_uri") not in app["redirect_uris"] or q.get("response_type") != "code":
            return Reply(400, {"error": "invalid_request"})
        if not set(q.get("scope", "").split()) <= set(app["scopes"]):
            return Reply(400, {"error": "invalid_scope"})
        if "code_challenge" in q and q.get("code_challenge_method") != "S256":
            return Reply(400, {"error": "invalid_request"})
        if self.deny:
            return denied_redirect(q["redirect_uri"], q.get("state", ""))
        account_id = next((i for i, name in self.usernames.items() if name == self.signed_in), None)
        if account_id is None:
            account_id, _token = self.add_account(self.signed_in)
        code = self.codes.issue(
            client_id=app["client_id"],
            redirect_uri=q["redirect_uri"],
            challenge=q.get("code_challenge"),
            account_id=account_id,
        )
        return consent_redirect(q["redirect_uri"], code, q.get("state", ""))

    def token(self, request: Request) -> Reply:
        form = request.form()
        app = self._client(form.get("client_id", ""), form.get("client_secret", ""))
        if app is None:
            return Reply(401, INVALID_CLIENT)
        if form.get("grant_type") == "client_credentials":
            return Reply(200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer"})
        if form.get("grant_type") != "authorization_code":
            return Reply(400, {"error": "unsupported_grant_type"})
        grant = self.codes.redeem(
            form.get("code", ""),
            client_id=app["client_id"],
            redirect_uri=form.get("redirect_uri", ""),
            verifier=form.get("code_verifier"),
        )
        if grant is None:
            return Reply(400, INVALID_GRANT)
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.tokens[token] = grant["account_id"]
            self.token_app[token] = app["client_id"]
        return Reply(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "scope": " ".join(app["scopes"]),
                "created_at": int(time.time()),
            },
        )

    def revoke_token(self, request: Request) -> Reply:
        form = request.form()
        if self._client(form.get("client_id", ""), form.get("client_secret", "")) is None:
            return Reply(403, {"error": "unauthorized_client"})
        with self.lock:
            self.tokens.pop(form.get("token", ""), None)
        return Reply(200, {})

    def verify_credentials(self, request: Request) -> Reply:
        account_id = self._account(request)
        if account_id is None:
            return self._unauthorized()
        username = self.usernames[account_id]
        return Reply(
            200,
            {
                "id": account_id,
                "username": username,
                "acct": username,
                "display_name": username.title(),
                "url": f"{self.base_url}/@{username}",
            },
        )


class FakeHtmlSite(FakeNetwork):
    """A web server that is no Mastodon: every address answers an HTML page."""

    name = "html"
    routes = [("GET", r"/.*", "page"), ("POST", r"/.*", "page")]

    def page(self, request: Request) -> Reply:
        return Reply(200, "<!doctype html><title>Welcome</title><p>My blog</p>", {}, "text/html")


# Bluesky ----------------------------------------------------------------------------------------


class FakeBlueskyOAuth(FakeBluesky):
    routes = [
        *FakeBluesky.routes,
        ("POST", r"/xrpc/com.atproto.server.deleteSession", "delete_session"),
    ]

    def delete_session(self, request: Request) -> Reply:
        token = request.bearer() or ""
        with self.lock:
            if token not in self.refresh:
                return self._error(400, "ExpiredToken", "Token has been revoked")
            self.refresh.pop(token)
            self.revoked.add(token)
        return Reply(200, b"", {}, "application/json")


# X ----------------------------------------------------------------------------------------------


class FakeXOAuth(FakeX):
    routes = [
        *FakeX.routes,
        ("GET", r"/i/oauth2/authorize", "authorize"),
        ("GET", r"/2/users/me", "me"),
        ("POST", r"/2/oauth2/revoke", "revoke_token"),
    ]
    client_id = "x-client"
    client_secret = "x-secret"

    def __init__(self) -> None:
        super().__init__()
        self.codes = Codes()
        self.usernames: dict[str, str] = {}
        self.signed_in = "northside"

    def authorize(self, request: Request) -> Reply:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return Reply(400, {"error": "invalid_request"})
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return Reply(400, {"error": "invalid_request"})
        if "offline.access" not in q.get("scope", "").split():
            return Reply(400, {"error": "invalid_scope"})
        user_id = next((u for u, n in self.usernames.items() if n == self.signed_in), None)
        if user_id is None:
            user_id = next_id()
            self.usernames[user_id] = self.signed_in
        code = self.codes.issue(
            client_id=self.client_id,
            redirect_uri=q.get("redirect_uri", ""),
            challenge=q["code_challenge"],
            user_id=user_id,
        )
        return consent_redirect(q.get("redirect_uri", ""), code, q.get("state", ""))

    def _basic_client(self, request: Request) -> str | None:
        value = request.headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            return None
        pair = base64.b64decode(value[6:]).decode()
        client, _sep, secret = pair.partition(":")
        return client if (client, secret) == (self.client_id, self.client_secret) else ""

    def token(self, request: Request) -> Reply:
        form = request.form()
        if form.get("grant_type") != "authorization_code":
            return super().token(request)
        client = self._basic_client(request)
        if client == "" or (client is None and form.get("client_id") != self.client_id):
            return Reply(401, {"error": "unauthorized_client", "error_description": "Missing"})
        grant = self.codes.redeem(
            form.get("code", ""),
            client_id=self.client_id,
            redirect_uri=form.get("redirect_uri", ""),
            verifier=form.get("code_verifier"),
        )
        if grant is None:
            return Reply(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Value passed for the authorization code was invalid.",
                },
            )
        access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        with self.lock:
            self.access[access] = grant["user_id"]
            self.refresh[refresh] = grant["user_id"]
        return Reply(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": access,
                "scope": "tweet.read tweet.write users.read offline.access media.write",
                "refresh_token": refresh,
            },
        )

    def me(self, request: Request) -> Reply:
        user = self._user(request)
        if isinstance(user, Reply):
            return user
        name = self.usernames.get(user, f"user{user}")
        return Reply(200, {"data": {"id": user, "name": name.title(), "username": name}})

    def revoke_token(self, request: Request) -> Reply:
        token = request.form().get("token", "")
        with self.lock:
            self.refresh.pop(token, None)
            self.access.pop(token, None)
        return Reply(200, {"revoked": True})


# LinkedIn ---------------------------------------------------------------------------------------


class FakeLinkedInOAuth(FakeLinkedIn):
    routes = [
        *FakeLinkedIn.routes,
        ("GET", r"/oauth/v2/authorization", "authorize"),
        ("POST", r"/oauth/v2/accessToken", "access_token"),
        ("GET", r"/v2/userinfo", "userinfo"),
    ]
    client_id = "li-client"
    client_secret = "li-secret"
    lifetime = 5184000  # 60 days

    def __init__(self) -> None:
        super().__init__()
        self.codes = Codes()
        self.names: dict[str, str] = {}  # urn -> name
        self.signed_in = "Ada Lovelace"

    def authorize(self, request: Request) -> Reply:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return Reply(400, {"error": "invalid_request"})
        if "w_member_social" not in q.get("scope", "").split():
            return Reply(400, {"error": "unauthorized_scope_error"})
        urn = next((u for u, n in self.names.items() if n == self.signed_in), None)
        if urn is None:
            urn = f"urn:li:person:{next_id()}"
            self.names[urn] = self.signed_in
        code = self.codes.issue(
            client_id=self.client_id, redirect_uri=q.get("redirect_uri", ""), urn=urn
        )
        return consent_redirect(q.get("redirect_uri", ""), code, q.get("state", ""))

    def access_token(self, request: Request) -> Reply:
        form = request.form()
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return Reply(401, {"error": "invalid_client", "error_description": "Client auth"})
        grant = self.codes.redeem(
            form.get("code", ""),
            client_id=self.client_id,
            redirect_uri=form.get("redirect_uri", ""),
            verifier=None,
        )
        if grant is None:
            return Reply(400, INVALID_GRANT)
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = grant["urn"]
        return Reply(
            200,
            {
                "access_token": token,
                "expires_in": self.lifetime,
                "scope": "openid,profile,w_member_social",
                "id_token": "header.payload.signature",
            },
        )

    def userinfo(self, request: Request) -> Reply:
        urn = self.tokens.get(request.bearer() or "")
        if urn is None:
            return self._error(401, "REVOKED_ACCESS_TOKEN", "The token used has been revoked")
        name = self.names.get(urn, "Someone")
        given, _sep, family = name.partition(" ")
        return Reply(
            200,
            {
                "sub": urn.rsplit(":", 1)[-1],
                "name": name,
                "given_name": given,
                "family_name": family,
                "locale": {"country": "DE", "language": "de"},
            },
        )


# Threads ----------------------------------------------------------------------------------------


class FakeThreadsOAuth(FakeThreads):
    routes = [
        *FakeThreads.routes,
        ("GET", r"/oauth/authorize", "authorize"),
        ("POST", r"/oauth/access_token", "exchange_code"),
        ("GET", r"/access_token", "long_lived"),
        ("GET", r"/v1\.0/me", "me"),
    ]
    client_id = "threads-app"
    client_secret = "threads-secret"

    def __init__(self) -> None:
        super().__init__()
        self.codes = Codes()
        self.short: dict[str, dict] = {}  # short-lived token -> account
        self.signed_in = "northside"

    def authorize(self, request: Request) -> Reply:
        q = request.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return self._error(400, 100, "Invalid platform app")
        if "threads_content_publish" not in q.get("scope", "").split(","):
            return self._error(400, 100, "Invalid scope")
        account = next(
            (dict(t) for t in self.tokens.values() if t["username"] == self.signed_in), None
        )
        if account is None:
            user_id, _token = self.add_account(self.signed_in)
            account = {"user": user_id, "username": self.signed_in}
        code = self.codes.issue(
            client_id=self.client_id, redirect_uri=q.get("redirect_uri", ""), account=account
        )
        return consent_redirect(q.get("redirect_uri", ""), code, q.get("state", ""))

    def exchange_code(self, request: Request) -> Reply:
        form = request.form()
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return self._error(400, 101, "Error validating client secret.")
        grant = self.codes.redeem(
            form.get("code", ""),
            client_id=self.client_id,
            redirect_uri=form.get("redirect_uri", ""),
            verifier=None,
        )
        if grant is None:
            return self._error(
                400, 100, "This authorization code has been used.", error_subcode=36009
            )
        token = secrets.token_urlsafe(16)
        self.short[token] = grant["account"]
        return Reply(200, {"access_token": token, "user_id": int(grant["account"]["user"])})

    def long_lived(self, request: Request) -> Reply:
        q = request.query
        if q.get("grant_type") != "th_exchange_token" or q.get("client_secret") != (
            self.client_secret
        ):
            return self._error(400, 100, "Unsupported grant type")
        account = self.short.pop(q.get("access_token", ""), None)
        if account is None:
            return self._error(400, 190, "Invalid OAuth access token.")
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.tokens[token] = {
                "user": account["user"],
                "username": account["username"],
                "issued": time.time(),
            }
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 5183944})

    def me(self, request: Request) -> Reply:
        account = self._user(request)
        if isinstance(account, Reply):
            return account
        return Reply(200, {"id": account["user"], "username": account["username"]})

    def age(self, token: str, seconds: float) -> None:
        """Make a token older (the refresh needs it at least a day old)."""
        self.tokens[token]["issued"] -= seconds


OAUTH_FAKES = {
    "mastodon": FakeMastodonOAuth,
    "bluesky": FakeBlueskyOAuth,
    "x": FakeXOAuth,
    "linkedin": FakeLinkedInOAuth,
    "threads": FakeThreadsOAuth,
    "html": FakeHtmlSite,
}
