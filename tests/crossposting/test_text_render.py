"""The renderers: permalink, shortening, threads, images, mentions, and what each network adds."""

from __future__ import annotations

import pytest

from crossposting.text import (
    NETWORKS,
    RULES,
    Image,
    RenderError,
    RenderInput,
    measure,
    measure_part,
    render,
)
from crossposting.text.linkedin import unescape

PERMALINK = "https://podium.example/northside/posts/tag-der-offenen-tuer/"
LONG = (
    "Heute lädt die Schule zum Tag der offenen Tür ein, mit Musik, Theater und Experimenten. " * 40
)


def data(body: str = "Hallo Welt", **changes) -> RenderInput:
    return RenderInput(body=body, language="de", permalink=PERMALINK, **changes)


def plain(network: str, text: str) -> str:
    return unescape(text) if network == "linkedin" else text


@pytest.mark.parametrize("network", NETWORKS)
def test_a_short_post_is_one_part_with_the_permalink_after_the_text(network: str) -> None:
    rendering = render(network, data())
    assert [plain(network, part.text) for part in rendering.parts] == [f"Hallo Welt\n\n{PERMALINK}"]
    assert rendering.limit == RULES[network].default_limit


@pytest.mark.parametrize("network", NETWORKS)
def test_a_long_post_is_shortened_with_an_ellipsis_and_keeps_the_permalink(network: str) -> None:
    rendering = render(network, data(LONG))
    (part,) = rendering.parts
    text = plain(network, part.text)
    head, permalink = text.split("\n\n")
    assert permalink == PERMALINK
    assert head.endswith("…")
    assert LONG.startswith(head[:-1])
    assert measure(network, text).valid


@pytest.mark.parametrize("network", ["mastodon", "bluesky", "x", "threads"])
def test_thread_mode_numbers_parts_within_limits_and_puts_the_permalink_first(network: str) -> None:
    rendering = render(network, data(LONG, mode="thread"))
    count = len(rendering.parts)
    assert count > 1
    for number, part in enumerate(rendering.parts, start=1):
        assert measure(network, part.text).valid
        first_line = part.text.split("\n\n")[0]
        assert first_line.endswith(f" {number}/{count}")
        assert (PERMALINK in part.text) == (number == 1)
    joined = " ".join(part.text.split("\n\n")[0].rsplit(" ", 1)[0] for part in rendering.parts)
    assert " ".join(joined.split()) == " ".join(LONG.split())


def test_linkedin_has_no_threads_so_thread_mode_shortens() -> None:
    assert len(render("linkedin", data(LONG, mode="thread")).parts) == 1


def test_mastodon_uses_the_instances_limit() -> None:
    assert measure("mastodon", render("mastodon", data(LONG)).parts[0].text).length <= 500
    rendering = render("mastodon", data(LONG, limit=5000))
    assert rendering.limit == 5000
    assert rendering.parts[0].text == f"{LONG.strip()}\n\n{PERMALINK}"


def test_mentions_become_network_handles_or_plain_text() -> None:
    mentions = {
        "anna": {"mastodon": "@anna@bildung.social", "bluesky": "anna.bsky.social", "x": "anna_x"}
    }
    body = "Danke @anna und @bob!"
    expected = {
        "mastodon": "Danke @anna@bildung.social und bob!",
        "bluesky": "Danke @anna.bsky.social und bob!",
        "x": "Danke @anna_x und bob!",
        "threads": "Danke anna und bob!",
        "linkedin": "Danke anna und bob!",
    }
    for network in NETWORKS:
        text = render(network, data(body, mentions=mentions)).parts[0].text
        assert plain(network, text).split("\n\n")[0] == expected[network]


def test_bluesky_parts_carry_facets_and_a_link_card_built_from_the_permalink() -> None:
    rendering = render(
        "bluesky",
        data("Neu: #Schule mit @anna", mentions={"anna": {"bluesky": "anna.bsky.social"}}),
    )
    part = rendering.parts[0]
    features = [facet["features"][0] for facet in part.facets]
    assert features == [
        {"$type": "app.bsky.richtext.facet#tag", "tag": "Schule"},
        {"$type": "app.bsky.richtext.facet#mention", "handle": "anna.bsky.social"},
        {"$type": "app.bsky.richtext.facet#link", "uri": PERMALINK},
    ]
    assert part.extra["embed"]["$type"] == "app.bsky.embed.external"
    assert part.extra["embed"]["external"]["uri"] == PERMALINK
    assert part.extra["langs"] == ["de"]


