"""``manage.py measure_texts``: every network's counter on a corpus of raw texts.

Reads JSON Lines ``{"id", "text"}`` on standard input and writes, per text and per network (in
the fixed order of ``ORDER``), one JSON line ``{"id", "network", "length", "valid", "unit", ...}``
with ``bytes`` and ``facets`` (Bluesky), ``links`` (X, Mastodon, Threads) and ``text`` (LinkedIn's
escaped commentary). The counters see the raw text: no permalink, no shortening, mentions as
written. A malformed line gives one ``{"id", "line", "error"}`` line and the run goes on (exit 0).
Needs no database.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand

from crossposting.text import measure

ORDER = ("x", "bluesky", "mastodon", "threads", "linkedin")


def _lines(stream: Any) -> Iterator[tuple[int, str | None]]:
    """Numbered lines split at ``\\n`` only (U+2028 or U+0085 inside a text are not line ends);
    a line that is not UTF-8 comes as None."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        for number, raw in enumerate(buffer, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None
        return
    for number, line in enumerate(stream.read().split("\n"), start=1):
        yield number, line


def _problem(item: Any) -> str:
    """What is wrong with a parsed line, or "" when it is a text to measure."""
    if not isinstance(item, dict):
        return "a line must be a JSON object"
    if "id" not in item:
        return '"id" is missing'
    if not isinstance(item.get("text"), str):
        return '"text" must be a string'
    return ""


class Command(BaseCommand):
    help = "Measure JSON Lines {id, text} from standard input with every network's text counter."
    requires_system_checks: list = []
    stealth_options = ("stdin",)

    def handle(self, *args: Any, **options: Any) -> None:
        stream = options.get("stdin") or sys.stdin
        for number, line in _lines(stream):
            if line is not None and not line.strip():
                continue
            if line is None:
                self._write({"id": None, "line": number, "error": "the line is not UTF-8"})
                continue
            try:
                item = json.loads(line)
            except ValueError as error:
                self._write({"id": None, "line": number, "error": f"not JSON: {error}"})
                continue
            problem = _problem(item)
            if problem:
                item_id = item.get("id") if isinstance(item, dict) else None
                self._write({"id": item_id, "line": number, "error": problem})
                continue
            for network in ORDER:
                self._write({"id": item["id"], **measure(network, item["text"]).as_json()})

    def _write(self, data: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=True))
        self.stdout.flush()
