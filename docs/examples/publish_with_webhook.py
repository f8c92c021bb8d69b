"""Podium API example: write a draft, submit it, approve it with a second token, and receive the
``post.published`` event through a signed webhook.

Needs Python 3.11+ and httpx. Run against a Podium whose webhooks may reach this machine (for a
local server: PODIUM_WEBHOOKS_ALLOW_PRIVATE=1):

    PODIUM_URL=http://127.0.0.1:8000 PODIUM_INSTITUTION=northside-school \
    PODIUM_AUTHOR_TOKEN=pdm_... PODIUM_REVIEWER_TOKEN=pdm_... python publish_with_webhook.py

The author token needs the ``write`` scope; the second token belongs to an administrator (it
registers the webhook and approves: scopes ``admin`` and ``review``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import queue
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

TOLERANCE_SECONDS = 5 * 60


def verify(secret: str, headers, body: bytes) -> dict:
    """Check a Standard Webhooks signature; return the event, or raise ValueError."""
    message_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        raise ValueError("timestamp too far from now (replayed?)")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # During a secret rotation there are two signatures ("v1,<a> v1,<b>"); one must match.
    for candidate in headers["webhook-signature"].split():
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(expected, signature):
            return json.loads(body)
    raise ValueError("no valid signature")


def start_receiver(secret_box: dict, events: queue.Queue) -> ThreadingHTTPServer:
    """A tiny webhook receiver on 127.0.0.1; a real one dedupes on webhook-id."""
    seen: set[str] = set()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                event = verify(secret_box["secret"], self.headers, body)
            except (KeyError, ValueError) as error:
                self.send_response(400)
                self.end_headers()
                print("rejected a webhook:", error, file=sys.stderr)
                return
            self.send_response(204)  # answer fast; do the work afterwards
            self.end_headers()
            if self.headers["webhook-id"] not in seen:
                seen.add(self.headers["webhook-id"])
                events.put(event)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    base = os.environ.get("PODIUM_URL", "http://127.0.0.1:8000").rstrip("/")
    institution = os.environ["PODIUM_INSTITUTION"]
    api = f"{base}/api/v1/institutions/{institution}"
    author = httpx.Client(
        headers={"Authorization": f"Bearer {os.environ['PODIUM_AUTHOR_TOKEN']}"}, timeout=30
    )
    reviewer = httpx.Client(
        headers={"Authorization": f"Bearer {os.environ['PODIUM_REVIEWER_TOKEN']}"}, timeout=30
    )

    def write(client: httpx.Client, method: str, url: str, body: dict | None = None) -> dict:
        # An Idempotency-Key makes the write safe to retry after a timeout.
        response = client.request(
            method, url, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        if response.status_code == 429:
            time.sleep(int(response.headers["Retry-After"]))
            return write(client, method, url, body)
        response.raise_for_status()
        return response.json() if response.content else {}

    # 1. A receiver, registered as a webhook endpoint for published posts.
    events: queue.Queue = queue.Queue()
    secret_box: dict = {}
    receiver = start_receiver(secret_box, events)
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/podium"
    endpoint = write(
        reviewer,
        "POST",
        f"{api}/webhooks/endpoints/",
        {"url": hook_url, "event_types": ["post.published"], "description": "example"},
    )
    secret_box["secret"] = endpoint["secret"]  # shown this once: keep it safe
    try:
        # 2. The author writes a draft and submits it.
        draft = {"body": "Open day on Saturday, 10 to 14.", "language": "en"}
        post = write(author, "POST", f"{api}/posts/", draft)
        print("draft", post["id"], post["state"])
        post = write(author, "POST", f"{api}/posts/{post['id']}/submit/")
        print("submitted", post["state"])

        # 3. A second person approves it (never the author: four eyes).
        write(reviewer, "POST", f"{api}/review/{post['id']}/approve/", {})
        print("approved")

        # 4. The published event arrives, signed.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                event = events.get(timeout=1)
            except queue.Empty:
                continue
            if event["type"] == "post.published" and event["data"]["object_id"] == str(post["id"]):
                print("webhook", event["type"], "post", event["data"]["object_id"])
                return 0
        print("no post.published event within 30 seconds", file=sys.stderr)
        return 1
    finally:
        reviewer.delete(f"{api}/webhooks/endpoints/{endpoint['id']}/")
        receiver.shutdown()


if __name__ == "__main__":
    sys.exit(main())
