"""Each network's counter on cases worked out by hand from its documented rules."""

from __future__ import annotations

import pytest

from crossposting.text import NETWORKS, measure
from crossposting.text.linkedin import escape, unescape

MASTODON_CASES = [
    # (text, length): URLs with a scheme count 23, @user@domain counts as @user, graphemes.
    ("Hello", 5),
    ("https://example.com/" + "a" * 100, 23),
    ("Look https://example.com/very/long/path?x=1 now", 5 + 23 + 4),
    ("example.com/path", 16),  # no scheme: counted in full
    ("@alice@mastodon.social hi", len("@alice hi")),
    ("@alice hi", 9),
    ("mail me: bob@example.com", 24),  # an address is not a mention
    ("@Zoë@example.com", 16),  # a Latin accent after the name: no mention
    ("http://a.de und @x@y.z", 23 + len(" und @x")),
    ("👨‍👩‍👧‍👦 e\u0301", 3),
    ("@alice@mastodon.social@x", 24),  # an @ follows: no mention
    ("@user@sub.instance.example:", len("@user:")),
    ("@alice@b.c://x", 14),  # "://" follows: no mention
    ("@a@" + "b" * 250 + ".de", 2),  # a domain of 253 characters
    ("@a@" + "b" * 251 + ".de", 257),  # over 253: no mention
    ("https://example.com/@alice@mastodon.social", 23),  # the URL wins the overlap
    ("x" * 476 + " https://example.com/" + "q" * 40, 500),
    ("x" * 477 + " https://example.com/" + "q" * 40, 501),
]


@pytest.mark.parametrize(("text", "length"), MASTODON_CASES)
def test_mastodon_counts_urls_as_23_and_remote_mentions_as_the_username(
    text: str, length: int
) -> None:
    counted = measure("mastodon", text)
    assert counted.length == length
    assert counted.valid == (length <= 500)


def test_mastodon_limit_is_the_instances_own() -> None:
    assert not measure("mastodon", "a" * 600).valid
    assert measure("mastodon", "a" * 600, limit=1000).valid


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Hi http://test.co", 26),
        ("http://test.co", 23),
        ("H🐱☺👨‍👩‍👧‍👦", 7),
        ("😷👾😡🔥💩", 10),
        ("🙋🏽👨‍🎤", 4),
        ("1⃣", 2),
        ("中" * 160, 320),
        ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),
    ],
)
def test_x_weighs_twitter_texts_conformance_vectors(text: str, length: int) -> None:
    assert measure("x", text).length == length


def test_x_validity_follows_the_280_limit_and_invalid_characters() -> None:
    assert measure("x", "a" * 280).valid
    assert not measure("x", "a" * 281).valid
    assert not measure("x", "").valid
    assert not measure("x", "a\ufffe").valid


def test_bluesky_facets_carry_utf8_byte_offsets_as_in_the_docs_example() -> None:
    text = "✨ example mentioning @atproto.com to share the URL 👨‍❤️‍👨 https://en.wikipedia.org/wiki/CBOR."
    counted = measure("bluesky", text)
    assert list(counted.facets) == [
        {"type": "mention", "byteStart": 23, "byteEnd": 35, "handle": "atproto.com"},
        {
            "type": "link",
            "byteStart": 74,
            "byteEnd": 108,
            "uri": "https://en.wikipedia.org/wiki/CBOR",
        },
    ]


def test_bluesky_needs_both_300_graphemes_and_3000_bytes() -> None:
    assert measure("bluesky", "a" * 300).valid
    assert not measure("bluesky", "a" * 301).valid
    assert not measure("bluesky", "👨‍👩‍👧‍👦" * 200).valid  # 200 graphemes, 5,000 bytes
    assert measure("bluesky", "ä" * 300).bytes == 600


@pytest.mark.parametrize(
    ("text", "length"), [("😀", 4), ("👍🏽", 8), ("👨‍👩‍👧‍👦", 25), ("Straße", 6), ("a😀b", 6)]
)
def test_threads_counts_emoji_by_their_utf8_bytes(text: str, length: int) -> None:
    assert measure("threads", text).length == length


def test_threads_allows_at_most_five_distinct_links() -> None:
    five = " ".join(f"https://example.com/{n}" for n in range(5))
    assert measure("threads", five).valid
    assert measure("threads", five + " https://example.com/0").valid  # a repeat is no new link
    assert not measure("threads", five + " example.org").valid


def test_linkedin_escapes_every_reserved_character_and_counts_the_escaped_text() -> None:
    counted = measure("linkedin", "Hi @all (see #news) a_b*c~d <e> [f] {g} h|i \\")
    assert (
        counted.text
        == "Hi \\@all \\(see \\#news\\) a\\_b\\*c\\~d \\<e\\> \\[f\\] \\{g\\} h\\|i \\\\"
    )
    assert counted.length == len(counted.text)
    assert unescape(counted.text) == "Hi @all (see #news) a_b*c~d <e> [f] {g} h|i \\"
    assert measure("linkedin", "(" * 1500).length == 3000
    assert not measure("linkedin", "(" * 1501).valid
    assert measure("linkedin", "😀").length == 2  # UTF-16 code units
    assert escape("https://example.org/a_(b)") == "https://example.org/a\\_\\(b\\)"


def test_every_network_measures_the_empty_text() -> None:
    for network in NETWORKS:
        assert measure(network, "").length == 0
