"""X API v2: no idempotency key. After an unknown outcome the account's own recent posts are
looked up; a resend that X refuses as duplicate content means the copy exists. Images go up
through the v2 media endpoints first (upload, processing status, alt text as metadata)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import httpx
from django.utils.translation import gettext as _

from crossposting.clients.base import (
    MEDIA_WAIT_SECONDS,
    Copy,
    NetworkClient,
    Outcome,
    Remember,
    Result,
    count,
    epoch_time,
    later,
)
from crossposting.clients.media import MediaUnusable, fitted, load

_URL = re.compile(r"https?://\S+")
# Images: JPG, PNG, GIF or WEBP up to 5 MB; X keeps an upload for a day (expires_after_secs).
MAX_IMAGE_BYTES = 5 * 1024 * 1024
TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
MEDIA_KEPT = 86400.0
CATEGORIES = {"image/gif": "tweet_gif"}
MEDIA_MARGIN = 3600.0
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

    # Media -----------------------------------------------------------------------------------

    def _upload(
        self, images: list[dict], progress: dict, remember: Remember
    ) -> list[str] | Outcome:
        """Upload the part's images (``/2/media/upload``, ``media_category``), wait for their
        processing, set their alt text (``/2/media/metadata``). Ids already uploaded by an earlier
        try are kept in the progress and reused while X keeps them (a day)."""
        media_ids: list[str] = list(progress.get("media_ids") or [])
        kept_until = float(progress.get("media_kept_until") or 0)
        if media_ids and time.time() > kept_until:
            media_ids, kept_until = [], 0.0  # X has dropped them (or soon will): upload again
        elif not media_ids and time.time() > kept_until:
            kept_until = 0.0
        for image in images[len(media_ids) :]:
            pending = progress.get("media_pending") if kept_until else None
            if pending:  # uploaded by an earlier try, still processing then
                media_id, info = str(pending), {"state": "pending", "check_after_secs": 0}
            else:
                uploaded = self._upload_one(image)
                if isinstance(uploaded, Outcome):
                    return uploaded
                media_id, info, lifetime = uploaded
                kept_until = min(kept_until or float("inf"), time.time() + lifetime)
                if info:
                    remember({"media_pending": media_id, "media_kept_until": kept_until})
            ready = self._processed(media_id, info)
            if ready is not None:
                if ready.result == Result.FAILED:
                    remember({"media_pending": None})
                return ready
            if image.get("alt_text"):
                answer = self.request(
                    "POST",
                    f"{self.base}/2/media/metadata",
                    posting=False,
                    headers=self._headers(),
                    json={"id": media_id, "metadata": {"alt_text": {"text": image["alt_text"]}}},
                )
                data = self._media_data(answer)
                if isinstance(data, Outcome):
                    return data
            media_ids.append(media_id)
            remember(
                {"media_ids": media_ids, "media_kept_until": kept_until, "media_pending": None}
            )
        return media_ids

    def _upload_one(self, image: dict) -> tuple[str, dict | None, float] | Outcome:
        """One image up: its media id, processing info and seconds X keeps it (less a margin)."""
        try:
            media = fitted(load(image["url_or_path"]), max_bytes=MAX_IMAGE_BYTES, types=TYPES)
        except MediaUnusable as error:
            return Outcome(Result.FAILED, summary="image", message=error.message)
        answer = self.request(
            "POST",
            f"{self.base}/2/media/upload",
            posting=False,
            headers=self._headers(),
            files={"media": ("image", media.data, media.content_type)},
            data={"media_category": CATEGORIES.get(media.content_type, "tweet_image")},
        )
        data = self._media_data(answer)
        if isinstance(data, Outcome):
            return data
        lifetime = float(data.get("expires_after_secs") or MEDIA_KEPT) - MEDIA_MARGIN
        return str(data["id"]), data.get("processing_info"), lifetime

    def _media_data(self, answer: httpx.Response | Outcome) -> dict | Outcome:
        if isinstance(answer, Outcome):
            return answer
        outcome = self._answer(answer, posting=False)
        if outcome.result != Result.SENT:
            return outcome
        data = outcome.remote["data"]
        return data if data.get("id") else self.malformed(answer, posting=False)

    def _processed(self, media_id: str, info: dict | None) -> Outcome | None:
        """Wait (bounded) until X has processed an upload: None when it succeeded."""
        deadline = time.monotonic() + MEDIA_WAIT_SECONDS
        while True:
            state = str((info or {}).get("state") or "succeeded")
            if state == "succeeded":
                return None
            if state == "failed":
                error = (info or {}).get("error") or {}
                return Outcome(
                    Result.FAILED,
                    summary=f"media {media_id} failed: {error}"[:300],
                    message=_("X could not process an image: %(error)s")
                    % {"error": error.get("message") or error.get("name") or state},
                )
            if not self.wait(float(info.get("check_after_secs") or 1), deadline):
                return Outcome(Result.RETRY, message=_("X is still processing an image."))
            answer = self.request(
                "GET",
                f"{self.base}/2/media/upload",
                posting=False,
                headers=self._headers(),
                params={"command": "STATUS", "media_id": media_id},
            )
            data = self._media_data(answer)
            if isinstance(data, Outcome):
                return data
            info = data.get("processing_info")

    def create(
        self, payload: dict, *, key: str, reply_to: Copy | None, progress: dict, remember: Remember
    ) -> Outcome:
        body: dict = {"text": payload["text"]}
        if payload.get("images"):
            media_ids = self._upload(payload["images"], progress, remember)
            if isinstance(media_ids, Outcome):
                return media_ids
            body["media"] = {"media_ids": media_ids}
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
        return self.deleted(answer, copy, gone=(404,))

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
                return self.lookup_failed(answer)
            body = self.json_of(answer)
            if answer.status_code != 200 or body is None:
                return self.lookup_failed(answer)
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
