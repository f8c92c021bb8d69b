"""Run the automated checks over a corpus: JSON Lines in on stdin, one result line out per input.

Input lines: ``{"id", "text", "lang"?, "sector"?}`` (per-line lang and sector override the
options). Output lines, in input order: ``{"id", "flags": [{"category", "start", "end",
"severity", "check"}]}`` with spans in code points of the text as given, or ``{"id", "error"}``
for a line that cannot be checked (the id is null when it cannot be read). Blank lines are
skipped. Needs no database and no institution; the exit status is 0 unless the streams fail.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand

from moderation.checks import CheckContext, run_checks
from moderation.checks.lexicons import LANGUAGES, SECTOR_OF_KIND, sector_for_kind


def _language(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def _sector(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    kind = value.strip().lower().replace("-", "_").replace(" ", "_")
    return sector_for_kind(kind) if kind in SECTOR_OF_KIND else None


class Command(BaseCommand):
    help = "Check texts (JSON Lines on stdin) for risks; writes one JSON line of flags per text."
    requires_system_checks: list[str] = []
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sector", default="company", help="school, clinic, law_firm, company")
        parser.add_argument("--language", "--lang", default="de", help="de or en")

    def handle(self, *args: Any, **options: Any) -> None:
        language = _language(options["language"])
        sector = _sector(options["sector"])
        if language is None or sector is None:
            self.stderr.write("--language must be de or en; --sector a sector or institution kind.")
            sys.exit(2)
        contexts: dict[tuple[str, str], CheckContext] = {}
        write = self.stdout.write
        for line in self._lines(options.get("stdin") or sys.stdin):
            if isinstance(line, UnicodeDecodeError):
                write(json.dumps({"id": None, "error": f"not UTF-8: {line.reason}"}))
                continue
            if not line.strip():
                continue
            result = self._check_line(line, language, sector, contexts)
            write(json.dumps(result, separators=(",", ":")))

    @staticmethod
    def _lines(stream: Any) -> Iterator[str | UnicodeDecodeError]:
        binary = getattr(stream, "buffer", None)
        if binary is None:
            yield from stream
            return
        for raw in binary:
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                yield error

    @staticmethod
    def _check_line(
        line: str, language: str, sector: str, contexts: dict[tuple[str, str], CheckContext]
    ) -> dict[str, Any]:
        try:
            record = json.loads(line)
        except ValueError as error:
            return {"id": None, "error": f"not JSON: {error}"}
        if not isinstance(record, dict):
            return {"id": None, "error": "a line must be a JSON object"}
        identifier = record.get("id")
        text = record.get("text")
        if not isinstance(text, str):
            return {"id": identifier, "error": "text must be a string"}
        if record.get("lang") is not None:
            language = _language(record["lang"]) or language
        if record.get("sector") is not None:
            sector = _sector(record["sector"])
            if sector is None:
                return {"id": identifier, "error": f"unknown sector: {record['sector']!r}"}
        context = contexts.get((language, sector))
        if context is None:
            context = contexts[(language, sector)] = CheckContext(language=language, sector=sector)
        try:
            findings = run_checks(text, context)
        except Exception as error:
            return {"id": identifier, "error": f"check failed: {type(error).__name__}"}
        return {
            "id": identifier,
            "flags": [
                {
                    "category": f.category,
                    "start": f.start,
                    "end": f.end,
                    "severity": f.severity,
                    "check": f.check,
                }
                for f in findings
            ],
        }
