"""The shared machinery of the fake networks: a threaded HTTP server on 127.0.0.1, routing, and
injectable faults (latency, slow answers, 5xx, malformed bodies, dropping the connection after
the post was committed).

Each fake keeps its posts in memory and counts the copies it holds, so a test can check that the
network holds exactly one copy per sent delivery.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}

    def multipart(self) -> dict[str, bytes]:
        """The fields of a multipart/form-data body (file or not) by name, as raw bytes."""
        return {name: data for name, (data, _kind) in self.multipart_parts().items()}

    def multipart_parts(self) -> dict[str, tuple[bytes, str]]:
        """The fields of a multipart/form-data body by name: raw bytes and declared type."""
        kind = self.headers.get("content-type", "")
        if not kind.startswith("multipart/form-data"):
            return {}
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + kind.encode() + b"\r\n\r\n" + self.body
        )
        return {
            part.get_param("name", header="content-disposition"): (
                part.get_payload(decode=True),
                part.get_content_type(),
            )
            for part in message.iter_parts()
        }

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


@dataclass
class Reply:
    status: int
    body: bytes | dict | list | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


class Drop(Exception):
    """Close the connection without an answer (after whatever the handler committed)."""


@dataclass
class Faults:
    """What goes wrong, and how often. ``script`` names faults for the next posting requests,
    one each: "drop_after_commit", "5xx", "malformed", "slow"."""

    latency: float = 0.0
    drop_after_commit: float = 0.0
    error_5xx: float = 0.0
    malformed: float = 0.0
    slow_seconds: float = 0.0
    script: deque = field(default_factory=deque)

    def next_for_posting(self) -> str | None:
        if self.script:
            return self.script.popleft()
        roll = random.random()
        if roll < self.error_5xx:
            return "5xx"
        roll -= self.error_5xx
        if roll < self.drop_after_commit:
            return "drop_after_commit"
        roll -= self.drop_after_commit
        if roll < self.malformed:
            return "malformed"
        return None


Route = tuple[str, re.Pattern, str]


class QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a killed worker) is part of the test, not an error to print."""

    def handle_error(self, request, client_address) -> None:
        pass


class FakeNetwork:
    """A fake network: subclasses declare ``routes`` (method, path regex, handler name)."""

    name = ""
    routes: list[tuple[str, str, str]] = []
    # Handler names whose requests create a copy: the faults apply to them.
    posting: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults = Faults()
        self.requests: list[tuple[str, str]] = []
        self.created = 0  # copies ever created (a duplicate shows as created > sent)
        self._compiled: list[Route] = [
            (method, re.compile(f"^{pattern}$"), handler)
            for method, pattern, handler in self.routes
        ]
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    # Lifecycle ---------------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body leave in two writes; with Nagle's algorithm the body
            # waits for the client's delayed ACK (about 40 ms on Linux), which no real network
            # adds to its answers (measured: 147 ms instead of 105 ms at 100 ms latency).
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:
                pass

            def _serve(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        server = QuietServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.request_queue_size = 256
        self._server = server
        threading.Thread(target=server.serve_forever, name=f"fake-{self.name}", daemon=True).start()
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # Dispatch ----------------------------------------------------------------------------------

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(
            method=handler.command,
            path=parts.path,
            query={k: v[0] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        if self.faults.latency:
            time.sleep(self.faults.latency)
        name, match = self._route(request)
        with self.lock:
            self.requests.append((request.method, request.path))
        if name is None:
            return self._send(handler, self.not_found(request))
        fault = self.faults.next_for_posting() if name in self.posting else None
        if fault == "slow":
            time.sleep(self.faults.slow_seconds or 5.0)
        if fault == "5xx":
            return self._send(handler, self.server_error(request))
        try:
            reply = getattr(self, name)(request, **match.groupdict())
        except Drop:
            return self._drop(handler)
        if fault == "drop_after_commit":
            return self._drop(handler)
        if fault == "malformed" and 200 <= reply.status < 300:
            reply = Reply(reply.status, b"<html><body>OK</body></html>", {}, "text/html")
        self._send(handler, reply)

    def _route(self, request: Request):
        for method, pattern, name in self._compiled:
            match = pattern.match(request.path)
            if match and method == request.method:
                return name, match
        return None, None

    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        body = reply.body
        if isinstance(body, dict | list):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        try:
            handler.send_response(reply.status)
            if data or reply.status not in (204,):
                handler.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if data:
                handler.wfile.write(data)
        except OSError:
            pass

    # Defaults a network overrides --------------------------------------------------------------

    def not_found(self, request: Request) -> Reply:
        return Reply(404, {"error": "Not found"})

    def server_error(self, request: Request) -> Reply:
        return Reply(503, {"error": "There was a temporary problem serving your request"})

    def copies(self) -> int:
        """Posts the network holds now."""
        raise NotImplementedError

    def copy_ids(self) -> set[str]:
        raise NotImplementedError


def free_port() -> int:
    """A loopback port where nothing listens (for the unknown-instance case)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
