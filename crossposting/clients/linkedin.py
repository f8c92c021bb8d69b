"""LinkedIn Posts API: no idempotency key and no way to list the member's posts, but an identical
resend is refused as "Content is a duplicate of urn:…", naming the live copy: that is the proof."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

import httpx
from django.utils.translation import gettext as _

from crossposting.clients.base import Copy, NetworkClient, Outcome, Remember, Result, later

LINKEDIN_VERSION = "202611"
_DUPLICATE = re.compile(r"duplicate of (urn:li:(?:share|ugcPost):\d+)")


class LinkedInClient(NetworkClient):
    network = "linkedin"
    can_reply = False

    def _headers(self, method: str = "") -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.account.credentials.get('access_token', '')}",
            "LinkedIn-Version": LINKEDIN_VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        if method:
            headers["X-RestLi-Method"] = method
        return headers

    @staticmethod
    def _url(urn: str) -> str:
        return f"https://www.linkedin.com/feed/update/{urn}/"

    def _answer(self, response: httpx.Response, *, posting: bool) -> Outcome:
        code = response.status_code
        body = self.json_of(response)
        message = str((body or {}).get("message", ""))
        summary = self.summary_of(response)
        if 200 <= code < 300:
            return Outcome(Result.SENT, status_code=code, summary=summary[:200])
        duplicate = _DUPLICATE.search(message) if code == 422 else None
        if duplicate:
            urn = duplicate.group(1)
            return Outcome(
                Result.SENT,
                remote_id=urn,
                remote_url=self._url(urn),
                status_code=code,
                summary="duplicate of the live copy",
            )
        if code == 401:
            return Outcome(
                Result.AUTH,
                status_code=code,
                summary=summary,
                message=_("LinkedIn refused the account's access token (%(code)s).")
                % {"code": (body or {}).get("code", code)},
            )
        if code == 429:
            # LinkedIn sends no reset time: back off generously.
            return Outcome(
                Result.RATE_LIMITED,
                until=later(900),
                status_code=code,
                summary=summary,
                message=_("LinkedIn's rate limit was reached."),
                remaining=0,
            )
        if code >= 500:
            return self.server_error(response, posting=posting)
        return Outcome(
            Result.FAILED,
            status_code=code,
            summary=summary,
            message=_("LinkedIn refused the post: %(error)s") % {"error": message or code},
        )

    def create(
        self, payload: dict, *, key: str, reply_to: Copy | None, progress: dict, remember: Remember
    ) -> Outcome:
        body = {
            "author": self.account.remote_user_id,
            "commentary": payload["text"],
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        article = (payload.get("extra") or {}).get("article")
        if article:
            body["content"] = {"article": article}
        answer = self.request(
            "POST", f"{self.base}/rest/posts", posting=True, headers=self._headers(), json=body
        )
        if isinstance(answer, Outcome):
            return answer
        outcome = self._answer(answer, posting=True)
        if outcome.result == Result.SENT and not outcome.remote_id:
            urn = answer.headers.get("x-restli-id", "")
            if not urn.startswith("urn:li:"):
                return self.malformed(answer, posting=True)
            outcome.remote_id, outcome.remote_url = urn, self._url(urn)
        return outcome

    def delete(self, *, copy: Copy) -> Outcome:
        answer = self.request(
            "DELETE",
            f"{self.base}/rest/posts/{quote(copy.remote_id, safe='')}",
            posting=False,
            headers=self._headers("DELETE"),
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
        # Listing a member's posts needs a restricted permission; the duplicate answer to an
        # identical resend names the copy instead.
        return Outcome(Result.SAFE_TO_RESEND, summary="identical resend is refused as duplicate")
