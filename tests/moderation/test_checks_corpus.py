"""Detection quality on the labelled corpus: recall per category and clean posts flagged."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from moderation.checks import RISK_CATEGORIES, CheckContext, run_checks

CORPUS = Path(__file__).parent / "corpus"


def load_corpus() -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(CORPUS.glob("*.jsonl"))
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


def test_recall_per_category_is_at_least_090_and_few_clean_posts_are_flagged(capsys):
    found, total, flagged_clean, misses = Counter(), Counter(), [], []
    posts = load_corpus()
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
        print(f"\n{'category':<20} {'found':>5} {'of':>4} {'recall':>7}")
        for category in RISK_CATEGORIES:
            recall = found[category] / total[category]
            print(f"{category:<20} {found[category]:>5} {total[category]:>4} {recall:>7.2f}")
        print(f"clean posts flagged: {len(flagged_clean)} of {clean}")
        for miss in misses:
            print("missed:", *miss)
        for flagged in flagged_clean:
            print("flagged clean:", *flagged)
    assert all(found[c] / total[c] >= 0.90 for c in RISK_CATEGORIES), misses
    assert len(flagged_clean) <= 0.05 * clean, flagged_clean
