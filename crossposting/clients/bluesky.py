"""Bluesky (AT Protocol, app password session): ``putRecord`` with the rkey chosen when the
delivery was frozen, so a resend of the identical record is a no-op; ``getRecord`` proves whether
the copy exists.

Before the record is written, mention handles are resolved to DIDs (``resolveHandle``; one that
does not resolve stays plain text) and images are uploaded as blobs (``uploadBlob``) with their
alt text; the link card is the renderer's, built from the post, with nothing fetched."""

from __future__ import annotations

from datetime import datetime

import httpx
from django.utils.translation import gettext as _

from crossposting.clients.base import (
    Copy,
    NetworkClient,
    Outcome,
    Remember,
    Result,
    count,
    epoch_time,
    later,
)
from crossposting.clients.media import MediaFile, MediaUnusable, fitted, load
from crossposting.connect import atproto_oauth

COLLECTION = "app.bsky.feed.post"
MENTION = "app.bsky.richtext.facet#mention"
IMAGES = "app.bsky.embed.images"
EXTERNAL = "app.bsky.embed.external"
# The lexicon allows 2,000,000 bytes per image now, but older PDS and AppView deployments (and
# bsky-docs) still say 1,000,000: stay within the smaller one. A link card's thumb: 1,000,000.
MAX_IMAGE_BYTES = 1_000_000
MAX_THUMB_BYTES = 1_000_000
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
AUTH_ERRORS = {"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired"}


