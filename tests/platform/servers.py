"""Real processes for the platform tests: the nginx proxy rendered from its template, a small
upstream that stands in for gunicorn and records what reaches it, and an HTTP client that
follows no redirects."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROXY_TEMPLATE = REPO / "platform" / "nginx" / "templates" / "default.conf.template"
NGINX = Path("/usr/sbin/nginx")
MIME_TYPES = Path("/etc/nginx/mime.types")
PLACEHOLDER = re.compile(r"\$\{(PROXY_[A-Z0-9_]+)\}|\$(PROXY_[A-Z0-9_]+)")


def template_placeholders(text: str) -> set[str]:
    return {braced or bare for braced, bare in PLACEHOLDER.findall(text)}


def render_proxy_template(values: dict[str, str]) -> str:
    """Render the proxy template as the nginx image's envsubst does (PROXY_* names only)."""
    text = PROXY_TEMPLATE.read_text()
    missing = template_placeholders(text) - values.keys()
    if missing:
        raise KeyError(f"no value for {sorted(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1) or match.group(2)], text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TimeoutError(f"gave up waiting for {what or condition}")


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def cache_status(self) -> str | None:
        return self.headers.get("X-Cache-Status")


def fetch(
    port: int,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Response:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            method, path, body=body, headers={"Host": "podium.test", **(headers or {})}
        )
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


# --- the stand-in for gunicorn --------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body_length: int


@dataclass
class FakeUpstream:
    """Answers by path prefix, like the kinds of Django responses the proxy must tell apart."""

    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str, method: str | None = None) -> int:
        with self.lock:
            return sum(1 for s in self.seen if s.path == path and method in (None, s.method))

    def last(self, path: str) -> Seen:
        with self.lock:
            return [s for s in self.seen if s.path == path][-1]

    def respond(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        number = self.count(seen.path)
        if seen.method == "POST":
            return (
                200,
                {"Cache-Control": "no-store"},
                json.dumps({"received": seen.body_length}).encode(),
            )
        if seen.path.startswith("/echo/"):
            return (
                200,
                {"Content-Type": "application/json", "Cache-Control": "no-store"},
                json.dumps(seen.headers).encode(),
            )
        if seen.path.startswith("/fails-later/") and number > 1:
            return 502, {"Content-Type": "text/plain"}, b"upstream down"
        page = f"<!doctype html><title>{seen.path}</title><p>rendering {number}</p>"
        body = (page + "<p>" + "Public text. " * 200 + "</p>").encode()
        headers = {"Content-Type": "text/html; charset=utf-8"}
        # What accounts.publicread.public_view sends for an anonymous page.
        public = "public, max-age=60, stale-while-revalidate=600"
        if seen.path.startswith("/sets-cookie/"):
            headers |= {"Cache-Control": public, "Set-Cookie": "podium_csrf=fresh; Path=/"}
        elif seen.path.startswith("/no-store/"):
            headers["Cache-Control"] = "no-store"
        elif seen.path.startswith("/private/"):
            headers["Cache-Control"] = "private, max-age=60"
        else:
            headers["Cache-Control"] = public
        return 200, headers, body


@contextmanager
def running_upstream() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            remaining = length
            while remaining:
                remaining -= len(self.rfile.read(min(remaining, 1 << 20)))
            seen = Seen(self.command, self.path, dict(self.headers.items()), length)
            with upstream.lock:
                upstream.seen.append(seen)
            status, headers, body = upstream.respond(seen)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_POST = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    upstream.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()


# --- nginx --------------------------------------------------------------------------------------


@dataclass
class Proxy:
    port: int
    root: Path
    static_dir: Path
    media_dir: Path
    access_log: Path
    error_log: Path


def _main_config(root: Path, include: Path) -> str:
    """The parts of nginx.conf the official image provides, with every path in a temp dir."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the temp dirs
    temp = "\n".join(
        f"    {kind}_temp_path {root / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
pid {root / "nginx.pid"};
error_log {root / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    sendfile on;
{temp}
    include {include};
}}
"""


def prepare_proxy(
    root: Path, upstream: str, microcache: str = "2s", forwarded_proto: str = "auto"
) -> Proxy:
    """Render the template and a main config into root; return where everything is."""
    port = free_port()
    proxy = Proxy(
        port=port,
        root=root,
        static_dir=root / "static",
        media_dir=root / "media",
        access_log=root / "access.log",
        error_log=root / "error.log",
    )
    for directory in (proxy.static_dir, proxy.media_dir, root / "cache"):
        directory.mkdir(parents=True, exist_ok=True)
    site = root / "podium.conf"
    site.write_text(
        render_proxy_template(
            {
                "PROXY_LISTEN": f"127.0.0.1:{port}",
                "PROXY_UPSTREAM": upstream,
                "PROXY_STATIC_DIR": str(proxy.static_dir),
                "PROXY_MEDIA_DIR": str(proxy.media_dir),
                "PROXY_CACHE_DIR": str(root / "cache"),
                "PROXY_MICROCACHE": microcache,
                "PROXY_FORWARDED_PROTO": forwarded_proto,
            }
        )
    )
    (root / "nginx.conf").write_text(_main_config(root, site))
    return proxy


def nginx_command(proxy: Proxy, *args: str) -> list[str]:
    return [
        str(NGINX),
        "-p",
        str(proxy.root),
        "-c",
        str(proxy.root / "nginx.conf"),
        "-e",
        str(proxy.error_log),
        *args,
    ]


@contextmanager
def running_proxy(proxy: Proxy) -> Iterator[Proxy]:
    """nginx in the foreground; its stdout (where the access log goes) lands in access.log."""
    with proxy.access_log.open("wb") as stdout:
        process = subprocess.Popen(
            nginx_command(proxy, "-g", "daemon off;"), stdout=stdout, stderr=subprocess.STDOUT
        )
    try:

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {proxy.error_log.read_text()}")
            try:
                return fetch(proxy.port, "/_proxy/health").status == 200
            except OSError:
                return False

        wait_until(answers, what="nginx to answer")
        yield proxy
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def nginx_available() -> bool:
    return NGINX.exists() and MIME_TYPES.exists() and shutil.which(str(NGINX)) is not None
