"""Mastodon (and Mastodon-compatible servers): statuses with ``Idempotency-Key``, media with
asynchronous processing, edit in place. Tokens do not expire; a refused token means the member
must connect the account again."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime, timedelta

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
    iso_time,
    later,
)
from crossposting.clients.media import MediaUnusable, fitted, load

# Mastodon keeps an Idempotency-Key for one hour; a little margin for clocks.
KEY_LIFETIME = timedelta(minutes=55)
# The default instance limit (configuration.media_attachments.image_size_limit).
MAX_IMAGE_BYTES = 16 * 1024 * 1024
TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
# Pages of 40 statuses looked through after an unknown outcome.
LOOKUP_PAGES = 10
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def plain_text(value: str) -> str:
    """A status's HTML (or our source text) reduced to comparable words."""
    value = _BREAK.sub(" ", value)
    return _SPACE.sub(" ", html.unescape(_TAG.sub("", value))).strip()


class MastodonClient(NetworkClient):
    network = "mastodon"
    can_edit = True

    def _headers(self, key: str = "") -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.account.credentials.get('access_token', '')}"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def _answer(self, response: httpx.Response, *, posting: bool) -> Outcome:
        remaining = count(response.headers.get("X-RateLimit-Remaining"))
        reset_at = iso_time(response.headers.get("X-RateLimit-Reset"))
        body = self.json_of(response)
        error = str((body or {}).get("error", ""))
        summary = self.summary_of(response)
        code = response.status_code
        if 200 <= code < 300:
            if body is None or not body.get("id"):
                return self.malformed(response, posting=posting)
            return Outcome(
                Result.SENT,
                remote_id=str(body["id"]),
                remote_url=str(body.get("url") or body.get("uri") or ""),
                status_code=code,
                summary=f"{code} id={body['id']}",
                remaining=remaining,
                reset_at=reset_at,
            )
        if code == 401:
            return Outcome(
                Result.AUTH,
                status_code=code,
                summary=summary,
                message=_("Mastodon refused the account's access (%(error)s).")
                % {"error": error or code},
            )
        if code == 429:
            return Outcome(
                Result.RATE_LIMITED,
                until=reset_at or later(300),
                status_code=code,
                summary=summary,
                message=_("Mastodon's rate limit was reached."),
                remaining=0,
                reset_at=reset_at,
            )
        if code == 422 and "not finished processing" in error:
            return Outcome(Result.RETRY, status_code=code, summary=summary, message=error)
        if code >= 500:
            return self.server_error(response, posting=posting)
        return Outcome(
            Result.FAILED,
            status_code=code,
            summary=summary,
            message=_("Mastodon refused the post: %(error)s") % {"error": error or code},
        )

    def _upload(
        self, images: list[dict], progress: dict, remember: Remember
    ) -> list[str] | Outcome:
        media_ids: list[str] = list(progress.get("media_ids", []))
        for image in images[len(media_ids) :]:
            try:
                media = fitted(load(image["url_or_path"]), max_bytes=MAX_IMAGE_BYTES, types=TYPES)
            except MediaUnusable as error:
                return Outcome(Result.FAILED, summary="image", message=error.message)
            answer = self.request(
                "POST",
                f"{self.base}/api/v2/media",
                posting=False,
                headers=self._headers(),
                # The file must carry its real type: Mastodon checks it against the content.
                files={"file": ("image", media.data, media.content_type)},
                data={"description": image.get("alt_text", "")},
            )
            if isinstance(answer, Outcome):
                return answer
            if answer.status_code not in (200, 202):
                return self._answer(answer, posting=False)
            body = self.json_of(answer)
            if not body or not body.get("id"):
                return self.malformed(answer, posting=False)
            if answer.status_code == 202 and not self._wait_for_media(str(body["id"])):
                return Outcome(Result.RETRY, message=_("Mastodon is still processing an image."))
            media_ids.append(str(body["id"]))
            remember({"media_ids": media_ids})
        return media_ids

    def _wait_for_media(self, media_id: str) -> bool:
        """Poll an asynchronously processed upload for a bounded time."""
        deadline = time.monotonic() + MEDIA_WAIT_SECONDS
        while self.wait(0.25, deadline):
            answer = self.request(
                "GET",
                f"{self.base}/api/v1/media/{media_id}",
                posting=False,
                headers=self._headers(),
            )
            if isinstance(answer, Outcome):
                return False
            if answer.status_code == 200:
                return True
            if answer.status_code != 206:
                return False
        return False

    def create(
        self, payload: dict, *, key: str, reply_to: Copy | None, progress: dict, remember: Remember
    ) -> Outcome:
        body: dict = {
            "status": payload["text"],
            "visibility": "unlisted" if reply_to else "public",
            "language": payload.get("language") or None,
        }
        if payload.get("images"):
            media_ids = self._upload(payload["images"], progress, remember)
            if isinstance(media_ids, Outcome):
                return media_ids
            body["media_ids"] = media_ids
        if reply_to:
            body["in_reply_to_id"] = reply_to.remote_id
        answer = self.request(
            "POST",
            f"{self.base}/api/v1/statuses",
            posting=True,
            headers=self._headers(key),
            json=body,
        )
        return answer if isinstance(answer, Outcome) else self._answer(answer, posting=True)

    def edit(self, payload: dict, *, copy: Copy, key: str) -> Outcome:
        answer = self.request(
            "PUT",
            f"{self.base}/api/v1/statuses/{copy.remote_id}",
            posting=False,
            headers=self._headers(key),
            json={"status": payload["text"], "language": payload.get("language") or None},
        )
        return answer if isinstance(answer, Outcome) else self._answer(answer, posting=False)

    def delete(self, *, copy: Copy) -> Outcome:
        answer = self.request(
            "DELETE",
            f"{self.base}/api/v1/statuses/{copy.remote_id}",
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
        if may_resend and since is not None and datetime.now(UTC) - since < KEY_LIFETIME:
            # The server still holds the key: a resend returns the status it created, if any.
            return Outcome(Result.SAFE_TO_RESEND, summary="idempotency key still valid")
        account_id = self.account.remote_user_id
        if not account_id:
            return Outcome(Result.UNKNOWN, message=_("The Mastodon account id is not known."))
        wanted = plain_text(html.escape(payload["text"]))
        params: dict = {"limit": 40}
        for _page in range(LOOKUP_PAGES):
            answer = self.request(
                "GET",
                f"{self.base}/api/v1/accounts/{account_id}/statuses",
                posting=False,
                headers=self._headers(),
                params=params,
            )
            if isinstance(answer, Outcome) or answer.status_code != 200:
                return self.lookup_failed(answer)
            try:
                statuses = answer.json()
            except ValueError:
                return Outcome(Result.UNKNOWN, message=_("The network's answer could not be read."))
            statuses = (
                [s for s in statuses if isinstance(s, dict)] if isinstance(statuses, list) else []
            )
            for status in statuses:
                if plain_text(str(status.get("content", ""))) == wanted:
                    return Outcome(
                        Result.SENT,
                        remote_id=str(status.get("id", "")),
                        remote_url=str(status.get("url") or ""),
                        summary="found among recent statuses",
                    )
            oldest = iso_time(str(statuses[-1].get("created_at", ""))) if statuses else None
            if not statuses or (since and oldest and oldest < since - timedelta(minutes=5)):
                break  # reached statuses older than the first try
            params["max_id"] = statuses[-1].get("id")
        else:
            return Outcome(
                Result.UNKNOWN, message=_("Too many posts to look through; trying again later.")
            )
        return Outcome(Result.ABSENT, summary="not among the statuses since the first try")