class BlueskyClient(NetworkClient):
    network = "bluesky"

    def _xrpc(self, method: str) -> str:
        return f"{self.base}/xrpc/{method}"

    def _did(self) -> str:
        return self.account.remote_user_id or self.account.credentials.get("did", "")

    def _headers(self) -> dict[str, str]:
        credentials = self.account.credentials
        if credentials.get("dpop_key"):  # connected by OAuth: a DPoP-bound token
            return {"Authorization": f"DPoP {credentials.get('access_token', '')}"}
        return {"Authorization": f"Bearer {credentials.get('access_jwt', '')}"}

    def request(self, method: str, url: str, *, posting: bool, **kwargs):
        """A call with a DPoP-bound token carries a fresh proof (with ``ath`` and the server's
        nonce); asked for another nonce, it is made once more with it."""
        authorization = (kwargs.get("headers") or {}).get("Authorization", "")
        key = self.account.credentials.get("dpop_key")
        if not key or not authorization.startswith("DPoP "):
            return super().request(method, url, posting=posting, **kwargs)
        token = authorization[5:]
        for _attempt in range(2):
            nonce = self.account.credentials.get("dpop_nonce", "")
            kwargs["headers"] = kwargs["headers"] | {
                "DPoP": atproto_oauth.proof(key, method, url, nonce=nonce, access_token=token)
            }
            answer = super().request(method, url, posting=posting, **kwargs)
            if isinstance(answer, Outcome):
                return answer
            fresh = answer.headers.get("DPoP-Nonce")
            if fresh:
                self.account.credentials = self.account.credentials | {"dpop_nonce": fresh}
            if not atproto_oauth.wants_nonce(answer) or fresh == nonce:
                return answer
        return answer

    def _answer(self, response: httpx.Response, *, posting: bool) -> Outcome:
        code = response.status_code
        body = self.json_of(response)
        error = str((body or {}).get("error", ""))
        message = str((body or {}).get("message", ""))
        summary = self.summary_of(response)
        reset_at = epoch_time(response.headers.get("RateLimit-Reset"))
        remaining = count(response.headers.get("RateLimit-Remaining"))
        if 200 <= code < 300:
            if body is None:
                return self.malformed(response, posting=posting)
            return Outcome(
                Result.SENT,
                status_code=code,
                summary=summary[:200],
                remaining=remaining,
                reset_at=reset_at,
            )
        if error in AUTH_ERRORS or code == 401:
            return Outcome(
                Result.AUTH,
                status_code=code,
                summary=summary,
                message=_("Bluesky refused the session (%(error)s).") % {"error": error or code},
            )
        if code == 429:
            return Outcome(
                Result.RATE_LIMITED,
                until=reset_at or later(300),
                status_code=code,
                summary=summary,
                message=_("Bluesky's rate limit was reached."),
                remaining=0,
                reset_at=reset_at,
            )
        if code >= 500 or body is None:
            return self.server_error(response, posting=posting)
        return Outcome(
            Result.FAILED,
            status_code=code,
            summary=summary,
            message=_("Bluesky refused the post: %(error)s") % {"error": message or error or code},
        )

    def _record(
        self, payload: dict, reply_to: Copy | None, progress: dict, remember: Remember
    ) -> dict | Outcome:
        """The post record: mentions resolved to DIDs, images uploaded as blobs."""
        record: dict = {
            "$type": COLLECTION,
            "text": payload["text"],
            "createdAt": payload["created_at"],
        }
        if payload.get("language"):
            record["langs"] = [payload["language"]]
        facets = self._facets(payload.get("facets") or [], progress, remember)
        if facets:
            record["facets"] = facets
        embed = (payload.get("extra") or {}).get("embed")
        if embed:
            embed = self._embed(embed)
            if isinstance(embed, Outcome):
                return embed
            record["embed"] = embed
        if reply_to:
            parent = {"uri": reply_to.remote_id, "cid": reply_to.remote.get("cid", "")}
            root = reply_to.remote.get("root") or parent
            record["reply"] = {"root": root, "parent": parent}
        return record

    # Mentions ---------------------------------------------------------------------------------

    def _facets(self, facets: list[dict], progress: dict, remember: Remember) -> list[dict]:
        """The renderer's facets with each mention's handle replaced by the DID it resolves to;
        a mention that does not resolve stays plain text (its facet is left out). Answers are
        kept in the delivery's progress so that every try sends the same record."""
        known: dict[str, str] = dict(progress.get("dids") or {})
        learnt = False
        out = []
        for facet in facets:
            features = []
            for feature in facet.get("features") or []:
                handle = feature.get("handle") if feature.get("$type") == MENTION else None
                if handle is None:
                    features.append(feature)
                    continue
                if handle not in known:
                    did = self._resolve(handle)
                    if did is None:  # no answer this time: not kept, the next try asks again
                        continue
                    known[handle], learnt = did, True
                if known[handle]:
                    features.append({"$type": MENTION, "did": known[handle]})
            if features:
                out.append({**facet, "features": features})
        if learnt:
            remember({"dids": known})
        return out

    def _resolve(self, handle: str) -> str | None:
        """The DID of ``handle`` (com.atproto.identity.resolveHandle on the account's server),
        "" when the server says it does not resolve, None when there was no answer."""
        answer = self.request(
            "GET",
            self._xrpc("com.atproto.identity.resolveHandle"),
            posting=False,
            params={"handle": handle.lstrip("@")},
        )
        if isinstance(answer, Outcome) or answer.status_code >= 500:
            return None
        did = str((self.json_of(answer) or {}).get("did") or "")
        if answer.status_code == 200 and did.startswith("did:"):
            return did
        return "" if answer.status_code in (400, 404) else None

    # Embeds -----------------------------------------------------------------------------------

    def _embed(self, embed: dict) -> dict | Outcome:
        if embed.get("$type") == IMAGES:
            images = []
            for entry in embed.get("images") or []:
                image = self._blob(entry.get("image"), MAX_IMAGE_BYTES)
                if isinstance(image, Outcome):
                    return image
                blob, media = image
                item = {"alt": str(entry.get("alt") or ""), "image": blob}
                if media is not None:
                    item["aspectRatio"] = {"width": media.width, "height": media.height}
                images.append(item)
            return {"$type": IMAGES, "images": images}
        if embed.get("$type") == EXTERNAL:
            # The card is built from the post itself (the renderer's title and description);
            # nothing is fetched from the linked page.
            card = embed.get("external") or {}
            external = {
                "uri": str(card.get("uri") or ""),
                "title": str(card.get("title") or ""),
                "description": str(card.get("description") or ""),
            }
            if card.get("thumb"):
                thumb = self._blob(card["thumb"], MAX_THUMB_BYTES)
                if isinstance(thumb, Outcome):
                    return thumb
                external["thumb"] = thumb[0]
            return {"$type": EXTERNAL, "external": external}
        return embed

    def _blob(self, image, max_bytes: int) -> tuple[dict, MediaFile | None] | Outcome:
        """Upload a stored image (its storage name) as a blob; a blob already is one."""
        if isinstance(image, dict) and image.get("$type") == "blob":
            return image, None
        try:
            media = fitted(load(str(image or "")), max_bytes=max_bytes, types=IMAGE_TYPES)
        except MediaUnusable as error:
            return Outcome(Result.FAILED, summary="image", message=error.message)
        answer = self.request(
            "POST",
            self._xrpc("com.atproto.repo.uploadBlob"),
            posting=False,
            headers=self._headers() | {"Content-Type": media.content_type},
            content=media.data,
        )
        if isinstance(answer, Outcome):
            return answer
        outcome = self._answer(answer, posting=False)
        if outcome.result != Result.SENT:
            return outcome
        blob = (self.json_of(answer) or {}).get("blob")
        if not isinstance(blob, dict) or not blob.get("ref"):
            return self.malformed(answer, posting=False)
        return blob, media

    def _session(self) -> Outcome | None:
        """Log in with the app password when there is no session yet."""
        if self.account.credentials.get("access_jwt") or self.account.credentials.get(
            "access_token"
        ):
            return None
        fresh = self.refresh()
        if fresh is None:
            return Outcome(Result.AUTH, message=_("Bluesky refused the app password."))
        self.account.credentials = fresh
        return None

    def create(
        self, payload: dict, *, key: str, reply_to: Copy | None, progress: dict, remember: Remember
    ) -> Outcome:
        refused = self._session()
        if refused:
            return refused
        record = self._record(payload, reply_to, progress, remember)
        if isinstance(record, Outcome):
            return record
        answer = self.request(
            "POST",
            self._xrpc("com.atproto.repo.putRecord"),
            posting=True,
            headers=self._headers(),
            json={
                "repo": self._did(),
                "collection": COLLECTION,
                "rkey": payload["rkey"],
                "record": record,
            },
        )
        if isinstance(answer, Outcome):
            return answer
        outcome = self._answer(answer, posting=True)
        if outcome.result == Result.SENT:
            body = self.json_of(answer) or {}
            if not body.get("uri"):
                return self.malformed(answer, posting=True)
            self._copy(outcome, str(body["uri"]), str(body.get("cid", "")), payload, reply_to)
        return outcome

    def _copy(
        self, outcome: Outcome, uri: str, cid: str, payload: dict, reply_to: Copy | None
    ) -> None:
        outcome.remote_id = uri
        outcome.remote_url = (
            f"https://bsky.app/profile/{self.account.handle}/post/{payload['rkey']}"
        )
        root = (reply_to.remote.get("root") if reply_to else None) or (
            {"uri": reply_to.remote_id, "cid": reply_to.remote.get("cid", "")} if reply_to else None
        )
        outcome.remote = {"cid": cid, "root": root or {"uri": uri, "cid": cid}}

    def delete(self, *, copy: Copy) -> Outcome:
        refused = self._session()
        if refused:
            return refused
        # deleteRecord is idempotent ("or ensure it doesn't exist"): a gone copy answers 200.
        answer = self.request(
            "POST",
            self._xrpc("com.atproto.repo.deleteRecord"),
            posting=False,
            headers=self._headers(),
            json={
                "repo": self._did(),
                "collection": COLLECTION,
                "rkey": copy.remote_id.rsplit("/", 1)[-1],
            },
        )
        return self.deleted(answer, copy)

    def find(
        self,
        payload: dict,
        *,
        key: str,
        progress: dict,
        since: datetime | None,
        may_resend: bool = True,
    ) -> Outcome:
        refused = self._session()
        if refused:
            return refused
        answer = self.request(
            "GET",
            self._xrpc("com.atproto.repo.getRecord"),
            posting=False,
            headers=self._headers(),
            params={"repo": self._did(), "collection": COLLECTION, "rkey": payload["rkey"]},
        )
        if isinstance(answer, Outcome):
            return self.lookup_failed(answer)
        body = self.json_of(answer) or {}
        if answer.status_code == 200 and body.get("uri"):
            outcome = Outcome(Result.SENT, status_code=200, summary="record exists")
            reply = (body.get("value") or {}).get("reply") or {}
            parent = reply.get("parent")
            reply_to = (
                Copy(parent["uri"], remote={"cid": parent.get("cid"), "root": reply.get("root")})
                if parent
                else None
            )
            self._copy(outcome, str(body["uri"]), str(body.get("cid", "")), payload, reply_to)
            return outcome
        if answer.status_code == 400 and body.get("error") == "RecordNotFound":
            return Outcome(Result.ABSENT, status_code=400, summary="RecordNotFound")
        return self.lookup_failed(answer)

    def refresh(self) -> dict | None:
        """Rotate the session with the refresh token; failing that, log in with the app password."""
        credentials = dict(self.account.credentials)
        if credentials.get("dpop_key"):
            return self._refresh_oauth(credentials)
        if credentials.get("refresh_jwt"):
            answer = self.request(
                "POST",
                self._xrpc("com.atproto.server.refreshSession"),
                posting=False,
                headers={"Authorization": f"Bearer {credentials['refresh_jwt']}"},
            )
            if not isinstance(answer, Outcome) and answer.status_code == 200:
                body = self.json_of(answer) or {}
                if body.get("accessJwt"):
                    return credentials | {
                        "access_jwt": body["accessJwt"],
                        "refresh_jwt": body.get("refreshJwt", credentials["refresh_jwt"]),
                    }
        if credentials.get("identifier") and credentials.get("password"):
            answer = self.request(
                "POST",
                self._xrpc("com.atproto.server.createSession"),
                posting=False,
                json={"identifier": credentials["identifier"], "password": credentials["password"]},
            )
            if not isinstance(answer, Outcome) and answer.status_code == 200:
                body = self.json_of(answer) or {}
                if body.get("accessJwt"):
                    return credentials | {
                        "access_jwt": body["accessJwt"],
                        "refresh_jwt": body.get("refreshJwt", ""),
                        "did": body.get("did", credentials.get("did", "")),
                    }
        return None

    def _refresh_oauth(self, credentials: dict) -> dict | None:
        """Rotate a DPoP-bound OAuth token (the refresh token is single use, a new one comes
        back); the authorization server's nonce is asked for once."""
        url = credentials.get("token_endpoint", "")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": credentials.get("refresh_token", ""),
            "client_id": credentials.get("client_id", ""),
        }
        if not url or not form["refresh_token"]:
            return None
        nonce = credentials.get("dpop_nonce", "")
        for _attempt in range(2):
            proof = atproto_oauth.proof(credentials["dpop_key"], "POST", url, nonce=nonce)
            answer = super().request("POST", url, posting=False, data=form, headers={"DPoP": proof})
            if isinstance(answer, Outcome):
                return None
            fresh = answer.headers.get("DPoP-Nonce") or nonce
            if not atproto_oauth.wants_nonce(answer) or fresh == nonce:
                break
            nonce = fresh
        body = self.json_of(answer) or {}
        if answer.status_code != 200 or not body.get("access_token"):
            return None
        if body.get("sub") and body["sub"] != credentials.get("did"):
            return None
        return credentials | {
            "access_token": body["access_token"],
            "refresh_token": body.get("refresh_token") or credentials["refresh_token"],
            "dpop_nonce": answer.headers.get("DPoP-Nonce") or nonce,
        }
