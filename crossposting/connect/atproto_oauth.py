"""Bluesky by AT Protocol OAuth (atproto.com/specs/oauth), where the member's server offers it:

- discovery: the PDS's ``/.well-known/oauth-protected-resource`` names its authorization
  server, whose ``/.well-known/oauth-authorization-server`` gives the endpoints;
- a pushed authorization request (PAR) with PKCE (S256), then the browser goes to the
  authorization endpoint with only ``client_id`` and ``request_uri``;
- every call to the authorization server and the PDS carries a DPoP proof (ES256, a key per
  account); a server that wants a nonce answers ``use_dpop_nonce`` with a ``DPoP-Nonce``
  header, and the call is made once more with it;
- tokens are DPoP-bound, the refresh token rotates.

The client is public (``token_endpoint_auth_method: none``). In development (an ``http``
``PODIUM_BASE_URL``) it is the spec's loopback client, ``http://localhost?redirect_uri=...``,
which needs no hosted metadata; otherwise the client_id is the address of
``client_metadata()``, served by ``views.bluesky_client_metadata``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.addresses import absolute_url
from crossposting.connect import flows
from crossposting.connect.errors import AuthorisationRefused, NotThatKindOfServer
from crossposting.models import Network

SCOPE = "atproto transition:generic"


# DPoP -------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_key() -> str:
    """A fresh ES256 (P-256) private key, as PEM text (stored sealed with the account)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _load(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an EC key")
    return key


def public_jwk(pem: str) -> dict:
    numbers = _load(pem).public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }


def proof(pem: str, method: str, url: str, *, nonce: str = "", access_token: str = "") -> str:
    """A DPoP proof JWT for one request: ``htu`` without query and fragment, ``ath`` when it
    goes with an access token."""
    parts = urlsplit(url)
    claims = {
        "jti": secrets.token_urlsafe(16),
        "htm": method.upper(),
        "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        "iat": int(time.time()),
    }
    if nonce:
        claims["nonce"] = nonce
    if access_token:
        claims["ath"] = _b64(hashlib.sha256(access_token.encode()).digest())
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(pem)}
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(claims, separators=(",", ":")).encode())
    )
    der = _load(pem).sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return signing_input + "." + _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def wants_nonce(response: httpx.Response) -> bool:
    """The server asks for (another) DPoP nonce: 400 from an authorization server, 401 with
    ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` from a resource server."""
    if not response.headers.get("DPoP-Nonce"):
        return False
    if response.status_code == 401:
        return "use_dpop_nonce" in response.headers.get("WWW-Authenticate", "")
    if response.status_code == 400:
        try:
            return (response.json() or {}).get("error") == "use_dpop_nonce"
        except ValueError:
            return False
    return False


# The client -------------------------------------------------------------------------------------


def redirect_uri() -> str:
    return flows.redirect_uri(Network.BLUESKY)


def metadata_url() -> str:
    return absolute_url(reverse("crossposting:bluesky-client-metadata"))


def is_loopback_client() -> bool:
    return urlsplit(settings.PODIUM_BASE_URL).scheme != "https"


def client_id() -> str:
    if is_loopback_client():
        return "http://localhost?" + urlencode(
            {"redirect_uri": redirect_uri(), "scope": SCOPE}, quote_via=_quote
        )
    return metadata_url()


def _quote(value, safe="", encoding=None, errors=None) -> str:
    from urllib.parse import quote

    return quote(value, safe="", encoding=encoding, errors=errors)


def client_metadata() -> dict:
    """The document at the client_id address (production): a public, DPoP-bound web client."""
    return {
        "client_id": metadata_url(),
        "client_name": "Podium",
        "client_uri": settings.PODIUM_BASE_URL,
        "application_type": "web",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "redirect_uris": [redirect_uri()],
        "scope": SCOPE,
        "token_endpoint_auth_method": "none",
        "dpop_bound_access_tokens": True,
    }


# Discovery --------------------------------------------------------------------------------------


