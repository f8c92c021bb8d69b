"""Threads (Meta Graph): a container is created, remembered, then published once. After an
unknown publish the container's status says whether it was published.

Threads takes no uploads: an image container names the image's public address on this site,
which Meta downloads; the container is published once its status is FINISHED (bounded wait).
Several images make a carousel of image items."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
from django.utils.translation import gettext as _

from accounts.addresses import absolute_url
from crossposting.clients.base import (
    MEDIA_WAIT_SECONDS,
    Copy,
    NetworkClient,
    Outcome,
    Remember,
    Result,
    later,
)
from feeds.public.addresses import PublicAddresses

RATE_CODES = {4, 17, 32, 613}
AUTH_CODES = {190, 102}
# Graph's error code for publishing a container that is not FINISHED yet.
NOT_READY = 9007
# Seconds between container status reads (images usually finish within seconds).
WAIT_INTERVAL = 1.0
# Pages of 100 posts looked through for a published container's post.
LOOKUP_PAGES = 10


class ThreadsClient(NetworkClient):
    network = "threads"

    def _graph(self, path: str) -> str:
        return f"{self.base}/v1.0/{path}"

    def _token(self) -> dict[str, str]:
        return {"access_token": self.account.credentials.get("access_token", "")}

    def _answer(self, response: httpx.Response, *, posting: bool) -> Outcome:
        code = response.status_code
        body = self.json_of(response)
        summary = self.summary_of(response)
        if body is None:
            return self.server_error(response, posting=posting)
        error = body.get("error") if isinstance(body.get("error"), dict) else None
        if 200 <= code < 300 and error is None:
            return Outcome(Result.SENT, status_code=code, summary=summary[:200], remote=body)
        error = error or {}
        error_code = error.get("code")
        message = str(error.get("message") or error.get("error_user_msg") or "")
        if error_code in AUTH_CODES:
            return Outcome(
                Result.AUTH,
                status_code=code,
                summary=summary,
                message=_("Threads refused the access token."),
            )
        if error_code in RATE_CODES or code == 429:
            return Outcome(
                Result.RATE_LIMITED,
                until=later(900),
                status_code=code,
                summary=summary,
                message=_("Threads' rate limit was reached."),
                remaining=0,
            )
        if code >= 500 or error.get("is_transient"):
            return self.server_error(response, posting=posting)
        return Outcome(
            Result.FAILED,
            status_code=code,
            summary=summary,
            message=_("Threads refused the post: %(error)s") % {"error": message or code},
        )

    def _make(self, data: dict) -> str | Outcome:
        """Create one media container; its id."""
        answer = self.request(
            "POST", self._graph("me/threads"), posting=False, data=data | self._token()
        )
        if isinstance(answer, Outcome):
            return answer
        outcome = self._answer(answer, posting=False)
        if outcome.result != Result.SENT:
            return outcome
        container_id = str(outcome.remote.get("id") or "")
        return container_id or self.malformed(answer, posting=False)

    def _container(self, payload: dict, reply_to: Copy | None, remember: Remember) -> str | Outcome:
        """The part's container: TEXT, IMAGE (Threads downloads the image from its public
        address) or CAROUSEL of image items."""
        data: dict = {"text": payload["text"]}
        if reply_to:
            data["reply_to_id"] = reply_to.remote_id
        images = payload.get("images") or []
        if not images:
            data["media_type"] = "TEXT"
            link = (payload.get("extra") or {}).get("link_attachment")
            if link:
                data["link_attachment"] = link
            return self._make(data)
        addresses = [self._public_address(image) for image in images]
        if "" in addresses:
            return Outcome(
                Result.FAILED,
                summary="image address",
                message=_("The public address of an image of the post is not known."),
            )
        if len(images) == 1:
            image = {"image_url": addresses[0], "alt_text": images[0].get("alt_text", "")}
            return self._make(data | {"media_type": "IMAGE"} | image)
        children = []
        for address, image in zip(addresses, images, strict=True):
            child = self._make(
                {
                    "media_type": "IMAGE",
                    "is_carousel_item": "true",
                    "image_url": address,
                    "alt_text": image.get("alt_text", ""),
                }
            )
            if isinstance(child, Outcome):
                return child
            children.append(child)
        remember({"children": children})
        return self._make(data | {"media_type": "CAROUSEL", "children": ",".join(children)})

    def _public_address(self, image: dict) -> str:
        """Where Threads downloads an image: the post image's public address on this site."""
        name = str(image.get("url_or_path") or "")
        if name.startswith(("https://", "http://")):
            return name
        if not name or not self.account.institution_slug:
            return ""
        return absolute_url(PublicAddresses(self.account.institution_slug).image(name))

    def _ready(self, container_id: str) -> Outcome | None:
        """Wait (bounded) until a container is FINISHED: None when it is (or was published)."""
        deadline = time.monotonic() + MEDIA_WAIT_SECONDS
        while True:
            answer = self.request(
                "GET",
                self._graph(container_id),
                posting=False,
                params={"fields": "status,error_message"} | self._token(),
            )
            if isinstance(answer, Outcome):
                return answer
            outcome = self._answer(answer, posting=False)
            if outcome.result != Result.SENT:
                return outcome
            status = str(outcome.remote.get("status") or "")
            if status in ("FINISHED", "PUBLISHED"):
                return None
            if status in ("ERROR", "EXPIRED"):
                error = str(outcome.remote.get("error_message") or status)
                return Outcome(
                    Result.FAILED,
                    status_code=answer.status_code,
                    summary=f"container {status}: {error}"[:300],
                    message=_("Threads could not prepare the post: %(error)s") % {"error": error},
                    remote={"status": status},
                )
            if not self.wait(WAIT_INTERVAL, deadline):
                return Outcome(Result.RETRY, message=_("Threads is still preparing the post."))

    def _publish(self, container_id: str, *, again: bool = True) -> Outcome:
        answer = self.request(
            "POST",
            self._graph("me/threads_publish"),
            posting=True,
            data={"creation_id": container_id} | self._token(),
        )
        if isinstance(answer, Outcome):
            return answer
        outcome = self._answer(answer, posting=True)
        if outcome.result == Result.SENT:
            media_id = str(outcome.remote.get("id") or "")
            if not media_id:
                return self.malformed(answer, posting=True)
            return self._sent(media_id, outcome)
        error = (self.json_of(answer) or {}).get("error")
        error = error if isinstance(error, dict) else {}
        if outcome.result == Result.FAILED and error.get("code") == NOT_READY:
            if not again:
                outcome.result = Result.RETRY
                return outcome
            # Not ready yet (a text container can take a moment too): wait, publish once more.
            waited = self._ready(container_id)
            return waited if waited is not None else self._publish(container_id, again=False)
        if outcome.result == Result.FAILED and "already been published" in str(
            error.get("message", "")
        ):
            outcome.result = Result.UNKNOWN  # published before: find the copy
        outcome.remote = {}
        return outcome

    def _sent(self, media_id: str, outcome: Outcome) -> Outcome:
        outcome.remote_id = media_id
        outcome.remote = {}
        answer = self.request(
            "GET",
            self._graph(media_id),
            posting=False,
            params={"fields": "permalink"} | self._token(),
        )
        if not isinstance(answer, Outcome) and answer.status_code == 200:
            outcome.remote_url = str((self.json_of(answer) or {}).get("permalink") or "")
        return outcome

    def create(
        self, payload: dict, *, key: str, reply_to: Copy | None, progress: dict, remember: Remember
    ) -> Outcome:
        container_id = progress.get("container_id")
        if not container_id:
            container_id = self._container(payload, reply_to, remember)
            if isinstance(container_id, Outcome):
                return container_id
            remember({"container_id": container_id})
        if payload.get("images"):  # Threads downloads and processes media first
            waited = self._ready(container_id)
            if waited is not None:
                if waited.remote.get("status") == "EXPIRED" and progress.get("container_id"):
                    remember({"container_id": None})  # unused for a day: make a new one
                    progress = progress | {"container_id": None}
                    return self.create(
                        payload, key=key, reply_to=reply_to, progress=progress, remember=remember
                    )
                if waited.result == Result.FAILED:
                    remember({"container_id": None})  # a later try starts afresh
                waited.remote = {}
                return waited
        return self._publish(container_id)

    def delete(self, *, copy: Copy) -> Outcome:
        answer = self.request(
            "DELETE", self._graph(copy.remote_id), posting=False, params=self._token()
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
        container_id = progress.get("container_id")
        if not container_id:
            return Outcome(Result.ABSENT, summary="no container was created")
        answer = self.request(
            "GET",
            self._graph(container_id),
            posting=False,
            params={"fields": "status,error_message"} | self._token(),
        )
        if isinstance(answer, Outcome):
            return self.lookup_failed(answer)
        outcome = self._answer(answer, posting=False)
        if outcome.result != Result.SENT:
            return self.lookup_failed(answer)
        status = str(outcome.remote.get("status", ""))
        if status == "FINISHED":  # created, never published: publishing it cannot duplicate
            return Outcome(Result.SAFE_TO_RESEND, summary="container FINISHED")
        if status in ("ERROR", "EXPIRED"):
            return Outcome(Result.ABSENT, summary=f"container {status}")
        if status != "PUBLISHED":
            return Outcome(Result.UNKNOWN, summary=f"container {status or 'without status'}")
        return self._published(payload, since)

    def _published(self, payload: dict, since: datetime | None) -> Outcome:
        """The media a published container became: the account's posts since the first try."""
        params = {"fields": "id,text,timestamp,permalink", "limit": 100} | self._token()
        if since is not None:
            params["since"] = int(since.timestamp()) - 60
        for _page in range(LOOKUP_PAGES):
            answer = self.request("GET", self._graph("me/threads"), posting=False, params=params)
            body = None if isinstance(answer, Outcome) else self.json_of(answer)
            if body is None:
                break
            for post in body.get("data") or []:
                if isinstance(post, dict) and post.get("text") == payload["text"]:
                    return Outcome(
                        Result.SENT,
                        remote_id=str(post.get("id", "")),
                        remote_url=str(post.get("permalink") or ""),
                        summary="container PUBLISHED; found among recent posts",
                    )
            after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
            if not after:
                break
            params["after"] = after
        return Outcome(
            Result.UNKNOWN, message=_("Threads published the post but it was not found.")
        )

    def refresh(self) -> dict | None:
        credentials = dict(self.account.credentials)
        answer = self.request(
            "GET",
            f"{self.base}/refresh_access_token",
            posting=False,
            params={"grant_type": "th_refresh_token"} | self._token(),
        )
        if isinstance(answer, Outcome) or answer.status_code != 200:
            return None
        body = self.json_of(answer) or {}
        if not body.get("access_token") or body["access_token"] == credentials.get("access_token"):
            return None
        return credentials | {"access_token": body["access_token"]}
