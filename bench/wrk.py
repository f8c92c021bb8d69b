"""Running ``wrk`` and reading its ``--latency`` report: requests per second, p50, p99, errors."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

WRK = "/usr/bin/wrk"

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_RPS_RE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_PERCENTILE_RE = re.compile(
    r"^\s+(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE
)
_TOTAL_RE = re.compile(
    r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read", re.MULTILINE
)
_NON_2XX_RE = re.compile(r"^\s+Non-2xx or 3xx responses:\s+(\d+)", re.MULTILINE)
_SOCKET_RE = re.compile(
    r"^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)


class WrkOutputError(ValueError):
    """wrk printed something this parser does not understand (or failed)."""


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    bytes_read: int
    non_2xx_3xx: int
    socket_errors: int

    @property
    def bytes_per_request(self) -> float:
        return self.bytes_read / self.requests if self.requests else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx_3xx + self.socket_errors


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk_output(text: str) -> WrkResult:
    """Read the report of ``wrk --latency``; raises WrkOutputError when a figure is missing."""
    rps = _RPS_RE.search(text)
    percentiles = {
        m.group(1): _milliseconds(m.group(2), m.group(3)) for m in _PERCENTILE_RE.finditer(text)
    }
    total = _TOTAL_RE.search(text)
    if rps is None or total is None or not {"50", "99"} <= percentiles.keys():
        raise WrkOutputError(f"not a wrk --latency report:\n{text}")
    non_2xx = _NON_2XX_RE.search(text)
    sockets = _SOCKET_RE.search(text)
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        requests=int(total.group(1)),
        bytes_read=int(float(total.group(4)) * _SIZE_UNITS[total.group(5)]),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


@dataclass(frozen=True)
class Load:
    """The same load for every target: threads, connections, seconds, and a warm-up first."""

    threads: int = 2
    connections: int = 32
    seconds: int = 10
    warmup_seconds: int = 3
    timeout_seconds: int = 10

    def command(self, url: str, headers: dict[str, str], seconds: int) -> list[str]:
        command = [
            WRK,
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{seconds}s",
            f"--timeout={self.timeout_seconds}s",
            "--latency",
        ]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        return [*command, url]


def measure(url: str, load: Load, headers: dict[str, str]) -> tuple[WrkResult, str]:
    """A warm-up run (discarded), then the measured run; returns its figures and raw report."""
    if load.warmup_seconds > 0:
        _run(load.command(url, headers, load.warmup_seconds))
    output = _run(load.command(url, headers, load.seconds))
    return parse_wrk_output(output), output


def _run(command: list[str]) -> str:
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise WrkOutputError(f"{' '.join(command)} failed:\n{finished.stderr}{finished.stdout}")
    return finished.stdout