@dataclass
class Server:
    """The member's PDS and the authorization server it trusts."""

    pds: str
    issuer: str
    par_endpoint: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str = ""


class NoOAuth(NotThatKindOfServer):
    """The server does not offer AT Protocol OAuth: an app password it is."""


def _no_oauth(pds: str) -> NoOAuth:
    return NoOAuth(
        _(
            "%(server)s does not offer signing in with Bluesky. Connect the account with an "
            "app password instead."
        )
        % {"server": flows._host(pds)}
    )


def _same_origin_url(value, origin: str) -> bool:
    parts = urlsplit(str(value or ""))
    return f"{parts.scheme}://{parts.netloc}" == origin and parts.scheme in ("https", "http")


def discover(pds: str) -> Server:
    """The authorization server of ``pds`` and its endpoints; NoOAuth when there is none (or
    it does not require what the spec requires: PAR, PKCE S256, DPoP ES256)."""
    from crossposting.connect.addresses import checked_server_url

    checked_server_url(pds)  # the address guard before anything is asked of it
    response = flows._call("GET", f"{pds}/.well-known/oauth-protected-resource")
    body = flows._json(response) if response.status_code == 200 else None
    servers = (body or {}).get("authorization_servers") or []
    if not servers or not isinstance(servers[0], str):
        raise _no_oauth(pds)
    # The PDS by its own public address (DPoP proofs name it in ``htu``), when it passes the
    # address guard; the address the member typed may be another name of it.
    resource = str((body or {}).get("resource") or "").rstrip("/")
    try:
        if resource and resource != pds:
            checked_server_url(resource)
            if urlsplit(resource).path:
                raise ValueError(resource)
            pds = resource
    except Exception as error:
        raise _no_oauth(pds) from error
    issuer = servers[0].rstrip("/")
    try:  # the address guard, as for any server a member names; the issuer stays as written
        checked_server_url(issuer)
    except Exception as error:
        raise _no_oauth(pds) from error
    if urlsplit(issuer).path or urlsplit(issuer).query:
        raise _no_oauth(pds)
    response = flows._call("GET", f"{issuer}/.well-known/oauth-authorization-server")
    meta = flows._json(response) if response.status_code == 200 else None
    if not meta or str(meta.get("issuer", "")).rstrip("/") != issuer:
        raise _no_oauth(pds)
    endpoints = {
        name: str(meta.get(name) or "")
        for name in (
            "pushed_authorization_request_endpoint",
            "authorization_endpoint",
            "token_endpoint",
        )
    }
    if not all(_same_origin_url(url, issuer) for url in endpoints.values()):
        raise _no_oauth(pds)
    if (
        "S256" not in (meta.get("code_challenge_methods_supported") or [])
        or "ES256" not in (meta.get("dpop_signing_alg_values_supported") or [])
        or "atproto" not in (meta.get("scopes_supported") or [])
    ):
        raise _no_oauth(pds)
    revocation = str(meta.get("revocation_endpoint") or "")
    return Server(
        pds=pds,
        issuer=issuer,
        par_endpoint=endpoints["pushed_authorization_request_endpoint"],
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        revocation_endpoint=revocation if _same_origin_url(revocation, issuer) else "",
    )


def offers_oauth(pds: str) -> bool:
    try:
        discover(pds)
    except Exception:
        return False
    return True


# Calls with DPoP --------------------------------------------------------------------------------


def dpop_post(url: str, form: dict, key: str, nonce: str) -> tuple[httpx.Response, str]:
    """POST a form with a DPoP proof; once more with the nonce the server asks for. Returns the
    answer and the nonce to use next."""
    response = flows._call(
        "POST", url, data=form, headers={"DPoP": proof(key, "POST", url, nonce=nonce)}
    )
    if wants_nonce(response):
        nonce = response.headers["DPoP-Nonce"]
        response = flows._call(
            "POST", url, data=form, headers={"DPoP": proof(key, "POST", url, nonce=nonce)}
        )
    return response, response.headers.get("DPoP-Nonce") or nonce


