"""Throughput of the automated checks, in texts per second (moderation issue, "check_texts").

    .venv/bin/python -m bench.check_texts               # run_checks over the labelled corpus
    .venv/bin/python -m bench.check_texts --command     # the whole manage.py check_texts pipe
    .venv/bin/python -m bench.check_texts --quality tests/moderation/corpus/blind_2026-12-07.jsonl

``--quality`` measures detection instead of speed, the way a held-out corpus is measured: each
labelled file is piped through ``manage.py check_texts`` once per sector and language (the
labels stay behind), and the flags that come back give the recall per category (a risk is found
when a flag of its category overlaps its span) and the share of clean posts with any flag of a
risk category. It also checks that every flag's span lies inside the text as given.

The texts are the labelled corpus (tests/moderation/corpus/), repeated to ``--texts``; each one
is checked with its own language and sector, one process, one core. Goal: thousands per second.
On a shared machine the wall-clock figure swings with the load; texts per CPU second do not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "moderation" / "corpus"


def corpus_lines(count: int) -> list[str]:
    rows = [
        line
        for path in sorted(CORPUS.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [rows[i % len(rows)] for i in range(count)]


def bench_library(lines: list[str]) -> tuple[float, float]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podium.settings")
    django.setup()
    from moderation.checks import CheckContext, run_checks

    posts = [json.loads(line) for line in lines]
    run_checks(posts[0]["text"], CheckContext(language="de", sector="school"))  # load lexicons
    started, cpu = time.perf_counter(), time.process_time()
    for post in posts:
        run_checks(post["text"], CheckContext(language=post["lang"], sector=post["sector"]))
    return (
        len(posts) / (time.perf_counter() - started),
        len(posts) / (time.process_time() - cpu),
    )


def bench_command(lines: list[str]) -> tuple[float, float]:
    payload = ("\n".join(lines) + "\n").encode()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "check_texts", "--sector", "school", "--language", "de"],
        input=payload,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return len(lines) / wall, len(lines) / cpu


RISK_CATEGORIES = (
    "minor_identified",
    "health_data",
    "client_matter",
    "insider_financial",
    "email",
    "phone",
    "iban",
    "date_of_birth",
    "street_address",
    "url_shortener",
)


def flags_from_command(posts: list[dict]) -> dict[str, list[dict]]:
    """Pipe the posts through manage.py check_texts, one run per (sector, language)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for post in posts:
        groups.setdefault((post["sector"], post["lang"]), []).append(post)
    flags: dict[str, list[dict]] = {}
    for (sector, language), group in sorted(groups.items()):
        payload = "".join(
            json.dumps({"id": p["id"], "text": p["text"]}, ensure_ascii=False) + "\n" for p in group
        )
        command = ["manage.py", "check_texts", "--sector", sector, "--language", language]
        done = subprocess.run(
            [sys.executable, *command],
            input=payload.encode(),
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        for line in done.stdout.decode().splitlines():
            answer = json.loads(line)
            flags[answer["id"]] = answer["flags"]
    return flags


def measure_quality(paths: list[Path]) -> bool:
    posts = [
        json.loads(line)
        for path in paths
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    flags = flags_from_command(posts)
    found: Counter = Counter()
    total: Counter = Counter()
    misses, flagged_clean, flagged_clean_info, bad_spans = [], [], [], []
    for post in posts:
        text, got = post["text"], flags[post["id"]]
        for flag in got:
            if not 0 <= flag["start"] < flag["end"] <= len(text):
                bad_spans.append((post["id"], flag))
        risks = [f for f in got if f["category"] in RISK_CATEGORIES]
        if not post["expect"]:
            if [f for f in risks if f["severity"] != "info"]:
                flagged_clean.append(post)
            elif risks:
                flagged_clean_info.append(post)
            continue
        for expected in post["expect"]:
            category = expected["category"]
            total[category] += 1
            if any(
                f["category"] == category
                and f["start"] < expected["end"]
                and expected["start"] < f["end"]
                for f in got
            ):
                found[category] += 1
            else:
                misses.append((post, expected))
    clean = sum(1 for p in posts if not p["expect"])
    print(f"{len(posts)} posts ({len(posts) - clean} with risks, {clean} clean)")
    print(f"{'category':<20} {'found':>5} {'of':>4} {'recall':>7}")
    for category in RISK_CATEGORIES:
        if total[category]:
            recall = found[category] / total[category]
            print(f"{category:<20} {found[category]:>5} {total[category]:>4} {recall:>7.2f}")
    share = len(flagged_clean) / clean if clean else 0.0
    print(f"clean posts flagged: {len(flagged_clean)} of {clean} ({share:.1%})", end="")
    print(f", {len(flagged_clean_info)} more with an info flag only")
    print(f"flags with a span outside the text: {len(bad_spans)}")
    for post, expected in misses:
        span = post["text"][expected["start"] : expected["end"]]
        print(f"missed {expected['category']}: {post['id']}: {span!r}")
    for post in flagged_clean + flagged_clean_info:
        shown = [
            (f["category"], post["text"][f["start"] : f["end"]], f["severity"])
            for f in flags[post["id"]]
            if f["category"] in RISK_CATEGORIES
        ]
        print(f"flagged clean: {post['id']}: {shown}")
    return (
        not bad_spans
        and all(found[c] >= 0.9 * total[c] for c in total)
        and len(flagged_clean) <= 0.05 * clean
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--command", action="store_true", help="time manage.py check_texts")
    parser.add_argument(
        "--quality",
        nargs="+",
        type=Path,
        metavar="JSONL",
        help="measure recall and clean posts flagged on these labelled files instead",
    )
    options = parser.parse_args()
    if options.quality:
        sys.exit(0 if measure_quality(options.quality) else 1)
    lines = corpus_lines(options.texts)
    mean_length = sum(len(json.loads(line)["text"]) for line in lines) / len(lines)
    wall, cpu = bench_command(lines) if options.command else bench_library(lines)
    what = "manage.py check_texts (incl. start-up)" if options.command else "run_checks"
    print(
        f"{what}: {wall:,.0f} texts/s wall clock, {cpu:,.0f} texts per CPU second "
        f"({len(lines)} texts, {mean_length:.0f} chars on average)"
    )


if __name__ == "__main__":
    main()
