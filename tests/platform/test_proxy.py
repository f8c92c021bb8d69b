"""The compose proxy (platform/nginx/templates/default.conf.template) run by the real nginx binary
in front of a stand-in upstream: what it caches, what it never caches, what it serves from disk."""

from __future__ import annotations

import gzip
import socket
import subprocess
import time
import uuid

import pytest

from tests.platform.servers import (
    FakeUpstream,
    Proxy,
    fetch,
    nginx_available,
    nginx_command,
    prepare_proxy,
    running_proxy,
    running_upstream,
    wait_until,
)

pytestmark = pytest.mark.skipif(
    not nginx_available(), reason="/usr/sbin/nginx is not installed (./dev test installs it)"
)

MICROCACHE_SECONDS = 1
HASHED_CSS = "podium/podium.0123456789ab.css"
PLAIN_CSS = "podium/podium.css"
CSS = b"body { color: #222; }\n" * 100


@pytest.fixture(scope="module")
def upstream():
    with running_upstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def proxy(upstream: FakeUpstream, tmp_path_factory) -> Proxy:
    prepared = prepare_proxy(
        tmp_path_factory.mktemp("proxy"),
        upstream=f"127.0.0.1:{upstream.port}",
        microcache=f"{MICROCACHE_SECONDS}s",
    )
    for name in (HASHED_CSS, PLAIN_CSS):
        target = prepared.static_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(CSS)
    (prepared.static_dir / (HASHED_CSS + ".gz")).write_bytes(gzip.compress(CSS))
    (prepared.media_dir / "avatars").mkdir()
    (prepared.media_dir / "avatars" / "ada.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with running_proxy(prepared):
        yield prepared


def unique(prefix: str) -> str:
    return f"/{prefix}/{uuid.uuid4().hex}/"


def test_nginx_accepts_the_rendered_configuration(proxy: Proxy):
    result = subprocess.run(nginx_command(proxy, "-t"), capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_second_anonymous_get_within_the_window_is_a_hit_that_never_reaches_the_upstream(
    proxy: Proxy, upstream: FakeUpstream
):
    path = unique("public")

    first = fetch(proxy.port, path)
    second = fetch(proxy.port, path)

    assert (first.status, first.cache_status) == (200, "MISS")
    assert (second.status, second.cache_status) == (200, "HIT")
    assert second.body == first.body
    assert upstream.count(path) == 1


def test_head_after_get_is_answered_from_the_cache(proxy: Proxy, upstream: FakeUpstream):
    path = unique("public")
    fetch(proxy.port, path)

    head = fetch(proxy.port, path, method="HEAD")

    assert (head.status, head.cache_status, head.body) == (200, "HIT", b"")
    assert upstream.count(path) == 1


@pytest.mark.parametrize(
    "personal",
    [
        {"Cookie": "podium_session=abc123"},
        {"Cookie": "podium_csrf=abc123"},
        {"Cookie": "theme=dark; podium_session=abc123"},
        {"Cookie": "messages=pending"},
        {"Authorization": "Bearer pod_abc123"},
    ],
    ids=["session", "csrf", "session-among-others", "messages", "api-token"],
)
def test_personal_request_bypasses_the_cache_and_its_response_is_never_stored(
    proxy: Proxy, upstream: FakeUpstream, personal: dict[str, str]
):
    cached = unique("public")
    fetch(proxy.port, cached)
    bypassing = fetch(proxy.port, cached, headers=personal)

    fresh = unique("public")
    personal_first = fetch(proxy.port, fresh, headers=personal)
    anonymous_after = fetch(proxy.port, fresh)

    assert bypassing.cache_status == "BYPASS"
    assert upstream.count(cached) == 2
    assert personal_first.cache_status == "BYPASS"
    assert anonymous_after.cache_status == "MISS"
    assert upstream.count(fresh) == 2


def test_post_always_reaches_the_upstream_and_is_never_stored(proxy: Proxy, upstream: FakeUpstream):
    path = unique("public")

    posts = [fetch(proxy.port, path, method="POST", body=b"text=hello") for _ in range(2)]
    get_after = fetch(proxy.port, path)

    assert [post.status for post in posts] == [200, 200]
    assert upstream.count(path, method="POST") == 2
    assert get_after.cache_status == "MISS"


@pytest.mark.parametrize(
    "kind", ["sets-cookie", "no-store", "private"], ids=["set-cookie", "no-store", "private"]
)
def test_response_not_meant_for_sharing_is_never_cached(
    proxy: Proxy, upstream: FakeUpstream, kind: str
):
    path = unique(kind)

    responses = [fetch(proxy.port, path) for _ in range(2)]

    assert [r.cache_status for r in responses] == ["MISS", "MISS"]
    assert upstream.count(path) == 2


def test_cache_key_includes_query_and_host(proxy: Proxy, upstream: FakeUpstream):
    path = unique("public")
    fetch(proxy.port, path + "?lang=de")

    other_language = fetch(proxy.port, path + "?lang=en")
    other_host = fetch(proxy.port, path + "?lang=de", headers={"Host": "other.test"})
    same_again = fetch(proxy.port, path + "?lang=de")

    assert other_language.cache_status == "MISS"
    assert other_host.cache_status == "MISS"
    assert same_again.cache_status == "HIT"
    assert upstream.count(path + "?lang=de") == 2


def test_an_expired_entry_is_never_served_stale_the_next_request_waits_for_a_fresh_one(
    proxy: Proxy, upstream: FakeUpstream
):
    path = unique("public")
    fetch(proxy.port, path)
    # nginx keeps time in whole seconds: an entry valid for 1 s may live almost 2.
    time.sleep(MICROCACHE_SECONDS + 1.1)

    after_expiry = fetch(proxy.port, path)
    again = fetch(proxy.port, path)

    assert after_expiry.cache_status == "EXPIRED"
    assert b"rendering 2" in after_expiry.body
    assert again.cache_status == "HIT"
    assert b"rendering 2" in again.body
    assert upstream.count(path) == 2


def test_nothing_is_served_stale_when_the_upstream_fails(proxy: Proxy, upstream: FakeUpstream):
    """A retracted text must not come back because Django is down."""
    path = unique("fails-later")
    first = fetch(proxy.port, path)
    time.sleep(MICROCACHE_SECONDS + 1.1)

    failing = fetch(proxy.port, path)

    assert first.status == 200
    assert failing.status == 502
    assert b"Public text" not in failing.body


def test_upstream_receives_forwarded_headers_set_by_the_proxy_not_by_the_client(
    proxy: Proxy, upstream: FakeUpstream
):
    path = unique("echo")

    fetch(
        proxy.port,
        path,
        headers={
            "Host": "podium.test",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Ssl": "on",
        },
    )
    headers = {name.lower(): value for name, value in upstream.last(path).headers.items()}

    assert headers["host"] == "podium.test"
    assert headers["x-forwarded-host"] == "podium.test"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert "x-forwarded-ssl" not in headers


def test_behind_a_tls_terminator_the_proxy_forwards_https(upstream: FakeUpstream, tmp_path):
    behind_tls = prepare_proxy(
        tmp_path, upstream=f"127.0.0.1:{upstream.port}", forwarded_proto="https"
    )
    path = unique("echo")

    with running_proxy(behind_tls):
        fetch(behind_tls.port, path, headers={"X-Forwarded-Proto": "http"})

    assert upstream.last(path).headers["X-Forwarded-Proto"] == "https"


def test_html_is_gzipped_for_clients_that_accept_it(proxy: Proxy):
    response = fetch(proxy.port, unique("public"), headers={"Accept-Encoding": "gzip"})

    assert response.header("Content-Encoding") == "gzip"
    assert b"Public text." in gzip.decompress(response.body)


@pytest.mark.parametrize(
    ("name", "cache_control"),
    [
        (HASHED_CSS, "public, max-age=31536000, immutable"),
        (PLAIN_CSS, "public, max-age=3600"),
    ],
    ids=["hashed-name", "plain-name"],
)
def test_static_files_are_served_from_disk_with_cache_headers(
    proxy: Proxy, upstream: FakeUpstream, name: str, cache_control: str
):
    requests_before = len(upstream.seen)

    response = fetch(proxy.port, "/static/" + name)

    assert response.status == 200
    assert response.body == CSS
    assert response.header("Cache-Control") == cache_control
    assert response.header("Content-Type").startswith("text/css")
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert len(upstream.seen) == requests_before


def test_static_file_is_sent_precompressed_when_a_gz_sibling_exists(proxy: Proxy):
    response = fetch(proxy.port, "/static/" + HASHED_CSS, headers={"Accept-Encoding": "gzip"})

    assert response.header("Content-Encoding") == "gzip"
    assert gzip.decompress(response.body) == CSS


def test_missing_static_file_is_a_404_from_the_proxy(proxy: Proxy, upstream: FakeUpstream):
    requests_before = len(upstream.seen)

    response = fetch(proxy.port, "/static/podium/missing.css")

    assert response.status == 404
    assert len(upstream.seen) == requests_before


def test_uploads_are_served_from_disk_sandboxed(proxy: Proxy, upstream: FakeUpstream):
    requests_before = len(upstream.seen)

    response = fetch(proxy.port, "/media/avatars/ada.png")

    assert response.status == 200
    assert response.header("Content-Type") == "image/png"
    assert "sandbox" in response.header("Content-Security-Policy")
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert len(upstream.seen) == requests_before


def test_four_ten_megabyte_images_fit_in_one_request(proxy: Proxy, upstream: FakeUpstream):
    path = unique("upload")
    body = b"x" * (4 * 10 * 1024 * 1024 + 512 * 1024)

    response = fetch(proxy.port, path, method="POST", body=body)

    assert response.status == 200
    assert upstream.last(path).body_length == len(body)


def test_oversized_upload_is_refused_before_reaching_the_upstream(
    proxy: Proxy, upstream: FakeUpstream
):
    path = unique("upload")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: podium.test\r\n"
            f"Content-Length: {60 * 1024 * 1024}\r\n\r\n".encode()
        )
        status_line = connection.recv(256).split(b"\r\n", 1)[0]

    assert b" 413 " in status_line
    assert upstream.count(path) == 0


def test_access_log_records_no_reader_address_agent_referrer_or_path(proxy: Proxy):
    def lines() -> list[str]:
        return proxy.access_log.read_text().splitlines()

    before = len(lines())
    secret = uuid.uuid4().hex
    fetch(
        proxy.port,
        f"/northside/invitations/{secret}/?utm_source=reader-42",
        headers={"User-Agent": "ReaderBrowser/9.9", "Referer": "https://elsewhere.test/"},
    )
    wait_until(lambda: len(lines()) > before, timeout=5, what="the access log line")
    logged = "\n".join(lines()[before:])

    assert "GET 200" in logged
    for trace in ("127.0.0.1", "ReaderBrowser", "elsewhere.test", "reader-42", secret):
        assert trace not in logged


def test_proxy_health_endpoint_answers_without_the_upstream(proxy: Proxy, upstream: FakeUpstream):
    requests_before = len(upstream.seen)

    response = fetch(proxy.port, "/_proxy/health")

    assert (response.status, response.body) == (200, b"ok\n")
    assert len(upstream.seen) == requests_before