# The authorization ------------------------------------------------------------------------------


def start(
    server: Server, *, state: str, pkce: flows.Pkce, key: str, login_hint: str = ""
) -> tuple[str, str]:
    """The pushed authorization request; returns where the browser goes and the DPoP nonce."""
    form = {
        "client_id": client_id(),
        "response_type": "code",
        "redirect_uri": redirect_uri(),
        "scope": SCOPE,
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    if login_hint:
        form["login_hint"] = login_hint
    response, nonce = dpop_post(server.par_endpoint, form, key, "")
    body = flows._json(response) or {}
    if response.status_code not in (200, 201) or not body.get("request_uri"):
        raise AuthorisationRefused(
            _("%(server)s refused to start signing in (%(reason)s). Use an app password instead.")
            % {
                "server": flows._host(server.issuer),
                "reason": str(
                    body.get("error_description") or body.get("error") or response.status_code
                )[:200],
            }
        )
    query = urlencode({"client_id": client_id(), "request_uri": str(body["request_uri"])})
    return f"{server.authorization_endpoint}?{query}", nonce


def finish(
    server: Server, *, code: str, issuer: str, pkce: flows.Pkce, key: str, nonce: str
) -> flows.Identity:
    """Exchange the code (DPoP-bound); the account is ``sub``, which must be the PDS's own."""
    if issuer and issuer.rstrip("/") != server.issuer:
        raise AuthorisationRefused(
            _("The answer came from another server than the one asked. Start connecting again.")
        )
    now = timezone.now()
    response, nonce = dpop_post(
        server.token_endpoint,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri(),
            "code_verifier": pkce.verifier,
            "client_id": client_id(),
        },
        key,
        nonce,
    )
    body = flows._json(response)
    if body is None:
        raise flows._not_recognised(server.issuer, "Bluesky")
    if response.status_code != 200 or not body.get("access_token"):
        raise flows._token_refused(response, "Bluesky")
    did = str(body.get("sub") or "")
    if (
        not did.startswith("did:")
        or str(body.get("token_type", "")).lower() != "dpop"
        or "atproto" not in str(body.get("scope", "")).split()
    ):
        raise AuthorisationRefused(_("Bluesky did not say which account was authorised."))
    handle = _handle_of(server.pds, did)
    expires = flows._expiry(body, now)
    return flows.Identity(
        network=Network.BLUESKY,
        handle=handle or did,
        remote_user_id=did,
        profile_url=f"https://bsky.app/profile/{handle or did}",
        base_url=server.pds,
        secrets={
            "auth": "oauth",
            "did": did,
            "access_token": str(body["access_token"]),
            "refresh_token": str(body.get("refresh_token") or ""),
            "dpop_key": key,
            "dpop_nonce": nonce,
            "client_id": client_id(),
            "issuer": server.issuer,
            "token_endpoint": server.token_endpoint,
            "revocation_endpoint": server.revocation_endpoint,
            "expires_at": expires.isoformat() if expires else "",
        },
        token_issued_at=now,
    )


def _handle_of(pds: str, did: str) -> str:
    """The account's handle as its PDS knows it (``describeRepo``); "" when it does not say."""
    response = flows._call("GET", f"{pds}/xrpc/com.atproto.repo.describeRepo", params={"repo": did})
    body = flows._json(response) or {}
    if response.status_code != 200 or body.get("did") != did:
        raise AuthorisationRefused(
            _("The account signed in is not hosted on %(server)s. Start connecting again.")
            % {"server": flows._host(pds)}
        )
    return str(body.get("handle") or "")


def revoke(secrets_: dict) -> bool:
    url = secrets_.get("revocation_endpoint") or ""
    if not url or not secrets_.get("refresh_token"):
        return False
    response, _nonce = dpop_post(
        url,
        {"token": secrets_["refresh_token"], "client_id": secrets_.get("client_id", "")},
        secrets_["dpop_key"],
        secrets_.get("dpop_nonce", ""),
    )
    return response.status_code == 200
