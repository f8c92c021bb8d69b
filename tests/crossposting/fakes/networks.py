"""The five fake networks, each reproducing the wire behaviour of the reference
(../shared/reference/crosspost-protocols.md, section 9): auth errors and token lifecycle, length
checks and their errors, duplicate behaviour, asynchronous media, rate limits with the network's
own headers, and create/delete answers. Counting is done independently of our renderers.
"""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import httpx
import regex
from PIL import Image
from twitter_text import parse_tweet

from tests.crossposting.fakes.server import FakeNetwork, Reply, Request

_URL = re.compile(r"https?://\S+")
_ids = itertools.count(int(time.time() * 1000) * 1000)


def next_id() -> str:
    return str(next(_ids))


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def image_type(data: bytes) -> str | None:
    """The image type by its first bytes, as the networks sniff uploads."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass
class RateLimit:
    """A fixed window per token: ``limit`` posting calls per ``window`` seconds."""

    limit: int = 10**9
    window: float = 300.0
    used: dict = field(default_factory=dict)

    def take(self, token: str) -> tuple[bool, int, float]:
        now = time.time()
        start, count = self.used.get(token, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        if count >= self.limit:
            return False, 0, start + self.window
        self.used[token] = (start, count + 1)
        return True, self.limit - count - 1, start + self.window


# Mastodon ---------------------------------------------------------------------------------------


class FakeMastodon(FakeNetwork):
    name = "mastodon"
    routes = [
        ("GET", r"/api/v2/instance", "instance"),
        ("GET", r"/api/v1/accounts/verify_credentials", "verify_credentials"),
        ("POST", r"/api/v1/statuses", "create_status"),
        ("PUT", r"/api/v1/statuses/(?P<status_id>\d+)", "edit_status"),
        ("DELETE", r"/api/v1/statuses/(?P<status_id>\d+)", "delete_status"),
        ("GET", r"/api/v1/accounts/(?P<account_id>\d+)/statuses", "account_statuses"),
        ("POST", r"/api/v2/media", "upload_media"),
        ("GET", r"/api/v1/media/(?P<media_id>\d+)", "get_media"),
    ]
    posting = frozenset({"create_status"})
    max_characters = 500

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, str] = {}  # token -> account id
        self.usernames: dict[str, str] = {}
        self.statuses: dict[str, dict] = {}
        self.idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self.media: dict[str, dict] = {}
        self.async_media_polls = 0  # >0: uploads answer 202 and poll 206 that many times
        self.rate = RateLimit()

    def add_account(self, username: str) -> tuple[str, str]:
        account_id, token = next_id(), secrets.token_urlsafe(16)
        self.tokens[token] = account_id
        self.usernames[account_id] = username
        return account_id, token

    def revoke(self, token: str) -> None:
        self.tokens.pop(token, None)

    def _account(self, request: Request) -> str | None:
        return self.tokens.get(request.bearer() or "")

    def _unauthorized(self) -> Reply:
        return Reply(401, {"error": "The access token is invalid"})

    def _rate_headers(self, remaining: int, reset: float) -> dict[str, str]:
        stamp = datetime.fromtimestamp(reset, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {
            "X-RateLimit-Limit": str(self.rate.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": stamp,
        }

    def _length(self, text: str) -> int:
        return graphemes(_URL.sub("x" * 23, text))

    def _entity(self, status: dict) -> dict:
        return {k: v for k, v in status.items() if k not in ("text", "account_id", "key")}

    def instance(self, request: Request) -> Reply:
        return Reply(
            200,
            {
                "configuration": {
                    "statuses": {
                        "max_characters": self.max_characters,
                        "max_media_attachments": 4,
                        "characters_reserved_per_url": 23,
                    }
                }
            },
        )

    def verify_credentials(self, request: Request) -> Reply:
        account_id = self._account(request)
        if account_id is None:
            return self._unauthorized()
        return Reply(200, {"id": account_id, "username": self.usernames[account_id]})

    def create_status(self, request: Request) -> Reply:
        account_id = self._account(request)
        if account_id is None:
            return self._unauthorized()
        allowed, remaining, reset = self.rate.take(request.bearer())
        headers = self._rate_headers(remaining, reset)
        if not allowed:
            return Reply(429, {"error": "Too many requests"}, headers)
        body = request.json()
        key = request.headers.get("idempotency-key")
        with self.lock:
            if key and (account_id, key) in self.idempotency:
                status_id, stored_at = self.idempotency[(account_id, key)]
                if time.time() - stored_at < 3600:
                    status = self.statuses.get(status_id)
                    if status is None:
                        return Reply(404, {"error": "Record not found"})
                    return Reply(200, self._entity(status), headers)
            text = str(body.get("status") or "")
            if not text.strip() and not body.get("media_ids"):
                return Reply(422, {"error": "Validation failed: Text can't be blank"})
            if self._length(text) > self.max_characters:
                return Reply(
                    422,
                    {
                        "error": "Validation failed: Text character limit of "
                        f"{self.max_characters} exceeded"
                    },
                )
            for media_id in body.get("media_ids") or []:
                media = self.media.get(str(media_id))
                if media is None:
                    return Reply(422, {"error": "Validation failed: Media not found"})
                if media["polls_left"] > 0:
                    return Reply(
                        422,
                        {
                            "error": "Cannot attach files that have not finished "
                            "processing. Try again in a moment!"
                        },
                    )
            reply_to = body.get("in_reply_to_id")
            if reply_to and str(reply_to) not in self.statuses:
                return Reply(404, {"error": "Record not found"})
            status_id = next_id()
            username = self.usernames[account_id]
            status = {
                "id": status_id,
                "created_at": datetime.now(UTC).isoformat(),
                "visibility": body.get("visibility", "public"),
                "uri": f"{self.base_url}/users/{username}/statuses/{status_id}",
                "url": f"{self.base_url}/@{username}/{status_id}",
                "content": "<p>" + html.escape(text).replace("\n", "<br />") + "</p>",
                "in_reply_to_id": str(reply_to) if reply_to else None,
                "language": body.get("language"),
                "media_attachments": [{"id": m} for m in body.get("media_ids") or []],
                "card": None,
                "edited_at": None,
                "text": text,
                "account_id": account_id,
            }
            self.statuses[status_id] = status
            self.created += 1
            if key:
                self.idempotency[(account_id, key)] = (status_id, time.time())
        return Reply(200, self._entity(status), headers)

    def edit_status(self, request: Request, status_id: str) -> Reply:
        account_id = self._account(request)
        if account_id is None:
            return self._unauthorized()
        with self.lock:
            status = self.statuses.get(status_id)
            if status is None or status["account_id"] != account_id:
                return Reply(404, {"error": "Record not found"})
            text = str(request.json().get("status") or "")
            if self._length(text) > self.max_characters:
                return Reply(
                    422,
                    {
                        "error": "Validation failed: Text character limit of "
                        f"{self.max_characters} exceeded"
                    },
                )
            status["text"] = text
            status["content"] = "<p>" + html.escape(text).replace("\n", "<br />") + "</p>"
            status["edited_at"] = datetime.now(UTC).isoformat()
            return Reply(200, self._entity(status))

    def delete_status(self, request: Request, status_id: str) -> Reply:
        account_id = self._account(request)
        if account_id is None:
            return self._unauthorized()
        with self.lock:
            status = self.statuses.get(status_id)
            if status is None or status["account_id"] != account_id:
                return Reply(404, {"error": "Record not found"})
            del self.statuses[status_id]
            return Reply(200, self._entity(status) | {"text": status["text"]})

    def account_statuses(self, request: Request, account_id: str) -> Reply:
        if self._account(request) is None:
            return self._unauthorized()
        limit = min(int(request.query.get("limit", "20")), 40)
        with self.lock:
            mine = [s for s in self.statuses.values() if s["account_id"] == account_id]
        mine.sort(key=lambda s: int(s["id"]), reverse=True)
        if request.query.get("max_id"):
            mine = [s for s in mine if int(s["id"]) < int(request.query["max_id"])]
        return Reply(200, [self._entity(s) for s in mine[:limit]])

    def upload_media(self, request: Request) -> Reply:
        if self._account(request) is None:
            return self._unauthorized()
        parts = request.multipart_parts()
        if "file" not in parts:
            return Reply(422, {"error": "Validation failed: File can't be blank"})
        data, declared = parts["file"]
        # Mastodon refuses a file whose content is not the type it declares (spoofing check).
        if image_type(data) != declared:
            spoofed = "File has contents that are not what they are reported to be"
            return Reply(422, {"error": f"Validation failed: {spoofed}"})
        description = (parts.get("description") or (b"", ""))[0].decode()
        if len(description) > 1500:
            return Reply(422, {"error": "Validation failed: Description is too long"})
        media_id = next_id()
        with self.lock:
            self.media[media_id] = {
                "polls_left": self.async_media_polls,
                "description": description,
            }
        entity = {
            "id": media_id,
            "type": "image",
            "description": description,
            "url": None if self.async_media_polls else f"{self.base_url}/media/{media_id}",
        }
        return Reply(202 if self.async_media_polls else 200, entity)

    def get_media(self, request: Request, media_id: str) -> Reply:
        with self.lock:
            media = self.media.get(media_id)
            if media is None:
                return Reply(404, {"error": "Record not found"})
            if media["polls_left"] > 0:
                media["polls_left"] -= 1
                return Reply(206, {"id": media_id, "url": None})
        return Reply(200, {"id": media_id, "url": f"{self.base_url}/media/{media_id}"})

    def copies(self) -> int:
        return len(self.statuses)

    def copy_ids(self) -> set[str]:
        return set(self.statuses)


# Bluesky ----------------------------------------------------------------------------------------

TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


class FakeBluesky(FakeNetwork):
    name = "bluesky"
    routes = [
        ("POST", r"/xrpc/com.atproto.server.createSession", "create_session"),
        ("POST", r"/xrpc/com.atproto.server.refreshSession", "refresh_session"),
        ("POST", r"/xrpc/com.atproto.repo.putRecord", "put_record"),
        ("POST", r"/xrpc/com.atproto.repo.createRecord", "create_record"),
        ("GET", r"/xrpc/com.atproto.repo.getRecord", "get_record"),
        ("POST", r"/xrpc/com.atproto.repo.deleteRecord", "delete_record"),
        ("POST", r"/xrpc/com.atproto.repo.uploadBlob", "upload_blob"),
        ("GET", r"/xrpc/com.atproto.identity.resolveHandle", "resolve_handle"),
    ]
    posting = frozenset({"put_record", "create_record"})

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[str, tuple[str, str]] = {}  # identifier -> (password, did)
        self.access: dict[str, str] = {}  # access jwt -> did
        self.expired: set[str] = set()
        self.refresh: dict[str, str] = {}  # refresh jwt -> did
        self.revoked: set[str] = set()
        self.records: dict[str, dict] = {}  # uri -> {"value", "cid"}
        self.rate = RateLimit()
        # The reference PDS keeps a used refresh token valid for two hours; without the grace
        # (OAuth sessions, or after the two hours) a refresh token is spent by its first use.
        self.refresh_grace = True
        self.refresh_calls = 0  # refreshSession and createSession requests, answered or not
        self.refresh_delay = 0.0  # seconds a refresh takes (to let a second worker arrive)
        self.blobs: dict[str, bytes] = {}

    def add_account(self, handle: str, password: str) -> str:
        did = "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]
        self.passwords[handle] = (password, did)
        return did

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.expired |= set(self.access)
            self.access.clear()

    def _error(self, status: int, error: str, message: str, headers=None) -> Reply:
        return Reply(status, {"error": error, "message": message}, headers or {})

    def _session(self, did: str, handle: str) -> dict:
        access, refresh = "acc-" + secrets.token_urlsafe(12), "ref-" + secrets.token_urlsafe(12)
        self.access[access], self.refresh[refresh] = did, did
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": handle,
            "did": did,
            "active": True,
        }

    def _did(self, request: Request) -> str | Reply:
        token = request.bearer()
        if not token:
            return self._error(401, "AuthMissing", "Authentication Required")
        if token in self.expired:
            return self._error(400, "ExpiredToken", "Token has expired")
        did = self.access.get(token)
        return did if did else self._error(400, "InvalidToken", "Token could not be verified")

    def server_error(self, request: Request) -> Reply:
        return Reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {}, "text/html")

    def create_session(self, request: Request) -> Reply:
        with self.lock:
            self.refresh_calls += 1
        time.sleep(self.refresh_delay)
        body = request.json()
        stored = self.passwords.get(str(body.get("identifier")))
        if stored is None or stored[0] != body.get("password"):
            return self._error(401, "AuthenticationRequired", "Invalid identifier or password")
        with self.lock:
            return Reply(200, self._session(stored[1], str(body["identifier"])))

    def refresh_session(self, request: Request) -> Reply:
        token = request.bearer() or ""
        with self.lock:
            self.refresh_calls += 1
        time.sleep(self.refresh_delay)
        with self.lock:
            if token in self.revoked or token not in self.refresh:
                return self._error(400, "ExpiredToken", "Token has been revoked")
            did = self.refresh[token]
            if not self.refresh_grace:
                del self.refresh[token]
                self.revoked.add(token)
            handle = next(h for h, (_p, d) in self.passwords.items() if d == did)
            return Reply(200, self._session(did, handle))

    def _check(self, record: dict) -> Reply | None:
        text = str(record.get("text", ""))
        if graphemes(text) > 300 or len(text.encode()) > 3000:
            return self._error(
                400,
                "InvalidRequest",
                "Invalid app.bsky.feed.post record: "
                "Record/text must not be longer than 300 graphemes",
            )
        if not record.get("createdAt"):
            return self._error(400, "InvalidRequest", "Record/createdAt must be a string")
        return None

    def _write(self, request: Request, *, put: bool) -> Reply:
        did = self._did(request)
        if isinstance(did, Reply):
            return did
        allowed, remaining, reset = self.rate.take(did)
        headers = {
            "RateLimit-Limit": str(self.rate.limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(int(reset)),
            "RateLimit-Policy": f"{self.rate.limit};w={int(self.rate.window)}",
        }
        if not allowed:
            return self._error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
        body = request.json()
        if body.get("repo") != did:
            return self._error(400, "InvalidRequest", "Input/repo must be the session's DID")
        rkey = str(body.get("rkey") or "")
        if not put and not rkey:
            rkey = "3" + secrets.token_hex(6)
        if not TID.match(rkey):
            return self._error(400, "InvalidRequest", "Invalid record key")
        record = body.get("record") or {}
        refused = self._check(record)
        if refused:
            return refused
        uri = f"at://{did}/{body.get('collection')}/{rkey}"
        value = json.dumps(record, sort_keys=True)
        cid = "bafyrei" + hashlib.sha256(value.encode()).hexdigest()[:40]
        with self.lock:
            existing = self.records.get(uri)
            if existing is not None:
                if not put:  # the reference PDS fails inside the MST: a plain 500
                    return self._error(500, "InternalServerError", "Internal Server Error")
                if existing["cid"] == cid:  # identical put: a no-op success
                    return Reply(
                        200, {"uri": uri, "cid": cid, "validationStatus": "valid"}, headers
                    )
                if "swapRecord" in body and body["swapRecord"] is None:
                    return self._error(400, "InvalidSwap", "Record was at " + existing["cid"])
            self.records[uri] = {"value": record, "cid": cid}
            self.created += 0 if existing else 1
        return Reply(
            200,
            {
                "uri": uri,
                "cid": cid,
                "commit": {"cid": "bafyreicommit", "rev": rkey},
                "validationStatus": "valid",
            },
            headers,
        )

    def put_record(self, request: Request) -> Reply:
        return self._write(request, put=True)

    def create_record(self, request: Request) -> Reply:
        return self._write(request, put=False)

    def upload_blob(self, request: Request) -> Reply:
        did = self._did(request)
        if isinstance(did, Reply):
            return did
        kind = image_type(request.body) or "application/octet-stream"
        cid = "bafkrei" + hashlib.sha256(request.body).hexdigest()[:40]
        with self.lock:
            self.blobs[cid] = request.body
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": kind, "size": len(request.body)}
        return Reply(200, {"blob": blob})

    def resolve_handle(self, request: Request) -> Reply:
        handle = request.query.get("handle", "")
        stored = self.passwords.get(handle)
        if stored is None:
            return self._error(400, "HandleNotFound", "Unable to resolve handle")
        return Reply(200, {"did": stored[1]})

    def get_record(self, request: Request) -> Reply:
        q = request.query
        uri = f"at://{q.get('repo')}/{q.get('collection')}/{q.get('rkey')}"
        with self.lock:
            found = self.records.get(uri)
        if found is None:
            return self._error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return Reply(200, {"uri": uri, "cid": found["cid"], "value": found["value"]})

    def delete_record(self, request: Request) -> Reply:
        did = self._did(request)
        if isinstance(did, Reply):
            return did
        body = request.json()
        uri = f"at://{did}/{body.get('collection')}/{body.get('rkey')}"
        with self.lock:
            self.records.pop(uri, None)
        return Reply(200, {"commit": {"cid": "bafyreicommit", "rev": "x"}})

    def copies(self) -> int:
        return len(self.records)

    def copy_ids(self) -> set[str]:
        return set(self.records)


# X ----------------------------------------------------------------------------------------------


class FakeX(FakeNetwork):
    name = "x"
    routes = [
        ("POST", r"/2/tweets", "create_tweet"),
        ("DELETE", r"/2/tweets/(?P<tweet_id>\d+)", "delete_tweet"),
        ("GET", r"/2/users/(?P<user_id>\d+)/tweets", "user_tweets"),
        ("POST", r"/2/oauth2/token", "token"),
        ("POST", r"/2/media/upload", "upload_media"),
        ("GET", r"/2/media/upload", "media_status"),
        ("POST", r"/2/media/metadata", "media_metadata"),
    ]
    posting = frozenset({"create_tweet"})
    media_categories = frozenset(
        {"tweet_image", "tweet_video", "tweet_gif", "dm_image", "dm_video", "dm_gif", "subtitles"}
    )
    image_limit = 5 * 1024 * 1024  # JPG, PNG, WEBP; animated GIF up to 15 MB
    gif_limit = 15 * 1024 * 1024
    duplicate_window = 24 * 3600

    def __init__(self) -> None:
        super().__init__()
        self.access: dict[str, str] = {}  # token -> user id
        self.expired: set[str] = set()
        self.refresh: dict[str, str] = {}
        self.rotated: set[str] = set()
        self.tweets: dict[str, dict] = {}
        self.rate = RateLimit()
        self.daily = RateLimit(limit=10**9, window=86400)
        self.refresh_calls = 0  # token requests with grant_type=refresh_token
        self.refresh_delay = 0.0  # seconds a refresh takes (to let a second worker arrive)
        self.refused_together: threading.Barrier | None = None
        self.media: dict[str, dict] = {}
        # >0: an upload answers processing_info "pending" and STATUS says "in_progress" that many
        # times before "succeeded"; media_fails: processing ends "failed" instead.
        self.media_polls = 0
        self.media_fails = False
        self.check_after_secs = 1

    def add_account(self) -> tuple[str, str, str]:
        user_id = next_id()
        access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.access[access], self.refresh[refresh] = user_id, user_id
        return user_id, access, refresh

    def expire(self, token: str) -> None:
        with self.lock:
            self.expired.add(token)
            self.access.pop(token, None)

    def _problem(
        self, status: int, title: str, detail: str, kind: str = "about:blank", headers=None
    ) -> Reply:
        return Reply(
            status,
            {"title": title, "detail": detail, "type": kind, "status": status},
            headers or {},
            "application/problem+json",
        )

    def _user(self, request: Request) -> str | Reply:
        user = self.access.get(request.bearer() or "")
        if user is None:
            return self._problem(401, "Unauthorized", "Unauthorized")
        return user

    def create_tweet(self, request: Request) -> Reply:
        user = self._user(request)
        if isinstance(user, Reply):
            if self.refused_together is not None:  # answer the refusals of two workers at once
                self.refused_together.wait()
            return user
        allowed, remaining, reset = self.rate.take(user)
        _ok, daily_remaining, daily_reset = self.daily.take(user)
        headers = {
            "x-rate-limit-limit": str(self.rate.limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(reset)),
            "x-user-limit-24hour-limit": str(self.daily.limit),
            "x-user-limit-24hour-remaining": str(daily_remaining),
            "x-user-limit-24hour-reset": str(int(daily_reset)),
        }
        if not allowed:
            return self._problem(
                429,
                "Too Many Requests",
                "Too Many Requests",
                "https://api.x.com/2/problems/rate-limit-exceeded",
                headers,
            )
        body = request.json()
        text = str(body.get("text") or "")
        parsed = parse_tweet(text)
        if not text or not parsed.valid:
            return self._problem(
                400,
                "Invalid Request",
                "Your Tweet text is too long. For more "
                "information on how Twitter determines text length see "
                "https://github.com/twitter/twitter-text.",
                "https://api.x.com/2/problems/invalid-request",
            )
        with self.lock:
            now = time.time()
            for tweet in self.tweets.values():
                if (
                    tweet["user"] == user
                    and tweet["text"] == text
                    and now - tweet["at"] < self.duplicate_window
                ):
                    return self._problem(
                        403,
                        "Forbidden",
                        "You are not allowed to create a Tweet with duplicate content.",
                    )
            reply = (body.get("reply") or {}).get("in_reply_to_tweet_id")
            if reply and reply not in self.tweets:
                return self._problem(400, "Invalid Request", "The reply target does not exist.")
            media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids") or []]
            if len(media_ids) > 4 or any(
                self.media.get(m, {}).get("user") != user
                or self.media[m]["state"] != "succeeded"
                or self.media[m]["expires_at"] < now
                for m in media_ids
            ):
                return self._problem(
                    400,
                    "Invalid Request",
                    "Your media IDs are invalid.",
                    "https://api.x.com/2/problems/invalid-request",
                )
            tweet_id = next_id()
            self.tweets[tweet_id] = {"user": user, "text": text, "at": now, "media": media_ids}
            self.created += 1
        return Reply(
            201,
            {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}},
            headers,
        )

    def delete_tweet(self, request: Request, tweet_id: str) -> Reply:
        user = self._user(request)
        if isinstance(user, Reply):
            return user
        with self.lock:
            tweet = self.tweets.get(tweet_id)
            if tweet is None or tweet["user"] != user:
                return self._problem(
                    404,
                    "Not Found Error",
                    "Could not find tweet.",
                    "https://api.x.com/2/problems/resource-not-found",
                )
            del self.tweets[tweet_id]
        return Reply(200, {"data": {"deleted": True}})

    def user_tweets(self, request: Request, user_id: str) -> Reply:
        user = self._user(request)
        if isinstance(user, Reply):
            return user
        limit = min(int(request.query.get("max_results", "10")), 100)
        since = request.query.get("start_time")
        floor = datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp() if since else 0
        with self.lock:
            mine = [
                (i, t) for i, t in self.tweets.items() if t["user"] == user_id and t["at"] >= floor
            ]
        mine.sort(key=lambda item: item[1]["at"], reverse=True)
        offset = int(request.query.get("pagination_token", "0"))
        page, rest = mine[offset : offset + limit], mine[offset + limit :]
        data = [
            {
                "id": i,
                "text": _URL.sub(
                    lambda m: (
                        "https://t.co/"
                        + hashlib.md5(  # noqa: S324
                            m.group(0).encode()
                        ).hexdigest()[:10]
                    ),
                    t["text"],
                ),
                "created_at": datetime.fromtimestamp(t["at"], tz=UTC).isoformat(),
            }
            for i, t in page
        ]
        meta = {"result_count": len(data)} | ({"next_token": str(offset + limit)} if rest else {})
        return Reply(200, {"data": data, "meta": meta})

    def _media_entity(self, media_id: str) -> dict:
        media = self.media[media_id]
        entity = {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "size": media["size"],
            "expires_after_secs": max(0, int(media["expires_at"] - time.time())),
            "image": {"image_type": media["type"], "w": media["w"], "h": media["h"]},
        }
        if media["state"] != "succeeded" or media["was_async"]:
            info: dict = {"state": media["state"]}
            if media["state"] in ("pending", "in_progress"):
                info["check_after_secs"] = self.check_after_secs
                info["progress_percent"] = 50 if media["state"] == "in_progress" else 0
            if media["state"] == "failed":
                info["error"] = {
                    "code": 1,
                    "name": "InvalidMedia",
                    "message": "Unsupported or corrupt media",
                }
            entity["processing_info"] = info
        return entity

    def upload_media(self, request: Request) -> Reply:
        user = self._user(request)
        if isinstance(user, Reply):
            return user
        fields = request.multipart()
        data = fields.get("media") or b""
        category = (fields.get("media_category") or b"").decode()
        invalid = "https://api.x.com/2/problems/invalid-request"
        if category not in self.media_categories:
            return self._problem(
                400, "Invalid Request", "The `media_category` query parameter is invalid.", invalid
            )
        kind = image_type(data)
        if not data or kind is None:
            return self._problem(400, "Invalid Request", "Unsupported media type.", invalid)
        limit = self.gif_limit if kind == "image/gif" else self.image_limit
        if len(data) > limit:
            return self._problem(
                400, "Invalid Request", f"File size exceeds {limit} bytes.", invalid
            )
        with Image.open(io.BytesIO(data)) as picture:
            width, height = picture.size
        media_id = next_id()
        with self.lock:
            self.media[media_id] = {
                "user": user,
                "type": kind,
                "size": len(data),
                "w": width,
                "h": height,
                "state": "pending" if self.media_polls else "succeeded",
                "was_async": bool(self.media_polls),
                "polls_left": self.media_polls,
                "fails": self.media_fails,
                "alt": None,
                "expires_at": time.time() + 86400,
            }
            return Reply(200, {"data": self._media_entity(media_id)})

    def media_status(self, request: Request) -> Reply:
        user = self._user(request)
        if isinstance(user, Reply):
            return user
        media_id = request.query.get("media_id", "")
        with self.lock:
            media = self.media.get(media_id)
            if media is None or media["user"] != user or request.query.get("command") != "STATUS":
                return self._problem(
                    400,
                    "Invalid Request",
                    "One or more parameters to your request was invalid.",
                    "https://api.x.com/2/problems/invalid-request",
                )
            if media["state"] in ("pending", "in_progress"):
                media["polls_left"] -= 1
                media["state"] = "in_progress"
                if media["polls_left"] <= 0:
                    media["state"] = "failed" if media["fails"] else "succeeded"
            return Reply(200, {"data": self._media_entity(media_id)})

    def media_metadata(self, request: Request) -> Reply:
        user = self._user(request)
        if isinstance(user, Reply):
            return user
        body = request.json()
        media_id = str(body.get("id") or "")
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        with self.lock:
            media = self.media.get(media_id)
            if media is None or media["user"] != user:
                return self._problem(
                    404,
                    "Not Found Error",
                    "Could not find media.",
                    "https://api.x.com/2/problems/resource-not-found",
                )
            if not isinstance(alt, str) or len(alt) > 1000:
                return self._problem(
                    400,
                    "Invalid Request",
                    "alt_text.text must be at most 1000 characters.",
                    "https://api.x.com/2/problems/invalid-request",
                )
            media["alt"] = alt
        return Reply(200, {"data": {"id": media_id, "associated_metadata": {"alt_text": alt}}})

    def token(self, request: Request) -> Reply:
        form = request.form()
        token = form.get("refresh_token", "")
        with self.lock:
            self.refresh_calls += 1
        time.sleep(self.refresh_delay)
        with self.lock:
            if form.get("grant_type") != "refresh_token" or token not in self.refresh:
                return Reply(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the token was invalid.",
                    },
                )
            user = self.refresh.pop(token)
            self.rotated.add(token)
            access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
            self.access[access], self.refresh[refresh] = user, user
        return Reply(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": access,
                "refresh_token": refresh,
                "scope": "tweet.write offline.access",
            },
        )

    def created_by_text(self, text: str) -> int:
        return sum(1 for tweet in self.tweets.values() if tweet["text"] == text)

    def copies(self) -> int:
        return len(self.tweets)

    def copy_ids(self) -> set[str]:
        return set(self.tweets)


# LinkedIn ---------------------------------------------------------------------------------------

LINKEDIN_RESERVED = re.compile(r"(?<!\\)[|{}@\[\]()<>*_~]")


class FakeLinkedIn(FakeNetwork):
    name = "linkedin"
    routes = [
        ("POST", r"/rest/posts", "create_post"),
        ("DELETE", r"/rest/posts/(?P<urn>[^/]+)", "delete_post"),
        ("POST", r"/rest/images", "initialize_upload"),
        ("PUT", r"/dms-uploads/(?P<upload>[\w-]+)", "upload_image"),
        ("GET", r"/rest/images/(?P<urn>[^/]+)", "get_image"),
    ]
    posting = frozenset({"create_post"})
    image_types = frozenset({"image/jpeg", "image/png", "image/gif"})
    max_image_pixels = 36_152_320
    active_versions = frozenset({"202611", "202610", "202609"})

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, str] = {}  # token -> author urn
        self.expired: set[str] = set()
        self.posts: dict[str, dict] = {}
        self.rate = RateLimit()
        self.images: dict[str, dict] = {}  # image urn -> {"owner", "status", "upload", ...}
        self.uploads: dict[str, str] = {}  # upload token -> image urn
        self.image_polls = 0  # >0: an uploaded image stays PROCESSING for that many reads
        self.image_fails = False  # processing ends PROCESSING_FAILED (a file LinkedIn rejects)

    def add_account(self) -> tuple[str, str]:
        urn, token = f"urn:li:person:{next_id()}", secrets.token_urlsafe(16)
        self.tokens[token] = urn
        return urn, token

    def _error(self, status: int, code: str, message: str, service: int | None = None) -> Reply:
        body = {"status": status, "code": code, "message": message}
        if service:
            body["serviceErrorCode"] = service
        return Reply(status, body)

    def _author(self, request: Request) -> str | Reply:
        version = request.headers.get("linkedin-version")
        if not version:
            return self._error(
                400,
                "VERSION_MISSING",
                "A version must be present. Please specify "
                "a version by adding the Linkedin-Version header.",
            )
        if version not in self.active_versions:
            return self._error(
                426, "NONEXISTENT_VERSION", f"Requested version {version} is not active"
            )
        token = request.bearer() or ""
        if token in self.expired:
            return self._error(
                401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65601
            )
        author = self.tokens.get(token)
        if author is None:
            return self._error(
                401,
                "REVOKED_ACCESS_TOKEN",
                "The token used in the request has been revoked by the user",
                65602,
            )
        return author

    def create_post(self, request: Request) -> Reply:
        author = self._author(request)
        if isinstance(author, Reply):
            return author
        allowed, _remaining, _reset = self.rate.take(author)
        if not allowed:  # LinkedIn sends no rate-limit headers
            return Reply(
                429,
                {
                    "message": "Resource level throttle limit for calls to this "
                    "resource is reached.",
                    "status": 429,
                },
            )
        body = request.json()
        if not body.get("author"):
            return Reply(
                422,
                {
                    "message": "ERROR :: /author :: field is required but not found and "
                    "has no default value",
                    "status": 422,
                },
            )
        if body.get("author") != author:
            return self._error(
                403, "ACCESS_DENIED", "Not enough permissions to post as this author"
            )
        commentary = str(body.get("commentary", ""))
        length = len(commentary.encode("utf-16-le")) // 2
        if length > 3000:
            return Reply(
                400,
                {
                    "errorDetailType": "com.linkedin.common.error.BadRequest",
                    "message": f"ShareCommentary text length ({length} characters) "
                    "exceeded the maximum allowed (3000 characters)",
                    "status": 400,
                },
            )
        content = body.get("content") or {}
        if "article" in content and ("media" in content or "multiImage" in content):
            return self._error(
                400, "ILLEGAL_ARGUMENT", "A post cannot carry both an article and media"
            )
        wanted = [content["media"]] if "media" in content else []
        if "multiImage" in content:
            wanted = (content["multiImage"] or {}).get("images") or []
            if not 2 <= len(wanted) <= 20:
                return Reply(
                    422,
                    {"message": "/content/multiImage/images :: 2 to 20 images", "status": 422},
                )
        with self.lock:
            for item in wanted:
                image = self.images.get(str((item or {}).get("id")))
                if image is None or image["owner"] != author or image["status"] != "AVAILABLE":
                    return Reply(
                        422,
                        {
                            "message": f"/content/media/id :: {item.get('id')} is not an "
                            "available image of the author",
                            "status": 422,
                        },
                    )
        # Unescaped reserved characters silently cut the published text (201 all the same).
        cut = LINKEDIN_RESERVED.search(commentary)
        published = commentary[: cut.start()] if cut else commentary
        with self.lock:
            for urn, post in self.posts.items():
                if post["author"] == author and post["commentary"] == commentary:
                    return Reply(
                        422, {"message": f"Content is a duplicate of {urn}", "status": 422}
                    )
            urn = f"urn:li:share:{next_id()}"
            self.posts[urn] = {
                "author": author,
                "commentary": commentary,
                "published": published,
                "media": [dict(item) for item in wanted],
            }
            self.created += 1
        return Reply(201, b"", {"x-restli-id": urn})

    def initialize_upload(self, request: Request) -> Reply:
        author = self._author(request)
        if isinstance(author, Reply):
            return author
        if request.query.get("action") != "initializeUpload":
            return self._error(400, "ILLEGAL_ARGUMENT", "Unknown action")
        owner = (request.json().get("initializeUploadRequest") or {}).get("owner")
        if owner != author:
            return self._error(403, "ACCESS_DENIED", "Not enough permissions to upload as owner")
        urn, upload = f"urn:li:image:C4E10AQ{next_id()}", secrets.token_urlsafe(12)
        with self.lock:
            self.images[urn] = {"owner": owner, "status": "WAITING_UPLOAD", "polls_left": 0}
            self.uploads[upload] = urn
        return Reply(
            200,
            {
                "value": {
                    "uploadUrlExpiresAt": int((time.time() + 3600) * 1000),
                    "uploadUrl": f"{self.base_url}/dms-uploads/{upload}",
                    "image": urn,
                }
            },
        )

    def upload_image(self, request: Request, upload: str) -> Reply:
        if request.bearer() not in self.tokens:
            return self._error(401, "REVOKED_ACCESS_TOKEN", "The token was revoked", 65602)
        with self.lock:
            urn = self.uploads.pop(upload, None)
            if urn is None:
                return Reply(404, {"status": 404, "message": "Upload URL not found or used"})
            image = self.images[urn]
            kind = image_type(request.body)
            pixels = 0
            if kind is not None:
                with Image.open(io.BytesIO(request.body)) as picture:
                    pixels = picture.width * picture.height
            # The upload itself succeeds; processing decides (PROCESSING_FAILED for bad files).
            usable = kind in self.image_types and 0 < pixels < self.max_image_pixels
            usable = usable and not self.image_fails
            image.update(
                status="PROCESSING" if self.image_polls else "AVAILABLE",
                polls_left=self.image_polls,
                usable=usable,
                size=len(request.body),
            )
            if not usable and not self.image_polls:
                image["status"] = "PROCESSING_FAILED"
        return Reply(201, b"")

    def get_image(self, request: Request, urn: str) -> Reply:
        author = self._author(request)
        if isinstance(author, Reply):
            return author
        urn = unquote(urn)
        with self.lock:
            image = self.images.get(urn)
            if image is None or image["owner"] != author:
                return self._error(404, "NOT_FOUND", f"Image {urn} not found")
            if image["status"] == "PROCESSING":
                image["polls_left"] -= 1
                if image["polls_left"] < 0:
                    image["status"] = "AVAILABLE" if image["usable"] else "PROCESSING_FAILED"
            return Reply(200, {"id": urn, "owner": image["owner"], "status": image["status"]})

    def delete_post(self, request: Request, urn: str) -> Reply:
        author = self._author(request)
        if isinstance(author, Reply):
            return author
        if request.headers.get("x-restli-method", "").upper() != "DELETE":
            return self._error(400, "ILLEGAL_ARGUMENT", "X-RestLi-Method DELETE is required")
        with self.lock:
            self.posts.pop(unquote(urn), None)
        return Reply(204)

    def copies(self) -> int:
        return len(self.posts)

    def copy_ids(self) -> set[str]:
        return set(self.posts)


# Threads ----------------------------------------------------------------------------------------


class FakeThreads(FakeNetwork):
    name = "threads"
    routes = [
        ("POST", r"/v1.0/(?P<user>me|\d+)/threads", "create_container"),
        ("POST", r"/v1.0/(?P<user>me|\d+)/threads_publish", "publish"),
        ("GET", r"/v1.0/(?P<user>me|\d+)/threads", "list_threads"),
        ("GET", r"/v1.0/(?P<object_id>\d+)", "get_object"),
        ("DELETE", r"/v1.0/(?P<object_id>\d+)", "delete_object"),
        ("GET", r"/refresh_access_token", "refresh_token"),
    ]
    posting = frozenset({"publish"})

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, dict] = {}  # token -> {"user", "issued"}
        self.containers: dict[str, dict] = {}
        self.media: dict[str, dict] = {}
        self.container_polls = 0  # >0: containers stay IN_PROGRESS for that many status reads
        self.publish_quota = 250
        self.image_limit = 8 * 1024 * 1024
        self.downloads: list[str] = []  # image addresses fetched, in order

    def add_account(self, username: str) -> tuple[str, str]:
        user_id, token = next_id(), secrets.token_urlsafe(16)
        self.tokens[token] = {
            "user": user_id,
            "username": username,
            "issued": time.time() - 2 * 86400,
        }
        return user_id, token

    def _error(self, status: int, code: int, message: str, **extra) -> Reply:
        return Reply(
            status,
            {
                "error": {
                    "message": message,
                    "type": "OAuthException",
                    "code": code,
                    "fbtrace_id": secrets.token_hex(6),
                }
                | extra
            },
        )

    def _user(self, request: Request) -> dict | Reply:
        token = request.form().get("access_token") or request.query.get("access_token") or ""
        found = self.tokens.get(token)
        if found is None:
            return self._error(
                400, 190, "Error validating access token: Session has expired.", error_subcode=463
            )
        return found

    def _text_length(self, text: str) -> int:
        total = 0
        for cluster in regex.findall(r"\X", text):
            emoji = regex.search(r"\p{Extended_Pictographic}", cluster)
            total += len(cluster.encode()) if emoji else 1
        return total

    def create_container(self, request: Request, user: str) -> Reply:
        account = self._user(request)
        if isinstance(account, Reply):
            return account
        form = request.form()
        text = form.get("text", "")
        if self._text_length(text) > 500:
            return self._error(400, 100, "Param text must be at most 500 characters long.")
        if len(set(_URL.findall(text))) > 5:
            return self._error(
                400,
                100,
                "The post contains too many links.",
                error_user_msg="THREADS_API__LINK_LIMIT_EXCEEDED",
            )
        reply_to = form.get("reply_to_id")
        if reply_to and reply_to not in self.media:
            return self._error(400, 100, "The reply target does not exist.")
        kind = form.get("media_type", "TEXT")
        container: dict = {
            "user": account["user"],
            "text": text,
            "kind": kind,
            "polls_left": self.container_polls,
            "status": "IN_PROGRESS" if self.container_polls else "FINISHED",
            "media_id": None,
            "carousel_item": form.get("is_carousel_item") == "true",
            "alt_text": form.get("alt_text", ""),
            "children": [],
        }
        if kind == "IMAGE":
            address = form.get("image_url", "")
            if not address.startswith(("http://", "https://")):
                return self._error(400, 100, "Param image_url must be a valid URL.")
            container |= {"image_url": address, "status": "IN_PROGRESS", "image": None}
        elif kind == "CAROUSEL":
            children = [c for c in form.get("children", "").split(",") if c]
            with self.lock:
                mine = [self.containers.get(c) for c in children]
            if not 2 <= len(children) <= 20 or any(
                c is None or c["user"] != account["user"] or not c["carousel_item"] for c in mine
            ):
                return self._error(400, 100, "Param children must name 2 to 20 carousel items.")
            container["children"] = children
        elif kind != "TEXT":
            return self._error(400, 100, f"Param media_type {kind} is not supported here.")
        container_id = next_id()
        with self.lock:
            self.containers[container_id] = container
        if kind == "IMAGE":
            threading.Thread(target=self._download, args=(container_id,), daemon=True).start()
        return Reply(200, {"id": container_id})

    def _download(self, container_id: str) -> None:
        """What Meta does with image_url: download it (here only from loopback: the fake never
        connects elsewhere) and check it; the container is IN_PROGRESS until then."""
        container = self.containers[container_id]
        address = container["image_url"]
        data, error = b"", ""
        if urlsplit(address).hostname in ("127.0.0.1", "localhost", "::1"):
            try:
                answer = httpx.get(address, timeout=5, follow_redirects=False)
                data = answer.content if answer.status_code == 200 else b""
            except httpx.HTTPError:
                data = b""
        if not data:
            error = "FAILED_DOWNLOADING_IMAGE"  # [I] Meta documents FAILED_DOWNLOADING_VIDEO
        elif image_type(data) not in ("image/jpeg", "image/png"):
            error = "UNSUPPORTED_IMAGE_FORMAT"  # [I] only JPEG and PNG are accepted
        elif len(data) > self.image_limit:
            error = "IMAGE_TOO_LARGE"  # [I] the documented limit is 8 MB
        with self.lock:
            container["image"] = data
            container["error_message"] = error
            container["status"] = "ERROR" if error else "FINISHED"
            if not error and container["polls_left"] > 0:
                container["status"] = "IN_PROGRESS"
            self.downloads.append(address)

    def _status(self, container: dict) -> str:
        """A carousel is ready when its items are; it fails when one fails."""
        if container["kind"] != "CAROUSEL" or container["status"] == "PUBLISHED":
            return container["status"]
        states = {self.containers[c]["status"] for c in container["children"]}
        if "ERROR" in states:
            return "ERROR"
        if "IN_PROGRESS" in states or container["status"] == "IN_PROGRESS":
            return "IN_PROGRESS"
        return "FINISHED"

    def publish(self, request: Request, user: str) -> Reply:
        account = self._user(request)
        if isinstance(account, Reply):
            return account
        container_id = request.form().get("creation_id", "")
        with self.lock:
            container = self.containers.get(container_id)
            if container is None or container["user"] != account["user"]:
                return self._error(400, 100, "Invalid creation_id")
            if container["status"] == "PUBLISHED":
                return self._error(400, 10, "The media has already been published.")
            if container["carousel_item"]:
                return self._error(400, 100, "A carousel item is published by its carousel.")
            if self._status(container) != "FINISHED":
                return self._error(400, 9007, "The media is not ready to be published.")
            published_today = sum(1 for m in self.media.values() if m["user"] == account["user"])
            if published_today >= self.publish_quota:
                return self._error(400, 4, "Application request limit reached")
            media_id = next_id()
            self.media[media_id] = {
                "user": account["user"],
                "text": container["text"],
                "kind": container["kind"],
                "images": [
                    {"image_url": c["image_url"], "alt_text": c["alt_text"], "data": c["image"]}
                    for c in (
                        [self.containers[i] for i in container["children"]]
                        if container["kind"] == "CAROUSEL"
                        else [container]
                        if container["kind"] == "IMAGE"
                        else []
                    )
                ],
                "permalink": f"https://www.threads.net/@{account['username']}/post/{media_id}",
                "timestamp": datetime.now(UTC).isoformat(),
                "at": time.time(),
            }
            container["status"], container["media_id"] = "PUBLISHED", media_id
            self.created += 1
        return Reply(200, {"id": media_id})

    def list_threads(self, request: Request, user: str) -> Reply:
        account = self._user(request)
        if isinstance(account, Reply):
            return account
        limit = min(int(request.query.get("limit", "25")), 100)
        since = int(request.query.get("since", "0"))
        with self.lock:
            mine = [
                {
                    "id": i,
                    "text": m["text"],
                    "permalink": m["permalink"],
                    "timestamp": m["timestamp"],
                }
                for i, m in self.media.items()
                if m["user"] == account["user"] and m["at"] >= since
            ]
        mine.sort(key=lambda m: int(m["id"]), reverse=True)
        offset = int(request.query.get("after", "0"))
        page, rest = mine[offset : offset + limit], mine[offset + limit :]
        paging = {"paging": {"cursors": {"after": str(offset + limit)}}} if rest else {}
        return Reply(200, {"data": page} | paging)

    def get_object(self, request: Request, object_id: str) -> Reply:
        account = self._user(request)
        if isinstance(account, Reply):
            return account
        with self.lock:
            if object_id in self.containers:
                container = self.containers[object_id]
                downloading = container["kind"] == "IMAGE" and container["image"] is None
                if container["polls_left"] > 0 and not downloading:
                    container["polls_left"] -= 1
                    if container["polls_left"] == 0 and container["status"] == "IN_PROGRESS":
                        container["status"] = "FINISHED"
                status = self._status(container)
                body = {"id": object_id, "status": status}
                if status == "ERROR":
                    body["error_message"] = container.get("error_message") or next(
                        (
                            self.containers[c].get("error_message")
                            for c in container["children"]
                            if self.containers[c].get("error_message")
                        ),
                        "UNKNOWN",
                    )
                return Reply(200, body)
            media = self.media.get(object_id)
        if media is None:
            return self._error(400, 100, "Unsupported get request.")
        return Reply(200, {"id": object_id, "permalink": media["permalink"], "text": media["text"]})

    def delete_object(self, request: Request, object_id: str) -> Reply:
        account = self._user(request)
        if isinstance(account, Reply):
            return account
        with self.lock:
            if self.media.pop(object_id, None) is None:
                return self._error(400, 100, "Unsupported delete request.")
        return Reply(200, {"success": True, "deleted_id": object_id})

    def refresh_token(self, request: Request) -> Reply:
        token = request.query.get("access_token", "")
        with self.lock:
            found = self.tokens.get(token)
            if found is None:
                return self._error(400, 190, "Error validating access token.")
            if time.time() - found["issued"] < 86400:
                return self._error(400, 190, "The token is too new to be refreshed.")
            fresh = secrets.token_urlsafe(16)
            self.tokens[fresh] = found | {"issued": time.time()}
        return Reply(200, {"access_token": fresh, "token_type": "bearer", "expires_in": 5183944})

    def revoke_all(self) -> None:
        with self.lock:
            self.tokens.clear()

    def copies(self) -> int:
        return len(self.media)

    def copy_ids(self) -> set[str]:
        return set(self.media)


FAKES = {
    "mastodon": FakeMastodon,
    "bluesky": FakeBluesky,
    "x": FakeX,
    "linkedin": FakeLinkedIn,
    "threads": FakeThreads,
}
