"""Bounded resource use per request: every bad body of issue 11, at the largest size the API
reads, is answered within 2 s and grows the process's peak memory by less than 100 MB.

Peak memory is the kernel's high-water mark of resident memory (``VmHWM``), reset before each
request through ``/proc/self/clear_refs``, so Pillow's and the JSON decoder's C allocations
count too (tracemalloc sees only Python's allocator).
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.api.parsers import MAX_JSON_BYTES
from tests.accounts.api_client import call, institution_url, token_for
from tests.api.bad_bodies import LARGEST_JSON, bad_json_bodies, image_bombs
from tests.feeds.api_support import client_for

pytestmark = pytest.mark.django_db

MAX_SECONDS = 2.0
MAX_GROWTH_BYTES = 100 * 1024 * 1024
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _kilobytes(name: str) -> int:
    return int(re.search(rf"^{name}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE).group(1))


def measured(request: Callable[[], object]) -> tuple[object, float, int]:
    """The request's result, its duration in seconds and its peak memory growth in bytes."""
    gc.collect()
    before = _kilobytes("VmRSS")
    _CLEAR_REFS.write_text("5")  # reset the high-water mark to the present resident size
    started = time.perf_counter()
    result = request()
    elapsed = time.perf_counter() - started
    return result, elapsed, (_kilobytes("VmHWM") - before) * 1024


@pytest.fixture(autouse=True)
def _needs_the_high_water_mark():
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        pytest.skip("this kernel cannot reset the peak memory of a process")


def test_the_bad_bodies_are_as_large_as_the_api_reads():
    assert LARGEST_JSON == MAX_JSON_BYTES - 1024
    assert all(len(body.raw) <= MAX_JSON_BYTES for body in bad_json_bodies())


@pytest.mark.parametrize("body", bad_json_bodies(), ids=lambda body: body.name)
def test_each_bad_json_body_is_answered_quickly_within_the_memory_budget(client, cast, body):
    secret = token_for(cast.a.admin)
    url = institution_url(cast.a.institution, body.tail)
    call(client, "get", "/api/v1/me", token=secret)  # warm up: imports, connections, caches

    response, seconds, growth = measured(
        lambda: call(client, body.method, url, token=secret, raw=body.raw)
    )

    assert 400 <= response.status_code < 500, response.content[:300]
    assert seconds < MAX_SECONDS, f"{seconds:.2f} s"
    assert growth < MAX_GROWTH_BYTES, f"{growth / 2**20:.0f} MB"
    assert len(response.content) < 20_000


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return image_bombs()


@pytest.mark.parametrize(
    "name",
    [
        "1 x 39,999,999 grey",
        "6300 x 6300 one-bit",
        "6300 x 6300 16-bit RGBA",
        "5000 x 5000 RGB",
        "24-megapixel JPEG",
    ],
)
def test_each_image_that_decodes_big_is_handled_quickly_within_the_memory_budget(cast, bombs, name):
    data = bombs[name]
    kind = "image/jpeg" if data.startswith(b"\xff\xd8") else "image/png"
    client = client_for(cast.a.author)
    url = f"/api/v1/institutions/{cast.a.institution.slug}/media/"

    response, seconds, growth = measured(
        lambda: client.post(url, {"file": SimpleUploadedFile("p", data, content_type=kind)})
    )

    assert response.status_code in (201, 413), response.content[:300]
    assert seconds < MAX_SECONDS, f"{seconds:.2f} s"
    assert growth < MAX_GROWTH_BYTES, f"{growth / 2**20:.0f} MB"


def test_a_query_string_with_thousands_of_parameters_is_answered_quickly(client, cast):
    secret = token_for(cast.a.admin)
    query = "&".join(f"state=draft{index}" for index in range(900)) + "&author=" + "²" * 2000
    url = institution_url(cast.a.institution, f"posts/?{query}")

    response, seconds, growth = measured(lambda: call(client, "get", url, token=secret))

    assert response.status_code == 400
    assert seconds < MAX_SECONDS and growth < MAX_GROWTH_BYTES
