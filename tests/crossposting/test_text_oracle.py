"""The counters against the reference implementations, run as an oracle: twitter-text 3.1.0 and
@atproto/api's RichText in Node (``crossposting/oracle``), on the generated corpus."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from django.core.management import call_command

from crossposting.text import bluesky, measure, x
from crossposting.text.twemoji import TWEMOJI_RE
from tests.crossposting.text_corpus import generate

ROOT = Path(__file__).resolve().parents[2]
ORACLE = ROOT / "crossposting" / "oracle"
CORPUS = Path(generate.__file__).with_name("corpus.jsonl")


def corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").split("\n") if line]


@pytest.fixture(scope="module")
def oracle() -> dict[str, dict]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the twitter-text / @atproto/api oracle cannot run")
    if not (ORACLE / "node_modules" / "twitter-text").is_dir():
        pytest.fail("crossposting/oracle/node_modules is missing: run ./dev test (or npm ci there)")
    result = subprocess.run(
        [node, str(ORACLE / "measure.js")],
        input=CORPUS.read_bytes(),
        capture_output=True,
        check=True,
        timeout=120,
    )
    answers = [json.loads(line) for line in result.stdout.decode("utf-8").split("\n") if line]
    return {answer["id"]: answer for answer in answers}


def test_corpus_file_is_what_the_generator_writes_and_has_at_least_500_texts() -> None:
    texts = [item["text"] for item in corpus()]
    expected = generate.fixed_texts() + generate.edge_texts()
    assert texts[: len(expected)] == expected
    assert len(texts) >= 500


def test_x_weighted_length_validity_and_urls_match_twitter_text(
    oracle: dict[str, dict], capsys: pytest.CaptureFixture
) -> None:
    mismatches = []
    for item in corpus():
        expected = oracle[item["id"]]["x"]
        counted = measure("x", item["text"])
        normalized = unicodedata.normalize("NFC", item["text"])
        urls = [
            {"url": entity["url"], "start": entity["indices"][0], "end": entity["indices"][1]}
            for entity in x.urls(normalized)
        ]
        got = {"length": counted.length, "valid": counted.valid, "urls": urls}
        if got != expected:
            mismatches.append((item["id"], item["text"], got, expected))
    with capsys.disabled():
        print(
            f"\nX: {len(oracle)} texts compared with twitter-text 3.1.0, {len(mismatches)} differ"
        )
    assert mismatches == []


def test_bluesky_graphemes_bytes_and_facets_match_richtext(
    oracle: dict[str, dict], capsys: pytest.CaptureFixture
) -> None:
    mismatches = []
    for item in corpus():
        expected = oracle[item["id"]]["bluesky"]
        counted = measure("bluesky", item["text"])
        got = {"length": counted.length, "bytes": counted.bytes, "facets": list(counted.facets)}
        if got != expected:
            mismatches.append((item["id"], item["text"], got, expected))
    with capsys.disabled():
        print(f"\nBluesky: {len(oracle)} texts compared with RichText, {len(mismatches)} differ")
    assert mismatches == []


def test_corpus_covers_each_limit_from_both_sides(oracle: dict[str, dict]) -> None:
    x_lengths = {answer["x"]["length"] for answer in oracle.values()}
    graphemes = {answer["bluesky"]["length"] for answer in oracle.values()}
    sizes = {answer["bluesky"]["bytes"] for answer in oracle.values()}
    assert {279, 280, 281} <= x_lengths
    assert {299, 300, 301} <= graphemes
    assert {2999, 3000, 3001} <= sizes
    kinds = {
        key
        for answer in oracle.values()
        for facet in answer["bluesky"]["facets"]
        for key in [facet["type"]]
    }
    assert kinds == {"link", "mention", "tag"}


def test_copied_tables_are_those_of_the_installed_oracle_packages(oracle: dict[str, dict]) -> None:
    modules = ORACLE / "node_modules"
    installed_tlds = json.loads((modules / "tlds" / "index.json").read_text(encoding="utf-8"))
    assert bluesky.tlds() == frozenset(installed_tlds)
    source = (modules / "twemoji-parser" / "dist" / "lib" / "regex.js").read_text(encoding="utf-8")
    assert f"exports.default = /{TWEMOJI_RE.pattern}/g;" in source


def test_measure_texts_on_the_corpus_agrees_with_the_oracle(oracle: dict[str, dict]) -> None:
    out = io.StringIO()
    call_command("measure_texts", stdin=io.StringIO(CORPUS.read_text(encoding="utf-8")), stdout=out)
    lines = [json.loads(line) for line in out.getvalue().split("\n") if line]
    assert len(lines) == 5 * len(oracle)
    for line in lines:
        expected = oracle[line["id"]].get(line["network"])
        if line["network"] == "x":
            assert (line["length"], line["valid"]) == (expected["length"], expected["valid"])
            assert line["links"] == [url["url"] for url in expected["urls"]]
        elif line["network"] == "bluesky":
            assert (line["length"], line["bytes"]) == (expected["length"], expected["bytes"])
            assert line["facets"] == expected["facets"]
