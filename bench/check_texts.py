"""Throughput of the automated checks, in texts per second (moderation issue, "check_texts").

    .venv/bin/python -m bench.check_texts               # run_checks over the labelled corpus
    .venv/bin/python -m bench.check_texts --command     # the whole manage.py check_texts pipe

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--command", action="store_true", help="time manage.py check_texts")
    options = parser.parse_args()
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
