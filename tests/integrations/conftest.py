"""Fixtures of the integration tests: a loopback-only network, a stub resolver, a receiver.

No test here may send a packet beyond this machine, even if the SSRF guard were broken: every
socket connect outside 127.0.0.0/8 and ::1 raises, and names resolve only through the stub.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts import webhooks


class OutsideConnection(AssertionError):
    """A test tried to connect beyond loopback."""


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a name: only the stub resolver may turn names into addresses


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch) -> list[tuple]:
    """Every connect is recorded; one outside loopback raises before any packet is sent."""
    attempts: list[tuple] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(address) -> None:
        attempts.append(address)
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(address, tuple) and not _is_loopback(host):
            raise OutsideConnection(f"refused to connect to {address!r} (tests stay on loopback)")

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return attempts


@pytest.fixture(autouse=True)
def stub_resolver(monkeypatch) -> dict[str, list[str]]:
    """Names the webhooks may resolve, and their answers; any other name fails to resolve."""
    names: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        if host not in names:
            raise socket.gaierror(f"{host} is not in the stub resolver")
        return names[host]

    monkeypatch.setattr(webhooks, "resolve_host", resolve)
    return names


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: answers with the scripted statuses, then 200."""

    url: str
    script: list[tuple[int, dict]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    # Ids accepted with a 2xx answer, in order (a receiver that dedupes keeps each once).
    accepted: list[str] = field(default_factory=list)

    def events(self) -> list[dict]:
        return [json.loads(item.body) for item in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                state.requests.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body, self.path)
                )
                status, headers = state.script.pop(0) if state.script else (200, {})
                if 200 <= status < 300:
                    state.accepted.append(self.headers.get("webhook-id", ""))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def allow_private(settings):
    settings.PODIUM_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PODIUM_WEBHOOKS_BACKOFF_SECONDS = 0
    return settings
