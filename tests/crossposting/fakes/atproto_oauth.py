"""A PDS with its own AT Protocol OAuth authorization server (atproto.com/specs/oauth), as
strict as the spec: discovery documents, a pushed authorization request (PAR) with PKCE S256,
DPoP proofs checked on every call (ES256 signature, ``typ``, ``htm``, ``htu``, ``iat``, single
use ``jti``, the server's nonce, ``ath`` at the PDS), tokens bound to the proof's key, single use
codes and rotating refresh tokens. The consent page is an immediate consent (302 to the
redirect URI with ``code``, ``state`` and ``iss``) for the account named in ``signed_in``."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.crossposting.fakes.server import FakeNetwork, Reply, Request


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: dict) -> str:
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return _b64(hashlib.sha256(canonical.encode()).digest())


class FakeAtprotoOAuth(FakeNetwork):
    name = "atproto-oauth"
    routes = [
        ("GET", r"/\.well-known/oauth-protected-resource", "protected_resource"),
        ("GET", r"/\.well-known/oauth-authorization-server", "server_metadata"),
        ("POST", r"/oauth/par", "par"),
        ("GET", r"/oauth/authorize", "authorize"),
        ("POST", r"/oauth/token", "token"),
        ("POST", r"/oauth/revoke", "revoke"),
        ("GET", r"/xrpc/com\.atproto\.repo\.describeRepo", "describe_repo"),
        ("POST", r"/xrpc/com\.atproto\.repo\.putRecord", "put_record"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        self.offers_oauth = True
        self.signed_in = "did:plc:teacher"
        self.handles = {"did:plc:teacher": "teacher.test", "did:plc:other": "other.test"}
        self.nonce = secrets.token_urlsafe(8)
        self.seen_jti: set[str] = set()
        self.pars: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.access: dict[str, dict] = {}
        self.refresh: dict[str, dict] = {}
        self.records: dict[str, dict] = {}
        self.refused: list[str] = []  # why a proof was refused, for the tests to read

    def rotate_nonce(self) -> None:
        self.nonce = secrets.token_urlsafe(8)

    # DPoP ---------------------------------------------------------------------------------------

    def _proof(self, request: Request, *, token: str = "") -> str | Reply:
        """The key thumbprint of a valid proof, or the refusal."""
        at_pds = request.path.startswith("/xrpc/")

        def refuse(why: str, status: int = 400) -> Reply:
            self.refused.append(why)
            error = "invalid_dpop_proof"
            if why == "nonce":
                error = "use_dpop_nonce"
                headers = {"DPoP-Nonce": self.nonce}
                if at_pds:
                    headers["WWW-Authenticate"] = f'DPoP error="{error}"'
                    return Reply(401, {"error": error}, headers)
                return Reply(400, {"error": error}, headers)
            return Reply(401 if at_pds else 400, {"error": error, "error_description": why})

        jwt = request.headers.get("dpop", "")
        try:
            head, body, signature = jwt.split(".")
            header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
            jwk = header["jwk"]
            key = ec.EllipticCurvePublicNumbers(
                int.from_bytes(_unb64(jwk["x"]), "big"),
                int.from_bytes(_unb64(jwk["y"]), "big"),
                ec.SECP256R1(),
            ).public_key()
            raw = _unb64(signature)
            der = encode_dss_signature(
                int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
            )
            key.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
        except (ValueError, KeyError, TypeError, InvalidSignature):
            return refuse("signature")
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256" or "d" in jwk:
            return refuse("header")
        if claims.get("htm") != request.method or claims.get("htu") != self.base_url + request.path:
            return refuse("htm/htu")
        if abs(time.time() - int(claims.get("iat") or 0)) > 60:
            return refuse("iat")
        jti = str(claims.get("jti") or "")
        if not jti or jti in self.seen_jti:
            return refuse("jti")
        self.seen_jti.add(jti)
        if claims.get("nonce") != self.nonce:
            return refuse("nonce")
        if token and claims.get("ath") != _b64(hashlib.sha256(token.encode()).digest()):
            return refuse("ath")
        return thumbprint(jwk)

    # Discovery ----------------------------------------------------------------------------------

    def protected_resource(self, request: Request) -> Reply:
        if not self.offers_oauth:
            return Reply(404, {"error": "NotFound"})
        return Reply(200, {"resource": self.base_url, "authorization_servers": [self.base_url]})

    def server_metadata(self, request: Request) -> Reply:
        if not self.offers_oauth:
            return Reply(404, {"error": "NotFound"})
        base = self.base_url
        return Reply(
            200,
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/oauth/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "pushed_authorization_request_endpoint": f"{base}/oauth/par",
                "revocation_endpoint": f"{base}/oauth/revoke",
                "require_pushed_authorization_requests": True,
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
                "dpop_signing_alg_values_supported": ["ES256"],
                "scopes_supported": ["atproto", "transition:generic"],
                "authorization_response_iss_parameter_supported": True,
                "client_id_metadata_document_supported": True,
            },
        )

    # Authorization ------------------------------------------------------------------------------

    @staticmethod
    def _loopback_redirects(client_id: str) -> list[str]:
        """A loopback client_id (``http://localhost?redirect_uri=...``) names its redirect URIs."""
        parts = urlsplit(client_id)
        if parts.scheme != "http" or parts.netloc != "localhost" or parts.path not in ("", "/"):
            return []
        return parse_qs(parts.query).get("redirect_uri", [])

    def par(self, request: Request) -> Reply:
        jkt = self._proof(request)
        if isinstance(jkt, Reply):
            return jkt
        form = request.form()
        redirects = self._loopback_redirects(form.get("client_id", ""))
        if not redirects or form.get("redirect_uri") not in redirects:
            return Reply(400, {"error": "invalid_client", "error_description": "client_id"})
        if form.get("response_type") != "code" or "atproto" not in form.get("scope", "").split():
            return Reply(400, {"error": "invalid_request", "error_description": "scope"})
        if form.get("code_challenge_method") != "S256" or not form.get("code_challenge"):
            return Reply(400, {"error": "invalid_request", "error_description": "PKCE"})
        if not form.get("state"):
            return Reply(400, {"error": "invalid_request", "error_description": "state"})
        request_uri = "urn:ietf:params:oauth:request_uri:req-" + secrets.token_hex(8)
        self.pars[request_uri] = form | {"jkt": jkt}
        return Reply(201, {"request_uri": request_uri, "expires_in": 299})

    def authorize(self, request: Request) -> Reply:
        q = request.query
        par = self.pars.pop(q.get("request_uri", ""), None)
        if par is None or par["client_id"] != q.get("client_id"):
            return Reply(400, {"error": "invalid_request"})
        code = "cod-" + secrets.token_hex(8)
        self.codes[code] = par | {"sub": self.signed_in, "used": False}
        query = urlencode({"code": code, "state": par["state"], "iss": self.base_url})
        return Reply(302, b"", {"Location": f"{par['redirect_uri']}?{query}"}, "text/plain")

    def _tokens(self, sub: str, jkt: str, client_id: str) -> dict:
        access, refresh = "acc-" + secrets.token_hex(8), "ref-" + secrets.token_hex(8)
        self.access[access] = {"sub": sub, "jkt": jkt}
        self.refresh[refresh] = {"sub": sub, "jkt": jkt, "client_id": client_id}
        return {
            "access_token": access,
            "token_type": "DPoP",
            "refresh_token": refresh,
            "scope": "atproto transition:generic",
            "sub": sub,
            "expires_in": 3600,
        }

    def token(self, request: Request) -> Reply:
        jkt = self._proof(request)
        if isinstance(jkt, Reply):
            return jkt
        form = request.form()
        nonce = {"DPoP-Nonce": self.nonce}
        if form.get("grant_type") == "refresh_token":
            grant = self.refresh.pop(form.get("refresh_token", ""), None)  # single use
            if grant is None or grant["jkt"] != jkt or grant["client_id"] != form.get("client_id"):
                return Reply(400, {"error": "invalid_grant"}, nonce)
            return Reply(200, self._tokens(grant["sub"], jkt, grant["client_id"]), nonce)
        grant = self.codes.get(form.get("code", ""))
        if grant is None or grant["used"]:
            return Reply(400, {"error": "invalid_grant"}, nonce)
        grant["used"] = True
        verifier = form.get("code_verifier", "")
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        if (
            challenge != grant["code_challenge"]
            or form.get("redirect_uri") != grant["redirect_uri"]
            or form.get("client_id") != grant["client_id"]
            or jkt != grant["jkt"]
        ):
            return Reply(400, {"error": "invalid_grant"}, nonce)
        return Reply(200, self._tokens(grant["sub"], jkt, grant["client_id"]), nonce)

    def revoke(self, request: Request) -> Reply:
        jkt = self._proof(request)
        if isinstance(jkt, Reply):
            return jkt
        self.refresh.pop(request.form().get("token", ""), None)
        return Reply(200, {})

    # The PDS ------------------------------------------------------------------------------------

    def describe_repo(self, request: Request) -> Reply:
        did = request.query.get("repo", "")
        if did not in self.handles:
            return Reply(400, {"error": "InvalidRequest", "message": "Could not find repo"})
        return Reply(200, {"did": did, "handle": self.handles[did], "handleIsCorrect": True})

    def put_record(self, request: Request) -> Reply:
        value = request.headers.get("authorization", "")
        token = value[5:] if value.startswith("DPoP ") else ""
        session = self.access.get(token)
        if session is None:
            return Reply(401, {"error": "InvalidToken", "message": "Bad token"})
        jkt = self._proof(request, token=token)
        if isinstance(jkt, Reply):
            return jkt
        if jkt != session["jkt"]:
            return Reply(401, {"error": "InvalidToken", "message": "DPoP key mismatch"})
        body = request.json()
        if body.get("repo") != session["sub"]:
            return Reply(403, {"error": "AuthRequiredError"})
        uri = f"at://{session['sub']}/{body.get('collection')}/{body.get('rkey')}"
        self.records[uri] = body.get("record") or {}
        return Reply(200, {"uri": uri, "cid": "bafy" + secrets.token_hex(8)})
