"""The German catalogue: complete, current with the source, compiled, and used by the pages.

English is the source language; German is the one translation. ``locale/de/LC_MESSAGES/`` holds
``django.po`` and the compiled ``django.mo``; both are committed. After changing a user-facing
string, run (from the repository root):

    .venv/bin/python manage.py makemessages -l de --no-location --ignore=.venv --ignore=bench \
        --ignore=tests --ignore=staticfiles --ignore=var
    (translate the new entries, drop "#, fuzzy")
    .venv/bin/python manage.py compilemessages -l de --ignore=.venv

These tests need GNU gettext (msgfmt, xgettext), which ``./dev test`` installs.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from accounts import services as account_services
from accounts.models import User

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "de" / "LC_MESSAGES"
PO_FILE = CATALOGUE / "django.po"
MO_FILE = CATALOGUE / "django.mo"
# The same command line as in the module docstring: only the project's own sources.
MAKEMESSAGES_IGNORES = [".venv", "bench", "tests", "staticfiles", "var"]
# Not copied when makemessages runs on a copy of the tree: not sources, or large.
NOT_SOURCES = {
    ".git",
    ".venv",
    "var",
    "staticfiles",
    "tests",
    "bench",
    "locale",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".import_linter_cache",
}


# A tiny .po reader (no dependency): enough for the files makemessages writes. ------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+"(.*)"$')


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header (msgid "") excluded."""
    entries: list[Entry] = []
    entry, target = Entry(), None

    def finish() -> None:
        nonlocal entry, target
        if target is not None and entry.msgid != "":
            entries.append(entry)
        entry, target = Entry(), None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
        if not line.strip():
            finish()
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := _KEYWORD.match(line):
            keyword, index, value = match.groups()
            if keyword in ("msgctxt", "msgid") and target is not None and target[0] == "msgstr":
                finish()
            value = _unquote(value)
            if keyword == "msgstr":
                target = ("msgstr", int(index or 0))
                entry.msgstr[target[1]] = value
            else:
                target = (keyword, None)
                setattr(entry, keyword, value)
        elif line.startswith('"') and target is not None:
            value = _unquote(line.strip()[1:-1])
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += value
            else:
                setattr(entry, target[0], getattr(entry, target[0]) + value)
        else:
            raise ValueError(f"{path}: cannot read line {raw!r}")
    finish()
    return entries


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"
    return result


def regenerate(tmp_path: Path, domain: str) -> Path:
    """Run makemessages on a copy of the source tree; the path of the .po it wrote."""
    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT,
        tree,
        symlinks=True,
        ignore=lambda folder, names: [
            name for name in names if name in NOT_SOURCES or name.endswith((".pyc", ".mo"))
        ],
    )
    (tree / "locale").mkdir()
    ignores = [f"--ignore={folder}" for folder in MAKEMESSAGES_IGNORES]
    command = [sys.executable, "manage.py", "makemessages", "-l", "de", "-d", domain]
    # The copy's own settings (its BASE_DIR, so its locale/) must load, never the real tree's.
    run(
        [*command, "--no-location", *ignores],
        cwd=tree,
        PYTHONPATH=str(tree),
        PODIUM_VAR_DIR=str(tmp_path / "var"),
        PODIUM_STATIC_ROOT=str(tmp_path / "static"),
    )
    return tree / "locale" / "de" / "LC_MESSAGES" / f"{domain}.po"


# The catalogue ---------------------------------------------------------------------------------


def test_german_catalogue_has_no_untranslated_fuzzy_or_obsolete_entries():
    entries = read_po(PO_FILE)
    assert len(entries) > 300
    untranslated = [e.msgid for e in entries if not e.obsolete and not all(e.msgstr.values())]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    obsolete = [e.msgid for e in entries if e.obsolete]
    plural_gaps = [e.msgid for e in entries if e.msgid_plural and sorted(e.msgstr) != [0, 1]]
    assert untranslated == []
    assert fuzzy == []
    assert obsolete == []
    assert plural_gaps == []


def test_german_catalogue_passes_msgfmt_checks_of_placeholders_and_plurals():
    # --check: every %(name)s / {name} of the msgid is in the translation, plural forms match
    # the header. msgfmt counts what is left to do on stderr.
    result = run(["msgfmt", "--check", "--statistics", "-o", os.devnull, str(PO_FILE)], ROOT)
    statistics = result.stderr.strip()
    assert re.fullmatch(r"\d+ translated messages?\.", statistics), statistics


def test_german_catalogue_is_current_with_the_source(tmp_path):
    fresh = {e.key for e in read_po(regenerate(tmp_path, "django"))}
    committed = {e.key for e in read_po(PO_FILE) if not e.obsolete}
    missing = sorted(key[1] for key in fresh - committed)
    stale = sorted(key[1] for key in committed - fresh)
    assert missing == [], "strings marked for translation but missing from django.po"
    assert stale == [], "django.po entries no longer in the source (run makemessages)"


def test_javascript_strings_have_a_catalogue_when_there_are_any(tmp_path):
    # Scripts take their texts from data-* attributes that templates translate; if one ever
    # calls gettext() itself, it needs its own committed djangojs catalogue.
    fresh = regenerate(tmp_path, "djangojs")
    found = {e.key for e in read_po(fresh)} if fresh.exists() else set()
    committed_path = CATALOGUE / "djangojs.po"
    committed = {e.key for e in read_po(committed_path)} if committed_path.exists() else set()
    assert sorted(k[1] for k in found - committed) == []


def test_compiled_catalogue_matches_the_po_file(tmp_path):
    compiled = tmp_path / "django.mo"
    run(["msgfmt", "--check-format", "-o", str(compiled), str(PO_FILE)], ROOT)
    with compiled.open("rb") as fresh, MO_FILE.open("rb") as committed:
        # _catalog: every msgid (plural forms as (msgid, n)) with its translation.
        expected = gettext.GNUTranslations(fresh)._catalog
        actual = gettext.GNUTranslations(committed)._catalog
    assert actual == expected, "django.mo is out of date: run compilemessages"


# The pages -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_server_cache(settings):
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0


def test_sign_in_page_is_german_with_lang_de(client):
    page = client.get("/accounts/sign-in/", {"lang": "de"}).content.decode()
    assert '<html lang="de"' in page
    assert "<h1>Anmelden</h1>" in page
    assert "Passwort vergessen?" in page


@pytest.mark.parametrize("how", ["?lang=de", "institution language"])
def test_public_institution_page_is_german(cast, client, how):
    institution = cast.a.institution
    query = {"lang": "de"}
    if how == "institution language":
        account_services.update_institution(institution, locale="de")
        query = {}
    page = client.get(f"/{institution.slug}/", query).content.decode()
    assert '<html lang="de"' in page
    assert "Neueste Beiträge</h2>" in page
    assert "Mitarbeitende</h2>" in page
    assert "Latest posts" not in page


def test_signed_in_pages_follow_the_members_language(cast, client):
    user = cast.a.author.user
    User.objects.filter(pk=user.pk).update(language="de")
    client.force_login(user)
    page = client.get("/accounts/settings/").content.decode()
    assert '<html lang="de"' in page
    assert "Abmelden" in page
    assert "Übersicht" in page
