"""Gunicorn settings for the `web` process, loaded by path: gunicorn -c platform/gunicorn.conf.py

Every value can be changed through the environment; the defaults suit one container behind the
compose proxy. Nothing here is importable as a module: `platform/` must never become a package.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "podium.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Sync workers: the proxy buffers requests and responses, so a slow reader never holds a worker.
# GUNICORN_THREADS > 1 switches to threaded workers.
workers = _int(
    "GUNICORN_WORKERS", _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8))
)
threads = _int("GUNICORN_THREADS", 1)

# Import Django once in the master, then fork: faster start, shared memory pages.
preload_app = True

timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so a slow leak cannot grow without bound; rarely, though: a
# worker serves a thousand public pages a second from the server cache, and each restart costs
# a fork, a new database connection and cold caches. The jitter keeps workers from restarting
# together.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 1000)

# Request limits, checked by gunicorn before Django sees anything (answers 400/414/431 itself).
# A request line of 8 KiB holds any address Podium makes with room for filters; 64 header
# fields of at most 8 KiB each are more than browsers and API clients send. nginx's defaults in
# front (large_client_header_buffers 4 8k) are no looser.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 8190)
limit_request_fields = _int("GUNICORN_LIMIT_REQUEST_FIELDS", 64)
limit_request_field_size = _int("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", 8190)

# Worker memory: a worker whose resident memory has grown past this many MiB finishes the
# request it is serving, then exits; the master starts a fresh one. No request fails: the others
# are served by the remaining workers meanwhile, and a sync worker serves one request at a time.
# Podium bounds what one request may cost (bodies, JSON shape, image decoding, about 100 MiB at
# most), so only a leak or fragmentation ever reaches this.
MAX_WORKER_MEMORY_MIB = _int("GUNICORN_MAX_WORKER_MEMORY_MB", 768)


def _resident_mib() -> float:
    """The calling process's resident memory in MiB (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def post_request(worker, req, environ, resp) -> None:
    """Gunicorn hook after each request: recycle this worker once it holds too much memory."""
    resident = _resident_mib()
    if MAX_WORKER_MEMORY_MIB and resident > MAX_WORKER_MEMORY_MIB and worker.alive:
        worker.log.warning(
            "worker %s holds %.0f MiB (limit %s MiB): restarting after this request",
            worker.pid,
            resident,
            MAX_WORKER_MEMORY_MIB,
        )
        worker.alive = False


# The heartbeat file lives in memory: a container's overlay file system can stall it.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Only the proxy reaches this port (compose publishes the proxy alone), so the proxy's
# X-Forwarded-Proto is trusted from any address of the internal network.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Anonymous readers are not tracked: no access log unless asked for, and then without addresses,
# user agents, referrers or paths (paths name what was read, and some carry secrets).
accesslog = (
    "-" if os.environ.get("GUNICORN_ACCESS_LOG", "").lower() in {"1", "true", "on"} else None
)
access_log_format = "%(t)s %(m)s %(s)s %(B)s %(M)sms"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
capture_output = True
proc_name = "podium-web"
# No runtime control socket (gunicornc): compose restarts the container instead, and the image's
# home directory is read-only.
control_socket_disable = True
