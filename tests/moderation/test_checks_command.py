"""``manage.py check_texts``: JSON Lines in, one line of flags out per input, no database."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def run(lines: list[str], *args: str) -> list[dict]:
    stdout = io.StringIO()
    call_command("check_texts", *args, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout)
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_check_texts_writes_one_line_of_flags_per_input_in_order():
    text = "Herr Maier ist an Krebs erkrankt. Tel. 030 1234567"
    results = run(
        [
            json.dumps({"id": "a", "text": text, "lang": "de", "sector": "clinic"}),
            json.dumps({"id": 2, "text": "Sports day is on Friday."}),
            json.dumps({"id": "c", "text": "Our patient Mrs. Jones has cancer.", "lang": "en"}),
        ],
        "--sector",
        "school",
        "--language",
        "de",
    )
    assert results == [
        {
            "id": "a",
            "flags": [
                {"category": "health_data", "start": 0, "end": 32, "severity": "warning",
                 "check": "risk.health_data"},
                {"category": "phone", "start": 39, "end": 50, "severity": "warning",
                 "check": "personal_data.phone"},
            ],
        },
        {"id": 2, "flags": []},
        {
            "id": "c",
            "flags": [
                {"category": "health_data", "start": 12, "end": 33, "severity": "warning",
                 "check": "risk.health_data"},
            ],
        },
    ]  # fmt: skip


def test_check_texts_spans_count_code_points_of_the_text_as_given():
    text = "😀 Mu\u0308ller\u00ad: bit.ly/a\u00adbc"
    (result,) = run([json.dumps({"id": 1, "text": text})], "--sector", "school")
    (flag,) = result["flags"]
    assert text[flag["start"] : flag["end"]] == "bit.ly/a\u00adbc"


def test_check_texts_reports_malformed_lines_and_carries_on():
    results = run(
        [
            "not json",
            "[1, 2]",
            json.dumps({"id": 7, "text": None}),
            json.dumps({"id": 8, "text": "x", "sector": "bakery"}),
            "",
            json.dumps(
                {"id": 9, "text": "IBAN DE89 3704 0044 0532 0130 00", "sector": "public_office"}
            ),
        ]
    )
    assert [r.get("id") for r in results] == [None, None, 7, 8, 9]
    assert all("error" in r for r in results[:4])
    assert results[4]["flags"][0]["category"] == "iban"


def test_check_texts_runs_without_a_database_from_the_shell():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE")}
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none"  # unreachable: must not be used
    lines = json.dumps({"id": "x", "text": "Mail an tom@example.org"}) + "\n" + "{broken\n"
    process = subprocess.run(
        [sys.executable, "manage.py", "check_texts", "--sector", "company", "--language", "en"],
        input=lines.encode(),
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    first, second = process.stdout.decode().splitlines()
    assert json.loads(first)["flags"][0]["category"] == "email"
    assert json.loads(second)["id"] is None
