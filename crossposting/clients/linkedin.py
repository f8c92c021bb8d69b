"""LinkedIn Posts API: no idempotency key and no way to list the member's posts, but an identical
resend is refused as "Content is a duplicate of urn:…", naming the live copy: that is the proof.
Images go through the Images API first (initializeUpload, PUT, processing) and the post carries
their URNs with the alt text."""

from __future__ import annotations

import re
import time
from datetime import datetime
from urllib.parse import quote

import httpx
from django.utils.translation import gettext as _

from crossposting.clients.base import (
    MEDIA_WAIT_SECONDS,
    Copy,
    NetworkClient,
    Outcome,
    Remember,
    Result,
    later,
)
from crossposting.clients.media import MediaUnusable, fitted, load

LINKEDIN_VERSION = "202611"
# The Images API takes JPG, GIF and PNG under 36,152,320 pixels; the byte size is not documented,
# so images are kept under 10 MB (ours are far smaller: feeds stores at most 2,048 a side).
MAX_IMAGE_BYTES = 10 * 1024 * 1024
TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
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
        images = payload.get("images") or []
        if images:
            urns = self._upload(images, progress, remember)
            if isinstance(urns, Outcome):
                return urns
            items = [
                {"id": urn, "altText": image.get("alt_text", "")}
                for urn, image in zip(urns, images, strict=True)
            ]
            # One image is content.media; several are a multiImage post (2-20).
            body["content"] = (
                {"media": items[0]} if len(items) == 1 else {"multiImage": {"images": items}}
            )
        elif article:
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
        # Deleting a post already gone answers 204 as well.
        answer = self.request(
            "DELETE",
            f"{self.base}/rest/posts/{quote(copy.remote_id, safe='')}",
            posting=False,
            headers=self._headers("DELETE"),
        )
        return self.deleted(answer, copy)

    # Images ----------------------------------------------------------------------------------

    def _upload(
        self, images: list[dict], progress: dict, remember: Remember
    ) -> list[str] | Outcome:
        """Each image: initializeUpload, PUT the bytes to the upload URL, then wait (bounded)
        until LinkedIn has processed them. Image URNs are kept in the delivery's progress, so a
        later try only waits for them again."""
        urns: list[str] = list(progress.get("image_urns") or [])
        for image in images[len(urns) :]:
            try:
                media = fitted(load(image["url_or_path"]), max_bytes=MAX_IMAGE_BYTES, types=TYPES)
            except MediaUnusable as error:
                return Outcome(Result.FAILED, summary="image", message=error.message)
            answer = self.request(
                "POST",
                f"{self.base}/rest/images",
                posting=False,
                headers=self._headers(),
                params={"action": "initializeUpload"},
                json={"initializeUploadRequest": {"owner": self.account.remote_user_id}},
            )
            if isinstance(answer, Outcome):
                return answer
            outcome = self._answer(answer, posting=False)
            value = (self.json_of(answer) or {}).get("value") or {}
            if outcome.result != Result.SENT:
                return outcome
            if not value.get("uploadUrl") or not str(value.get("image", "")).startswith("urn:"):
                return self.malformed(answer, posting=False)
            answer = self.request(
                "PUT",
                str(value["uploadUrl"]),
                posting=False,
                headers={
                    "Authorization": self._headers()["Authorization"],
                    "Content-Type": "application/octet-stream",
                },
                content=media.data,
            )
            if isinstance(answer, Outcome):
                return answer
            outcome = self._answer(answer, posting=False)
            if outcome.result != Result.SENT:
                return outcome
            urns.append(str(value["image"]))
            remember({"image_urns": urns})
        for urn in urns:
            ready = self._available(urn)
            if ready is not None:
                if ready.result == Result.FAILED:
                    remember({"image_urns": []})  # a later try uploads afresh
                return ready
        return urns

    def _available(self, urn: str) -> Outcome | None:
        """Wait (bounded) until an uploaded image is AVAILABLE: None when it is."""
        deadline = time.monotonic() + MEDIA_WAIT_SECONDS
        while True:
            answer = self.request(
                "GET",
                f"{self.base}/rest/images/{quote(urn, safe='')}",
                posting=False,
                headers=self._headers(),
            )
            if isinstance(answer, Outcome):
                return answer
            outcome = self._answer(answer, posting=False)
            if outcome.result != Result.SENT:
                return outcome
            status = str((self.json_of(answer) or {}).get("status") or "")
            if status == "AVAILABLE":
                return None
            if status not in ("PROCESSING", "WAITING_UPLOAD"):
                return Outcome(
                    Result.FAILED,
                    summary=f"image {urn} {status}",
                    message=_("LinkedIn could not process an image (%(status)s).")
                    % {"status": status or "?"},
                )
            if not self.wait(1.0, deadline):
                return Outcome(Result.RETRY, message=_("LinkedIn is still processing an image."))

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
