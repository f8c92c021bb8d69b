"""Property tests of the checks: spans always point into the text as given; nothing raises."""

from __future__ import annotations

import re
import time
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.checks import CheckContext, run_checks

CONTEXTS = st.builds(
    CheckContext,
    language=st.sampled_from(["de", "en"]),
    sector=st.sampled_from(["school", "clinic", "law_firm", "company"]),
    blocked_terms=st.lists(st.text(min_size=1, max_size=8), max_size=2).map(tuple),
    flagged_terms=st.just(("krebs*", "\ufb01nal")),
    allowed_domains=st.just(("schule.de",)),
    own_contacts=st.just(("030 1234567",)),
)
RISKY = [
    ("Herr Müller ist an Brustkrebs erkrankt.", "health_data"),
    ("Lena Schäfer aus der 3b hat gewonnen.", "minor_identified"),
    ("Unsere Mandantin Frau Jäger hat ihre Kündigungsschutzklage gewonnen.", "client_matter"),
    ("Vertraulich: Die Übernahme der Müller AG ist noch nicht öffentlich.", "insider_financial"),
    ("Schreiben Sie an jörg.weiß@schüle.de", "email"),
    ("Rufen Sie 0171 1234567 an.", "phone"),
    ("IBAN DE89 3704 0044 0532 0130 00", "iban"),
    ("Sie ist am 3. März 2016 geboren.", "date_of_birth"),
    ("Wir sind in der Schloßstraße 12.", "street_address"),
    ("Link: bit.ly/abcdef", "url_shortener"),
]
# Text made of the pieces the checks look for, so that generated texts do produce findings.
PIECES = st.sampled_from(
    [
        "Herr ", "Frau ", "Lena ", "Müller ", "3b ", "(8) ", "Krebs", "erkrankt ", "ist an ",
        "@", "[at]", ".de ", "030 1234567 ", "+49 ", "DE89 3704 0044 0532 0130 00 ", "geb. ",
        "3. Mai 2015 ", "Hauptstraße 12 ", "bit.ly/x ", "b\u0456t.ly/y ", "\u00ad", "\u0308",
        "\ufb01", "\u00a0", "\uff20", ". ", "\n", "Mandant ", "Klage ", "vertraulich ", "Umsatz ",
        "ß", "\ud800", "\U0001f600", "İ", "ǅ", "schule.de/", "https://",
    ]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=40).map("".join),
)


def soften(text: str, step: int) -> str:
    """Insert a soft hyphen inside every word every ``step`` letters."""
    out = []
    for index, char in enumerate(text):
        out.append(char)
        if char.isalpha() and index % step == step - 1:
            out.append("\u00ad")
    return "".join(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, context=CONTEXTS)
def test_spans_always_lie_in_the_text_and_match_what_was_found(text, context):
    for finding in run_checks(text, context):
        assert 0 <= finding.start <= finding.end <= len(text)
        assert text[finding.start : finding.end] == finding.matched
        assert finding.severity in {"block", "warning", "info"}


@settings(max_examples=150, deadline=None)
@given(
    index=st.integers(0, len(RISKY) - 1),
    step=st.integers(2, 7),
    nfd=st.booleans(),
    prefix=st.sampled_from(["", "Hallo! ", "\u00a0", "Übrigens: "]),
)
def test_soft_hyphens_and_nfd_do_not_hide_a_risk(index, step, nfd, prefix):
    text, category = RISKY[index]
    text = prefix + soften(text, step)
    if nfd:
        text = unicodedata.normalize("NFD", text)
    findings = [
        f for f in run_checks(text, CheckContext(language="de", sector="school"))
        if f.category == category
    ]  # fmt: skip
    assert findings, text
    for finding in findings:
        assert text[finding.start : finding.end] == finding.matched


@settings(max_examples=10, deadline=None)
@given(seed=st.text(min_size=1, max_size=50))
def test_huge_texts_are_checked_in_bounded_time(seed):
    text = (seed + " Herr Maier 030 1234567 Lena aus der 3b bit.ly/x ") * 400
    text = text[:20_000]
    started = time.perf_counter()
    for finding in run_checks(text, CheckContext(language="de", sector="clinic")):
        assert text[finding.start : finding.end] == finding.matched
    assert time.perf_counter() - started < 5


def test_pathological_texts_do_not_raise():
    context = CheckContext(
        language="en",
        sector="company",
        blocked_terms=("*a*a*a*a*", "**", " ", "a* *a", "(?:x)+"),
        flagged_terms=("*" * 50, "x" * 200),
    )
    for text in [
        "",
        "\ud800\udc00\udfff",
        "a" * 20_000,
        "1 " * 10_000,
        "0" * 20_000,
        "(" * 10_000 + "@" * 10_000,
        "Herr " * 4_000,
        "DE89 " * 4_000,
        "\u0308" * 20_000,
        "\u00ad" * 20_000,
        "x@" * 10_000,
        ". " * 10_000,
    ]:
        started = time.perf_counter()
        run_checks(text, context)
        assert time.perf_counter() - started < 5, text[:20]


LEXICON_LISTS = [
    (sector, category, key)
    for sector in ("school", "clinic", "law_firm", "company")
    for category, key in [
        ("health_data", "conditions"),
        ("health_data", "subjects"),
        ("minor_identified", "child_words"),
        ("client_matter", "matters"),
        ("client_matter", "client_words"),
        ("insider_financial", "strong_cues"),
        ("insider_financial", "strong_terms"),
    ]
]


def leftmost_longest(terms: tuple[str, ...], text: str) -> list[tuple[int, int]]:
    """The reference: at each word start, the longest match of any single term."""
    from moderation.checks.lexicons import fold, term_source

    patterns = [
        re.compile(r"(?<!\w)(?:" + term_source(t) + r")(?!\w)")
        for t in terms
        if fold(t).strip("* ")
    ]
    spans, position = [], 0
    while position < len(text):
        ends = [m.end() for p in patterns if (m := p.match(text, position))]
        if ends and max(ends) > position:
            spans.append((position, max(ends)))
            position = max(ends)
        else:
            position += 1
    return spans


@settings(max_examples=200, deadline=None)
@given(data=st.data(), which=st.sampled_from(LEXICON_LISTS))
def test_prefix_tree_patterns_find_the_longest_term_at_each_word(data, which):
    from moderation.checks.lexicons import compile_terms, fold, vocabulary

    terms = vocabulary(*which)
    words = [fold(t).replace("*", "") for t in terms]
    pieces = st.one_of(
        st.sampled_from(words),
        st.sampled_from(["", " ", "-", "s", "en", "brust", "über", ", ", "x"]),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz -", max_size=6),
    )
    text = " ".join(data.draw(st.lists(pieces, max_size=12)))
    tree = compile_terms(terms)
    assert [m.span() for m in tree.finditer(text)] == leftmost_longest(terms, text)
