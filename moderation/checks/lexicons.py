"""Loading the lexicon files (``moderation/lexicons/``) and compiling their terms into patterns."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from moderation.checks.text import PreparedText

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicons"
SECTORS = ("school", "clinic", "law_firm", "company")
LANGUAGES = ("de", "en")
# Institution.Kind -> the sector whose lexicons apply.
SECTOR_OF_KIND = {
    "school": "school",
    "university": "school",
    "clinic": "clinic",
    "law_firm": "law_firm",
    "company": "company",
    "public_office": "company",
    "other": "company",
}


def sector_for_kind(kind: str) -> str:
    """The lexicon sector for an ``Institution.Kind`` value (unknown kinds count as company)."""
    return SECTOR_OF_KIND.get(kind, "company")


@lru_cache(maxsize=32)
def load_lexicon(sector: str, language: str) -> dict:
    """One lexicon file as stored: ``<sector>/<language>.json`` (or ``common/<language>.json``)."""
    if sector not in (*SECTORS, "common") or language not in LANGUAGES:
        raise ValueError(f"No lexicon for sector {sector!r} and language {language!r}.")
    with (LEXICON_DIR / sector / f"{language}.json").open(encoding="utf-8") as file:
        return json.load(file)


def starting_terms(sector: str, language: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The starting (blocked, flagged) terms of an institution of this sector and language."""
    lexicon = load_lexicon(sector, language)
    return tuple(lexicon.get("blocked_terms", ())), tuple(lexicon.get("flagged_terms", ()))


@lru_cache(maxsize=256)
def vocabulary(sector: str, category: str, key: str) -> tuple[str, ...]:
    """The words of one list of a category: common ones and the sector's, in both languages.

    Both languages count because posts mix them (an English diagnosis in a German post).
    """
    words: list[str] = []
    sources = ["common"] + ([sector] if sector in SECTORS else [])
    for source in sources:
        for language in LANGUAGES:
            categories = load_lexicon(source, language).get("categories", {})
            words.extend(categories.get(category, {}).get(key, ()))
    return tuple(dict.fromkeys(words))


@lru_cache(maxsize=1)
def famous_names() -> frozenset[str]:
    """Names of famous people and characters ("Anne Frank", "Tom Gates"): never a pupil."""
    with (LEXICON_DIR / "common" / "names.json").open(encoding="utf-8") as file:
        return frozenset(fold(name) for name in json.load(file).get("famous", ()))


@lru_cache(maxsize=1)
def given_names() -> tuple[frozenset[str], frozenset[str]]:
    """(all given names, the ambiguous ones that are also common words), as folded words."""
    with (LEXICON_DIR / "common" / "names.json").open(encoding="utf-8") as file:
        data = json.load(file)
    names = frozenset(fold(name) for name in (*data["de"], *data["en"], *data["ambiguous"]))
    return names, frozenset(fold(name) for name in data["ambiguous"])


def fold(term: str) -> str:
    """A term in the folded form the checks match on."""
    return " ".join(PreparedText(term).folded.split())


_INFLECTION = r"(?:s|es|e|en|n|er|ern|ns)?"


def _tokens(term: str) -> tuple[str, ...]:
    """A term as regular-expression pieces, one per character of its folded form."""
    folded = fold(term)
    pieces = []
    for index, char in enumerate(folded):
        if char == "*" and 0 < index < len(folded) - 1:
            # Inside a term a wildcard is bounded: an admin's "*a*b*" must not make matching
            # a long word take polynomial time.
            pieces.append(r"\w{0,30}")
        elif char == "*":
            pieces.append(r"\w*")
        elif char == " ":
            pieces.append(r"\s+")
        elif char == "-":
            pieces.append(r"[-\s]?")
        else:
            pieces.append(re.escape(char))
    if not folded.endswith("*") and len(folded) >= 5 and folded[-1].isalpha():
        pieces.append(_INFLECTION)  # "Burnouts", "Diagnosen", "lawsuits"
    return tuple(pieces)


def term_source(term: str) -> str:
    """The regular expression of one lexicon term (see lexicons/README.md for the syntax)."""
    return "".join(_tokens(term))


def _trie_source(terms: list[tuple[str, ...]]) -> str:
    """The terms as one alternation shaped like a prefix tree: a word start then costs one
    step per character instead of one attempt per term (lexicons have hundreds of terms).

    Measured on the corpus: 34 µs instead of 157 µs per text for the health conditions (a flat
    alternation of the same terms); tests/moderation/test_checks_properties.py compares the
    result with a leftmost-longest match of each term on its own over generated texts.
    """
    tree: dict = {}
    for pieces in terms:
        node = tree
        for piece in pieces:
            node = node.setdefault(piece, {})
        node[""] = {}

    def emit(node: dict) -> tuple[str, int]:
        """The node's pattern and the length of its longest term (longest branches first,
        so that, as in a flat alternation sorted by length, "internal only" beats "internal")."""
        branches = []
        for piece, child in node.items():
            if piece:
                source, depth = emit(child)
                branches.append((depth + 1, piece + source))
        if not branches:
            return "", 0
        branches.sort(key=lambda branch: -branch[0])
        body = "|".join(source for _, source in branches)
        if "" in node:  # a term may also end here
            return f"(?:{body})?", branches[0][0]
        return (body if len(branches) == 1 else f"(?:{body})"), branches[0][0]

    return emit(tree)[0]


@lru_cache(maxsize=512)
def _compile(terms: tuple[str, ...]) -> re.Pattern | None:
    pieces = sorted({_tokens(t) for t in terms if fold(t).strip("* ")})
    if not pieces:
        return None
    return re.compile(r"(?<!\w)(?:" + _trie_source(pieces) + r")(?!\w)")


def compile_terms(terms: Iterable[str]) -> re.Pattern | None:
    """One pattern matching any of the terms (whole words) on folded text, or None if none."""
    return _compile(tuple(terms))


@lru_cache(maxsize=256)
def lexicon_pattern(sector: str, category: str, key: str) -> re.Pattern | None:
    """The compiled pattern of one lexicon list (``vocabulary`` of the sector), cached."""
    return compile_terms(vocabulary(sector, category, key))
