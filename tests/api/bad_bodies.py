"""Bad request bodies of issue 11, each at its largest allowed size, and images that decode big.

Shared by the regression tests (tests/api/test_bad_input.py), the resource test
(tests/api/test_bounded_resources.py) and the abuse benchmark (bench/abuse.py).
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image

# Just under the JSON body limit, accounts.api.parsers.MAX_JSON_BYTES (a test holds them equal;
# not imported, so that bench/abuse.py can build the bodies without Django's settings).
LARGEST_JSON = 511 * 1024


@dataclass(frozen=True)
class BadBody:
    name: str
    method: str
    tail: str  # the address under /api/v1/institutions/<institution>/
    raw: bytes
    content_type: str = "application/json"


def _fill(prefix: str, item: str, suffix: str, size: int = LARGEST_JSON) -> bytes:
    count = (size - len(prefix) - len(suffix)) // (len(item) + 1)
    return (prefix + ",".join([item] * count) + suffix).encode()


def _unknown_keys(size: int = LARGEST_JSON) -> bytes:
    keys, length, index = [], 2, 0
    while length < size - 40:
        key = f'"k{index}\\ud800\\u0007":1'
        keys.append(key)
        length += len(key) + 1
        index += 1
    return ("{" + ",".join(keys) + "}").encode()


def _deep(size: int = LARGEST_JSON) -> bytes:
    levels = (size - 20) // 2
    return ('{"body": ' + "[" * levels + "]" * levels + "}").encode()


def bad_json_bodies() -> list[BadBody]:
    """Every bad JSON body of issue 11 at (about) the largest size the API reads."""
    return [
        BadBody(
            "empty attachments",
            "post",
            "posts/",
            _fill('{"body": "x", "language": "en", "attachments": [', "{}", "]}"),
        ),
        BadBody(
            "attachments with ids",
            "post",
            "posts/",
            _fill('{"body": "x", "language": "en", "attachments": [', '{"media_id":1}', "]}"),
        ),
        BadBody("deep nesting", "post", "posts/", _deep()),
        BadBody(
            "many scopes",
            "post",
            "tokens/",
            _fill('{"name": "x", "scopes": [', '"read"', "]}"),
        ),
        BadBody(
            "many links",
            "patch",
            "profile",
            _fill('{"links": [', '{"url": "https://example.org"}', "]}"),
        ),
        BadBody("many unknown keys", "patch", "institution", _unknown_keys()),
        BadBody(
            "long surrogate choice",
            "post",
            "posts/",
            ('{"body": "x", "language": "' + "\\ud800" * (LARGEST_JSON // 6 - 10) + '"}').encode(),
        ),
        BadBody(
            "publish far ahead",
            "post",
            "posts/",
            b'{"body": "x", "language": "en", "publish_at": "9999-12-31T23:59:59+14:00"}',
        ),
        BadBody(
            "publish at year one",
            "post",
            "posts/",
            b'{"body": "x", "language": "en", "publish_at": "0001-01-01T00:00:00"}',
        ),
    ]


def _png(width: int, height: int, bit_depth: int, colour_type: int, channels: int) -> bytes:
    """A PNG of zero pixels written row by row, so building it costs little memory."""
    row = b"\0" + b"\0" * ((width * channels * bit_depth + 7) // 8)
    compressor = zlib.compressobj(9)
    chunks = []
    rows_per_step = max(1, 4_000_000 // len(row))
    remaining = height
    while remaining:
        step = min(rows_per_step, remaining)
        chunks.append(compressor.compress(row * step))
        remaining -= step
    chunks.append(compressor.flush())
    idat = b"".join(chunks)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def image_bombs() -> dict[str, bytes]:
    """Small files that decode big (issue 11, item 6), plus a large ordinary photo."""
    photo = io.BytesIO()
    Image.new("RGB", (6000, 4000), (90, 120, 200)).save(photo, "JPEG", quality=60)
    return {
        "1 x 39,999,999 grey": _png(1, 39_999_999, 8, 0, 1),
        "6300 x 6300 one-bit": _png(6300, 6300, 1, 0, 1),
        "6300 x 6300 16-bit RGBA": _png(6300, 6300, 16, 6, 4),
        "5000 x 5000 RGB": _png(5000, 5000, 8, 2, 3),
        "24-megapixel JPEG": photo.getvalue(),
    }