def test_images_carry_alt_text_cut_to_each_networks_limits() -> None:
    images = tuple(Image(f"image-{n}.jpg", "Ein Foto vom Schulhof. " * 200) for n in range(6))
    for network in NETWORKS:
        rules = RULES[network]
        part = render(network, data(images=images)).parts[0]
        assert len(part.images) == min(6, rules.max_images)
        assert all(image.alt_text.endswith("…") for image in part.images)
    bluesky = render("bluesky", data(images=images)).parts[0]
    assert bluesky.extra["embed"]["$type"] == "app.bsky.embed.images"
    assert len(bluesky.extra["embed"]["images"]) == 4


def test_in_thread_mode_images_beyond_the_first_parts_count_go_to_the_next_parts() -> None:
    images = tuple(Image(f"image-{n}.jpg", f"Bild {n}") for n in range(6))
    parts = render("x", data(LONG, mode="thread", images=images)).parts
    assert [len(part.images) for part in parts[:2]] == [4, 2]


def test_the_content_hash_changes_with_what_is_sent_and_only_with_that() -> None:
    first = render("x", data())
    assert first.content_hash() == render("x", data()).content_hash()
    assert first.content_hash() != render("x", data("Hallo Welt!")).content_hash()
    assert first.content_hash() != render("mastodon", data()).content_hash()
    assert len(first.content_hash()) == 64


def test_a_permalink_longer_than_the_limit_cannot_be_rendered() -> None:
    with pytest.raises(RenderError):
        render(
            "bluesky",
            RenderInput(
                body="Hallo", language="de", permalink="https://podium.example/" + "a" * 400
            ),
        )


def test_shortening_never_leaves_half_a_url() -> None:
    body = "a" * 200 + " https://example.com/" + "x" * 100
    head = render("bluesky", data(body)).parts[0].text.split("\n\n")[0]
    assert head == "a" * 200 + "…"


def test_threads_posts_keep_to_five_distinct_links() -> None:
    body = " ".join(f"https://example.com/{n}" for n in range(8))
    for mode in ("shorten", "thread"):
        for part in render("threads", data(body, mode=mode)).parts:
            counted = measure("threads", part.text)
            assert counted.valid
            assert len(set(counted.links)) <= 5


@pytest.mark.parametrize("network", NETWORKS)
def test_measure_part_gives_the_length_of_a_rendered_part_as_sent(network: str) -> None:
    rendering = render(network, data("Klammern (und #Tags) " * 60))
    for part in rendering.parts:
        counted = measure_part(network, part.text, rendering.limit)
        assert counted.valid
        assert counted.length <= rendering.limit
    linkedin = render("linkedin", data("(a)"))
    assert measure_part("linkedin", linkedin.parts[0].text).length == len(linkedin.parts[0].text)


@pytest.mark.parametrize("network", NETWORKS)
def test_alt_text_is_cut_between_graphemes_within_the_limit(network: str) -> None:
    alt = "Familie 👨‍👩‍👧‍👦 am Schultor. " * 400
    (image,) = render(network, data(images=(Image("a.jpg", alt),))).parts[0].images
    assert len(image.alt_text.encode("utf-16-le")) // 2 <= RULES[network].alt_text_limit
    assert image.alt_text.endswith("…")
    assert alt.startswith(image.alt_text[:-1])
    assert "\u200d…" not in image.alt_text


def test_handles_typed_in_a_networks_own_form_stay_as_written() -> None:
    body = "Mit @alice.bsky.social, @lehrer@bildung.social und @carla"
    text = render("mastodon", data(body)).parts[0].text.split("\n\n")[0]
    assert text == "Mit @alice.bsky.social, @lehrer@bildung.social und carla"
