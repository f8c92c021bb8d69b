"""``manage.py measure_texts``: JSON Lines in, one line per text and network out."""

from __future__ import annotations

import io
import json

from django.core.management import call_command


def run(stdin: str) -> list[dict]:
    out = io.StringIO()
    call_command("measure_texts", stdin=io.StringIO(stdin), stdout=out)
    return [json.loads(line) for line in out.getvalue().split("\n") if line]


def test_each_text_gets_one_line_per_network_in_input_order() -> None:
    lines = run('{"id": "a", "text": "Hallo"}\n{"id": 2, "text": "Hi"}\n')
    assert [(line["id"], line["network"]) for line in lines] == [
        (identifier, network)
        for identifier in ("a", 2)
        for network in ("x", "bluesky", "mastodon", "threads", "linkedin")
    ]


def test_output_lines_carry_exactly_each_networks_fields() -> None:
    # 57 code points; the URL is 19, the emoji 4 UTF-8 bytes and 2 UTF-16 units.
    text = "Hi @alice.bsky.social (see https://example.com) #Schule 😀"
    lines = run(json.dumps({"id": 7, "text": text}) + "\n")
    assert lines == [
        {
            "id": 7,
            "network": "x",
            "length": 62,
            "valid": True,
            "unit": "weighted",
            "links": ["https://example.com"],
        },
        {
            "id": 7,
            "network": "bluesky",
            "length": 57,
            "valid": True,
            "unit": "graphemes",
            "bytes": 60,
            "facets": [
                {"type": "mention", "byteStart": 3, "byteEnd": 21, "handle": "alice.bsky.social"},
                {"type": "link", "byteStart": 27, "byteEnd": 46, "uri": "https://example.com"},
                {"type": "tag", "byteStart": 48, "byteEnd": 55, "tag": "Schule"},
            ],
        },
        {
            "id": 7,
            "network": "mastodon",
            "length": 61,
            "valid": True,
            "unit": "graphemes",
            "links": ["https://example.com"],
        },
        {
            "id": 7,
            "network": "threads",
            "length": 60,
            "valid": True,
            "unit": "chars-emoji-utf8",
            "links": ["https://example.com"],
        },
        {
            "id": 7,
            "network": "linkedin",
            "length": 62,
            "valid": True,
            "unit": "utf16-escaped",
            "text": "Hi \\@alice.bsky.social \\(see https://example.com\\) \\#Schule 😀",
        },
    ]


def test_scheme_less_links_get_https_in_bluesky_facets() -> None:
    bluesky = run('{"id": 1, "text": "see example.com/a."}\n')[1]
    assert bluesky["facets"] == [
        {"type": "link", "byteStart": 4, "byteEnd": 17, "uri": "https://example.com/a"}
    ]


def test_malformed_lines_give_an_error_line_and_the_run_goes_on() -> None:
    lines = run('not json\n{"id": 3}\n[1, 2]\n\n{"text": "no id"}\n{"id": 4, "text": "ok"}\n')
    errors = [line for line in lines if "error" in line]
    assert [(line["id"], line["line"]) for line in errors] == [
        (None, 1),
        (3, 2),
        (None, 3),
        (None, 5),
    ]
    assert [line["network"] for line in lines if line.get("id") == 4] == [
        "x",
        "bluesky",
        "mastodon",
        "threads",
        "linkedin",
    ]


def test_line_separators_inside_texts_do_not_split_lines() -> None:
    lines = run('{"id": 1, "text": "a\u2028b\u0085c\\r\\nd"}\n')
    assert len(lines) == 5
    assert lines[1]["length"] == 7  # a, U+2028, b, U+0085, c, CR LF, d
