"""X API v2: no idempotency key. After an unknown outcome the account's own recent posts are
looked up; a resend that X refuses as duplicate content means the copy exists."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

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

_URL = re.compile(r"https?://\S+")
# Pages of 100 posts looked through after an unknown outcome (X bills each read).
LOOKUP_PAGES = 10
_SPACE = re.compile(r"\s+")


def comparable(text: str) -> str:
    """X shortens links to t.co in what it returns: compare texts with links blanked out."""
    return _SPACE.sub(" ", _URL.sub("<link>", text)).strip()


class XClient(NetworkClient):
    network = "x"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.credentials.get('access_token', '')}"}

    def _answer(self, response: httpx.Response, *, posting: bool) -> Outcome:
        code = response.status_code
        body = self.json_of(response)
        detail = str((body or {}).get("detail") or (body or {}).get("title") or "")
        summary = self.summary_of(response)
        headers = response.headers
        remaining = count(headers.get("x-rate-limit-remaining"))
        reset_at = epoch_time(headers.get("x-rate-limit-reset"))
        if count(headers.get("x-user-limit-24hour-remaining")) == 0:
            reset_at = epoch_time(headers.get("x-user-limit-24hour-reset")) or reset_at
            remaining = 0
        if 200 <= code < 300:
            data = (body or {}).get("data")
            if not isinstance(data, dict):
                return self.malformed(response, posting=posting)
            return Outcome(
                Result.SENT,
                status_code=code,
                summary=summary[:200],
                remaining=remaining,
                reset_at=reset_at,
                remote={"data": data},
            )
        if code == 401:
            return Outcome(
                Result.AUTH,
                status_code=code,
                summary=summary,
                message=_("X refused the account's access token."),
            )
        if code == 429:
            return Outcome(
                Result.RATE_LIMITED,
                until=reset_at or later(900),
                status_code=code,
                summary=summary,
                message=_("X's rate limit was reached."),
                remaining=0,
                reset_at=reset_at,
            )
        if code == 403 and "duplicate" in detail.lower():
            # The copy exists (this is a resend after an unknown outcome): find it.
            return Outcome(
                Result.UNKNOWN,
                status_code=code,
                summary=summary,
                message=_("X says the post is already there."),
            )
        if code >= 500:
            return self.server_error(response, posting=posting)
        return Outcome(
            Result.FAILED,
            status_code=code,
            summary=summary,
            message=_("X refused the post: %(error)s") % {"error": detail or code},
        )

    def _url(self, post_id: str) -> str:
        return f"https://x.com/{self.account.handle.lstrip('@')}/status/{post_id}"

    def create(
        self, payload: dict, *, key: str, reply_to: Copy | None, progress: dict, remember: Remember
    ) -> Outcome:
        body: dict = {"text": payload["text"]}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to.remote_id}
        answer = self.request(
            "POST", f"{self.base}/2/tweets", posting=True, headers=self._headers(), json=body
        )
        if isinstance(answer, Outcome):
            return answer
        outcome = self._answer(answer, posting=True)
        if outcome.result == Result.SENT:
            post_id = str(outcome.remote.pop("data", {}).get("id") or "")
            if not post_id:
                return self.malformed(answer, posting=True)
            outcome.remote_id, outcome.remote_url = post_id, self._url(post_id)
        return outcome

    def delete(self, *, copy: Copy) -> Outcome:
        answer = self.request(
            "DELETE",
            f"{self.base}/2/tweets/{copy.remote_id}",
            posting=False,
            headers=self._headers(),
        )
        if isinstance(answer, Outcome):
            return answer
        if answer.status_code == 404:
            return Outcome(Result.SENT, remote_id=copy.remote_id, summary="404 already deleted")
        outcome = self._answer(answer, posting=False)
        outcome.remote = {}
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
        """Look through the account's posts since shortly before the first try, page by page."""
        params: dict = {"max_results": 100, "tweet.fields": "created_at"}
        if since is not None:
            params["start_time"] = (since - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        wanted = comparable(payload["text"])
        for _page in range(LOOKUP_PAGES):
            answer = self.request(
                "GET",
                f"{self.base}/2/users/{self.account.remote_user_id}/tweets",
                posting=False,
                headers=self._headers(),
                params=params,
            )
            if isinstance(answer, Outcome):
                return Outcome(Result.UNKNOWN, message=answer.message, summary=answer.summary)
            body = self.json_of(answer)
            if answer.status_code != 200 or body is None:
                outcome = self._answer(answer, posting=False)
                if outcome.result not in (Result.AUTH, Result.RATE_LIMITED):
                    outcome.result = Result.UNKNOWN
                return outcome
            for post in body.get("data") or []:
                if isinstance(post, dict) and comparable(str(post.get("text", ""))) == wanted:
                    post_id = str(post.get("id", ""))
                    return Outcome(
                        Result.SENT,
                        remote_id=post_id,
                        remote_url=self._url(post_id),
                        summary="found among the account's recent posts",
                    )
            next_token = (body.get("meta") or {}).get("next_token")
            if not next_token:
                return Outcome(
                    Result.ABSENT, summary="not among the account's posts since the first try"
                )
            params["pagination_token"] = next_token
        return Outcome(
            Result.UNKNOWN, message=_("Too many posts to look through; trying again later.")
        )

    def refresh(self) -> dict | None:
        credentials = dict(self.account.credentials)
        if not credentials.get("refresh_token"):
            return None
        answer = self.request(
            "POST",
            f"{self.base}/2/oauth2/token",
            posting=False,
            data={
                "grant_type": "refresh_token",
                "refresh_token": credentials["refresh_token"],
                "client_id": credentials.get("client_id", ""),
            },
        )
        if isinstance(answer, Outcome) or answer.status_code != 200:
            return None
        body = self.json_of(answer) or {}
        if not body.get("access_token"):
            return None
        return credentials | {
            "access_token": body["access_token"],
            "refresh_token": body.get("refresh_token", ""),
        }
