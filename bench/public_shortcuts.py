"""What each hand-written shortcut of the public read path is worth to a page's throughput.

    .venv/bin/python -m bench.public_shortcuts                 # 5 rounds of 20 requests a side
    .venv/bin/python -m bench.public_shortcuts --rounds 9 --requests 30

Sets up as ``bench.public_read`` does (its database, seeding, production settings, server
cache off), then renders each page a shortcut serves through Django's whole middleware stack in
one process, alternately with the shortcut and with the library call put back in its place:

- dates: ``feeds.public.dates.Dates`` against ``django.utils.dateformat`` (``date`` filter);
- addresses: route templates (``addresses._route``) against ``reverse()`` for each address;
- compiled reads: ``accounts.compiled.compiled_rows`` keeping compiled SQL against building and
  compiling the queryset on every call, as Django does;
- plain text of post HTML: ``text.text_of``'s tag pattern against ``nh3.clean``;
- the Atom writer: ``syndication.atom_document`` against ``library_atom_document``
  (Django's ``Atom1Feed``).

A shortcut earns its place when a page it serves gains at least 10% (``GOAL``): requests per
second with it over requests per second with the library call, median over rounds, each round
measuring both back to back in alternating order. The figures go next to each shortcut in a
comment; the comparison tests (tests/feeds/test_public_shortcuts.py) keep them equal.

Hand-written Atom and RSS writers were measured here too (7 Dec 2026: feed pages +4% to +23%
over two runs, short of the goal) and went back to Django's ``Atom1Feed`` / ``Rss201rev2Feed``;
the Atom writer came back (8 Dec 2026) once the rest of a feed request had become cheaper.

``--only NAME[,NAME]`` measures only those shortcuts (names as in ``SHORTCUTS``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

from bench import public_read

GOAL = 0.10


# Library paths, put in place of each shortcut (run inside Django) ------------------------------


@contextmanager
def _patched(target: object, name: str, value: object) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, original)


@contextmanager
def library_dates() -> Iterator[None]:
    from django.template.defaultfilters import date as date_filter
    from django.utils import dateformat

    from accounts.localtime import local_time_text
    from feeds.public import views as public

    class LibraryDates(public.Dates):
        def machine(self, value: datetime) -> str:
            return dateformat.format(value.astimezone(self.zone), r"Y-m-d\TH:i:sO")

        def text(self, value: datetime) -> str:
            return local_time_text(value, self.zone)

        def day(self, value: datetime) -> str:
            return date_filter(value.astimezone(self.zone))

    with _patched(public, "Dates", LibraryDates):
        yield


@contextmanager
def library_addresses() -> Iterator[None]:
    from django.urls import reverse

    from feeds.public import addresses

    def route(name: str) -> Callable[..., str]:
        return lambda *args: reverse(name, args=args)

    with _patched(addresses, "_route", route):
        yield


class _Forgetful(dict):
    """A cache that keeps nothing: every read builds and compiles its queryset again."""

    def __setitem__(self, key: object, value: object) -> None:
        pass


@contextmanager
def library_reads() -> Iterator[None]:
    from accounts import compiled

    with _patched(compiled, "_compiled", _Forgetful()):
        yield


@contextmanager
def library_text_of() -> Iterator[None]:
    import html

    import nh3

    from feeds.public import syndication, text

    def text_of(body_html: str) -> str:
        return " ".join(html.unescape(nh3.clean(body_html, tags=set())).split())

    # The pages call text.text_of; the feeds their own name of it.
    with _patched(text, "text_of", text_of), _patched(syndication, "text_of", text_of):
        yield


@contextmanager
def library_atom() -> Iterator[None]:
    from feeds.public import syndication

    atom = syndication.FEED_FORMATS["atom"]
    with _patched(syndication, "FEED_FORMATS", {**syndication.FEED_FORMATS}):
        syndication.FEED_FORMATS["atom"] = (syndication.library_atom_document, atom[1])
        yield


# (shortcut, where it lives, library path, pages it serves)
SHORTCUTS = [
    ("dates", "feeds.public.dates.Dates", library_dates, ["institution page", "permalink"]),
    (
        "addresses",
        "feeds.public.addresses._route",
        library_addresses,
        ["institution page", "profile page", "atom feed"],
    ),
    (
        "compiled reads",
        "accounts.compiled.compiled_rows",
        library_reads,
        ["institution page", "profile page", "permalink", "atom feed"],
    ),
    ("plain text", "feeds.public.text.text_of", library_text_of, ["atom feed", "permalink"]),
    ("atom writer", "feeds.public.syndication.atom_document", library_atom, ["atom feed"]),
]


def _pages(seeded: dict) -> dict[str, str]:
    pages = {t.name: t.path for t in public_read.page_targets(seeded)}
    pages["rss feed"] = pages["atom feed"].replace("feed.atom", "feed.rss")
    return pages


def _rate(client, path: str, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        response = client.get(path, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return requests / (time.perf_counter() - started)


def measure(seeded: dict, rounds: int, requests: int, only: str = "") -> list[dict]:
    """Inside Django: requests per second of each page with each shortcut and without it."""
    from django.test import Client

    from accounts.middleware import PublicEntries

    PublicEntries.UNVERSIONED_SECONDS = 3600.0  # a busy worker's institution stays known
    client = Client(headers={"X-Forwarded-Proto": "https"}, HTTP_HOST="localhost")
    pages = _pages(seeded)
    rows = []
    chosen = set(filter(None, only.split(",")))
    for name, where, library, page_names in SHORTCUTS:
        if chosen and name not in chosen:
            continue
        for page in page_names:
            path = pages[page]
            _rate(client, path, 3)  # warm: compiled templates and reads, connection
            with library():
                _rate(client, path, 3)
            fast, slow = [], []
            for round_ in range(rounds):
                order = [False, True] if round_ % 2 == 0 else [True, False]
                for use_library in order:
                    if use_library:
                        with library():
                            slow.append(_rate(client, path, requests))
                    else:
                        fast.append(_rate(client, path, requests))
            gains = [f / s - 1 for f, s in zip(fast, slow, strict=True)]
            row = {
                "shortcut": name,
                "where": where,
                "page": page,
                "shortcut_rps": median(fast),
                "library_rps": median(slow),
                "gain": median(gains),
                "gains": gains,
            }
            rows.append(row)
            print(
                f"  {name:15} {page:17} {row['shortcut_rps']:7.1f} req/s vs library "
                f"{row['library_rps']:7.1f} req/s: {row['gain']:+6.1%}",
                file=sys.stderr,
                flush=True,
            )
    return rows


def verdicts(rows: list[dict]) -> dict[str, tuple[float, str]]:
    """{shortcut: (its best page gain, KEEP or LIBRARY)}."""
    best: dict[str, float] = {}
    for row in rows:
        best[row["shortcut"]] = max(best.get(row["shortcut"], -1.0), row["gain"])
    return {name: (gain, "KEEP" if gain >= GOAL else "LIBRARY") for name, gain in best.items()}


def inner_main(argv: list[str]) -> int:
    import django

    django.setup()
    seeded, rounds, requests = json.loads(argv[0]), int(argv[1]), int(argv[2])
    print(json.dumps(measure(seeded, rounds, requests, argv[3] if len(argv) > 3 else "")))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["inner"]:
        return inner_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.public_shortcuts", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20, help="requests per side and round")
    parser.add_argument("--only", default="", help="shortcut names, comma-separated")
    args, rest = parser.parse_known_args(argv)
    options = public_read.parse_options(rest, dict(os.environ))
    temp = Path(tempfile.mkdtemp(prefix="podium-shortcuts-"))
    started = datetime.now(UTC)
    try:
        seeded = public_read.set_up(options, temp)
        env = public_read.django_env(options, temp, server_cache=False)
        command = [
            sys.executable,
            "-m",
            "bench.public_shortcuts",
            "inner",
            json.dumps(seeded),
            str(args.rounds),
            str(args.requests),
            args.only,
        ]
        print(
            f"Pages with each shortcut and with the library call, {args.rounds} rounds of "
            f"{args.requests} requests a side (in-process, server cache off):",
            flush=True,
        )
        finished = subprocess.run(
            command, env=env, cwd=public_read.REPO, stdout=subprocess.PIPE, text=True, check=False
        )
        if finished.returncode != 0:
            print("public_shortcuts: the measurement failed (output above)", file=sys.stderr)
            return 2
        rows = json.loads(finished.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    print(f"\nshortcut        best page gain  verdict (goal: at least {GOAL:.0%})")
    for name, (gain, verdict) in verdicts(rows).items():
        print(f"{name:15} {gain:+14.1%}  {verdict}")
    options.results_dir.mkdir(parents=True, exist_ok=True)
    path = options.results_dir / f"public_shortcuts-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"started": started.isoformat(), "rows": rows}, indent=2))
    print(f"Results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
