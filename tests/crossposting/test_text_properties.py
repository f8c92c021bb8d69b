"""Properties of the counters and renderers over generated texts (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossposting.text import NETWORKS, RULES, RenderInput, measure, render
from crossposting.text.graphemes import grapheme_boundaries, graphemes
from crossposting.text.linkedin import escape, unescape

PIECES = [
    "Schule",
    "straße",
    "Tür",
    " ",
    " ",
    " ",
    "\n",
    "\n\n",
    ".",
    ",",
    "!",
    "?",
    "(",
    ")",
    "…",
    "—",
    "😀",
    "👨‍👩‍👧‍👦",
    "👍🏽",
    "🇩🇪",
    "1️⃣",
    "e\u0301",
    "中文",
    "日本語",
    "مرحبا",
    "שלום",
    "\u200d",
    "\ufe0f",
    "https://example.com/a",
    "example.org",
    "www.example.de/x?y=1",
    "#Schule",
    "#2026",
    "\uff03tag",
    "$AAPL",
    "@alice.bsky.social",
    "@user@mastodon.social",
    "x.test",
    "\\",
    "_",
    "*",
    "~",
    "<",
    ">",
    "[",
    "]",
    "{",
    "}",
    "|",
    "\u0600",
    "\r\n",
    "\t",
    "\u00a0",
]
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=200).map("".join)
# Bodies for rendering: no "@" (so mention resolution leaves them as written) and no surrogates.
bodies = st.lists(
    st.one_of(
        st.sampled_from([piece for piece in PIECES if "@" not in piece]),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="@"), max_size=8),
    ),
    max_size=250,
).map("".join)
# Some long enough to need shortening or several thread parts on every network.
bodies = st.one_of(bodies, st.builds(lambda body, times: body * times, bodies, st.integers(2, 15)))
PERMALINK = "https://podium.example/northside/posts/tag-der-offenen-tuer/"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def chunk_of(network: str, text: str, number: int, count: int) -> str:
    """The body text a part carries: without permalink, number and LinkedIn escapes."""
    text = unescape(text) if network == "linkedin" else text
    if number == 1 and text.endswith(PERMALINK):
        text = text[: -len(PERMALINK)].removesuffix("\n\n")
    if count > 1:
        text = text.removesuffix(f" {number}/{count}")
    return text.removesuffix("…")


@SETTINGS
@given(body=bodies, mode=st.sampled_from(["shorten", "thread"]))
def test_any_text_renders_within_each_limit_cut_only_between_graphemes(
    body: str, mode: str
) -> None:
    for network in NETWORKS:
        rendering = render(
            network, RenderInput(body=body, language="en", permalink=PERMALINK, mode=mode)
        )
        rules = RULES[network]
        count = len(rendering.parts)
        resolved = body
        boundaries = set(grapheme_boundaries(resolved))
        position = 0
        for number, part in enumerate(rendering.parts, start=1):
            assert rules.fits(part.text, rendering.limit), (network, part.text)
            chunk = chunk_of(network, part.text, number, count)
            if not chunk:
                continue
            start = resolved.find(chunk, position)
            assert start >= 0, (network, chunk)
            assert start in boundaries and start + len(chunk) in boundaries
            position = start + len(chunk)


@SETTINGS
@given(body=bodies, limit=st.integers(min_value=120, max_value=700))
def test_mastodon_renders_within_any_instance_limit(body: str, limit: int) -> None:
    for mode in ("shorten", "thread"):
        rendering = render(
            "mastodon",
            RenderInput(body=body, language="de", permalink=PERMALINK, mode=mode, limit=limit),
        )
        assert all(measure("mastodon", part.text, limit).valid for part in rendering.parts)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_bluesky_facets_point_at_exactly_the_bytes_of_what_they_name(text: str) -> None:
    encoded = text.encode("utf-8", "surrogatepass")
    for facet in measure("bluesky", text).facets:
        named = encoded[facet["byteStart"] : facet["byteEnd"]].decode("utf-8", "surrogatepass")
        if facet["type"] == "link":
            assert facet["uri"] in (named, "https://" + named)
        elif facet["type"] == "mention":
            assert named == "@" + facet["handle"]
        elif facet["tag"].startswith("$"):
            assert named.upper() == facet["tag"]
        else:
            assert named in ("#" + facet["tag"], "\uff03" + facet["tag"])


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_linkedin_escaping_loses_no_text(text: str) -> None:
    assert unescape(escape(text)) == text
    assert unescape(measure("linkedin", text).text) == text


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_every_counter_takes_any_text(text: str) -> None:
    for network in NETWORKS:
        counted = measure(network, text)
        assert counted.length >= 0
    assert measure("bluesky", text).length == len(graphemes(text))
