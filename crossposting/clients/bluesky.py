"""Bluesky (AT Protocol, app password session): ``putRecord`` with the rkey chosen when the
delivery was frozen, so a resend of the identical record is a no-op; ``getRecord`` proves whether
the copy exists."""

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

COLLECTION = "app.bsky.feed.post"
AUTH_ERRORS = {"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired"}


class BlueskyClient(NetworkClient):
    network = "bluesky"

    def _xrpc(self, method: str) -> str:
        return f"{self.base}/xrpc/{method}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.credentials.get('access_jwt', '')}"}

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

    def _record(self, payload: dict, reply_to: Copy | None) -> dict:
        record: dict = {
            "$type": COLLECTION,
            "text": payload["text"],
            "createdAt": payload["created_at"],
        }
        if payload.get("language"):
            record["langs"] = [payload["language"]]
        if payload.get("facets"):
            record["facets"] = payload["facets"]
        embed = (payload.get("extra") or {}).get("embed")
        if embed:
            record["embed"] = embed
        if reply_to:
            parent = {"uri": reply_to.remote_id, "cid": reply_to.remote.get("cid", "")}
            root = reply_to.remote.get("root") or parent
            record["reply"] = {"root": root, "parent": parent}
        return record

    def _session(self) -> Outcome | None:
        """Log in with the app password when there is no session yet."""
        if self.account.credentials.get("access_jwt"):
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
        did = self.account.remote_user_id or self.account.credentials.get("did", "")
        answer = self.request(
            "POST",
            self._xrpc("com.atproto.repo.putRecord"),
            posting=True,
            headers=self._headers(),
            json={
                "repo": did,
                "collection": COLLECTION,
                "rkey": payload["rkey"],
                "record": self._record(payload, reply_to),
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
        did = self.account.remote_user_id or self.account.credentials.get("did", "")
        answer = self.request(
            "POST",
            self._xrpc("com.atproto.repo.deleteRecord"),
            posting=False,
            headers=self._headers(),
            json={"repo": did, "collection": COLLECTION, "rkey": copy.remote_id.rsplit("/", 1)[-1]},
        )
        if isinstance(answer, Outcome):
            return answer
        outcome = self._answer(answer, posting=False)
        outcome.remote_id = copy.remote_id if outcome.result == Result.SENT else ""
        return outcome

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
        did = self.account.remote_user_id or self.account.credentials.get("did", "")
        answer = self.request(
            "GET",
            self._xrpc("com.atproto.repo.getRecord"),
            posting=False,
            headers=self._headers(),
            params={"repo": did, "collection": COLLECTION, "rkey": payload["rkey"]},
        )
        if isinstance(answer, Outcome):
            return Outcome(Result.UNKNOWN, message=answer.message, summary=answer.summary)
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
        outcome = self._answer(answer, posting=False)
        if outcome.result not in (Result.AUTH, Result.RATE_LIMITED):
            outcome.result = Result.UNKNOWN
        return outcome

    def refresh(self) -> dict | None:
        """Rotate the session with the refresh token; failing that, log in with the app password."""
        credentials = dict(self.account.credentials)
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
