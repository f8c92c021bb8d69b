"""Detection quality on the labelled corpus: recall per category and clean posts flagged.

Measured per set: the sector files (written alongside the rules) and each blind set
(``blind_*.jsonl``, written before being run through the checks), so that a set the rules
were not tuned on cannot hide behind the larger one.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from moderation.checks import RISK_CATEGORIES, CheckContext, run_checks

CORPUS = Path(__file__).parent / "corpus"
BLIND_SETS = sorted(CORPUS.glob("blind_*.jsonl"))
CORPUS_SETS = {
    "sector files": sorted(set(CORPUS.glob("*.jsonl")) - set(BLIND_SETS)),
    **{path.stem: [path] for path in BLIND_SETS},
}


def load_corpus(paths: list[Path] | None = None) -> list[dict]:
    return [
        json.loads(line)
        for path in (sorted(CORPUS.glob("*.jsonl")) if paths is None else paths)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_corpus_is_large_and_varied_enough():
    posts = load_corpus()
    clean = [p for p in posts if not p["expect"]]
    assert len(posts) >= 160
    assert len(clean) >= 50
    assert {p["sector"] for p in posts} == {"school", "clinic", "law_firm", "company"}
    assert {(p["sector"], p["lang"]) for p in clean} >= {
        (s, lang) for s in ("school", "clinic", "law_firm", "company") for lang in ("de", "en")
    }
    assert {e["category"] for p in posts for e in p["expect"]} == set(RISK_CATEGORIES)
    for post in posts:
        for expected in post["expect"]:
            assert 0 <= expected["start"] < expected["end"] <= len(post["text"]), post["id"]


@pytest.mark.parametrize("corpus_set", list(CORPUS_SETS))
def test_recall_per_category_is_at_least_090_and_few_clean_posts_are_flagged(corpus_set, capsys):
    found, total, flagged_clean, misses = Counter(), Counter(), [], []
    posts = load_corpus(CORPUS_SETS[corpus_set])
    for post in posts:
        context = CheckContext(language=post["lang"], sector=post["sector"])
        findings = run_checks(post["text"], context)
        risks = [f for f in findings if f.category in RISK_CATEGORIES and f.severity != "info"]
        if not post["expect"]:
            if risks:
                flagged_clean.append((post["id"], [(f.category, f.matched) for f in risks]))
            continue
        for expected in post["expect"]:
            category = expected["category"]
            total[category] += 1
            if any(
                f.category == category and f.start < expected["end"] and expected["start"] < f.end
                for f in findings
            ):
                found[category] += 1
            else:
                misses.append((post["id"], category))
    clean = sum(1 for p in posts if not p["expect"])
    with capsys.disabled():  # the table shows in every run, not only on failure
        print(f"\n{corpus_set}: {len(posts)} posts")
        print(f"{'category':<20} {'found':>5} {'of':>4} {'recall':>7}")
        for category in RISK_CATEGORIES:
            if not total[category]:
                continue
            recall = found[category] / total[category]
            print(f"{category:<20} {found[category]:>5} {total[category]:>4} {recall:>7.2f}")
        print(f"clean posts flagged: {len(flagged_clean)} of {clean}")
        for miss in misses:
            print("missed:", *miss)
        for flagged in flagged_clean:
            print("flagged clean:", *flagged)
    assert all(found[c] >= 0.90 * total[c] for c in RISK_CATEGORIES), misses
    assert len(flagged_clean) <= 0.05 * clean, flagged_clean
