"""The public read path's hand-written shortcuts give what the library gives.

- Dates: ``feeds.public.dates.Dates`` against Django's ``date`` filter and
  ``django.utils.dateformat``, in English and German, in every time zone
  (``zoneinfo.available_timezones()``).
- Addresses: ``feeds.public.addresses.PublicAddresses`` (routes filled in as templates) against
  ``reverse()`` for every public route.
- Atom: the hand-written ``syndication.atom_document`` against ``library_atom_document``
  (Django's ``Atom1Feed``), byte for byte, over 1,200 generated posts (unicode, right-to-left
  text, emoji, characters XML forbids, long texts, images, corrections and retractions) in
  feeds of institutions in varied time zones; a feed the library refuses (a character XML 1.0
  cannot carry) is refused too. RSS is Django's ``Rss201rev2Feed``. Both feeds are checked
  well-formed, complete, and refused as a whole when such a character is in them.

Generation is seeded (``random.Random``): a failure names its seed and shows its input.
"""

from __future__ import annotations

import dataclasses
import random
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from django.template.defaultfilters import date as date_filter
from django.urls import URLPattern, get_resolver, reverse
from django.utils import dateformat, translation
from django.utils.xmlutils import UnserializableContentError

from accounts.localtime import local_time_text
from accounts.models import Institution
from feeds.public import addresses, syndication
from feeds.public.dates import Dates
from feeds.public.queries import FeedPost, PublicAuthor, PublicImage, PublicProfile
from feeds.rendering import Entities, render_body

SEED = 20261207
POSTS = 1200
PER_FEED = 40

# Pieces of text the generator combines: scripts, directions, emoji, markup-like text,
# characters XML 1.0 cannot carry (\x00-\x08, \x0b, \x0c, \x0e-\x1f) and ones it can.
PIECES = [
    "Sports day is on Friday.",
    "Grüße aus Köln: Straße, Maß, Äpfel & Öl.",
    "مرحبا بالعالم، هذا نص من اليمين إلى اليسار",
    "שלום עולם",
    "\u202eRTL override\u202c and \u200fmarks\u200e",
    "日本語のテキスト、中文文本、한국어",
    "Emoji 👩🏽‍🏫🎉🇩🇪 and ZWJ 👨‍👩‍👧",
    "<script>alert('x')</script> & \"quotes\" 'apostrophes' > < ]]>",
    "#news #Schule #2026 #café",
    "see https://example.org/a?b=c&d=e#f and https://例え.jp/パス",
    "@someone and mail@example.org",
    "tab\tand\nnew line\r\nend",
    "control \x01\x02\x08 bell \x07",
    "vertical \x0b form \x0c escape \x1b",
    "a" * 3000,
    "word " * 400,
    "**bold** _em_ `code` > quote",
    "",
]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 4)))


def _institution(rng: random.Random, zones: list[str], number: int) -> Institution:
    return Institution(
        id=number,
        slug=f"school-{number}",
        name=rng.choice(["Northside School", "Schule am Rhein & Söhne", "مدرسة", "A <b>"]),
        locale=rng.choice(["en", "de"]),
        timezone=zones[number % len(zones)],
        description=_text(rng)[:200] or "About us",
        created_at=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=number),
    )


def _posts(rng: random.Random, count: int, start: int) -> list[FeedPost]:
    posts = []
    when = datetime(2026, 12, 7, 12, tzinfo=UTC)
    for number in range(start, start + count):
        when -= timedelta(minutes=rng.randint(1, 60 * 24 * 40), seconds=rng.randint(0, 59))
        corrected = when + timedelta(hours=rng.randint(1, 500)) if rng.random() < 0.3 else None
        retracted = when + timedelta(days=rng.randint(1, 30)) if rng.random() < 0.1 else None
        body = _text(rng)
        body_html = render_body(body, rng.choice(["text", "markdown"]), Entities({}))
        images = tuple(
            PublicImage(
                f"posts/2026/12/{rng.choice(['a', 'ü', 'b c'])}{number}-{i}.png",
                f"posts/2026/12/small-{number}-{i}.png" if rng.random() < 0.5 else "",
                rng.randint(1, 4000),
                rng.randint(1, 4000),
                rng.choice(["image/png", "image/jpeg", "image/webp"]),
                rng.randint(0, 9_000_000),
                _text(rng)[:300],
            )
            for i in range(rng.choice([0, 0, 1, 2, 4]))
        )
        posts.append(
            FeedPost(
                id=number,
                tag_id=rng.choice([f"tag:example.org,2026-01-01:post/{number}", ""]),
                published_at=when,
                corrected_at=corrected,
                retracted_at=retracted,
                retraction_reason=_text(rng)[:500] if retracted else "",
                body_html="" if retracted else body_html,
                language="" if retracted else rng.choice(["en", "de", "ar", "he", "ja"]),
                earlier_number=rng.randint(1, 5) if corrected else None,
                author=PublicAuthor(
                    rng.randint(1, 5),
                    rng.choice(["m.meier", "ada_l", "x-1", "z9"]),
                    rng.choice(["Ada Lovelace", "Jürgen Müller", "محمد", "O'Brien & <Co>", ""]),
                    rng.choice(["", "avatars/a.png", "avatars/ü b.png"]),
                ),
                images=() if retracted else images,
            )
        )
    return posts


def _member(rng: random.Random) -> PublicProfile | None:
    if rng.random() < 0.5:
        return None
    return PublicProfile(
        rng.randint(1, 5),
        rng.choice(["m.meier", "ada_l"]),
        rng.choice(["Ada Lovelace", "Jürgen Müller", "محمد"]),
        rng.choice(["", "Teacher", "Lehrerin & Rektorin"]),
        "",
        rng.choice(["", "avatars/a.png"]),
        [],
        "active",
    )


def _feeds():
    """(label, head, items) of generated feeds covering POSTS posts; one empty feed too."""
    rng = random.Random(SEED)
    zones = sorted(zoneinfo.available_timezones())
    rng.shuffle(zones)
    number = 0
    for start in range(0, POSTS, PER_FEED):
        number += 1
        institution = _institution(rng, zones, number)
        member = _member(rng)
        with translation.override(institution.locale):
            items = syndication._items(institution, _posts(rng, PER_FEED, start + 1))
            for fmt in ("atom", "rss"):
                yield f"feed {number} ({fmt})", syndication._head(institution, member, fmt), items
    institution = _institution(rng, zones, number + 1)
    yield "empty feed", syndication._head(institution, None, "atom"), []


@pytest.fixture
def generated_feeds(settings):
    settings.PODIUM_BASE_URL = "https://podium.example"
    settings.PODIUM_TAG_AUTHORITY = "podium.example"
    return list(_feeds())


def test_generated_feeds_cover_what_the_record_can_hold(generated_feeds):
    items = [item for _label, _head, feed_items in generated_feeds for item in feed_items]
    assert len(items) // 2 >= 1000  # every post is in an Atom and an RSS feed
    assert any(item.retracted_at for item in items)
    assert any(item.content.startswith("<p><em>") for item in items)  # corrections
    assert any(len(item.enclosures) > 1 for item in items)
    assert any("\u202e" in item.content for item in items)
    assert any("👩🏽‍🏫" in item.content for item in items)


_XML_FORBIDDEN_RE = re.compile(r"[\x00-\x08\x0B-\x0C\x0E-\x1F]")


@pytest.mark.parametrize(
    "write",
    [syndication.atom_document, syndication.library_atom_document, syndication.rss_document],
)
def test_generated_feeds_are_well_formed_and_complete_or_refused(generated_feeds, write):
    refused = 0
    for label, head, items in generated_feeds:
        forbidden = any(
            _XML_FORBIDDEN_RE.search(value)
            for value in [head.title, head.description]
            + [text for item in items for text in (item.title, item.content, item.summary)]
        )
        try:
            document = write(head, items)
        except UnserializableContentError:
            assert forbidden, label
            refused += 1
            continue
        root = ElementTree.fromstring(document.encode())  # noqa: S314 (our own feed)
        entries = root.findall("{http://www.w3.org/2005/Atom}entry") or root.findall("channel/item")
        assert len(entries) == len(items), label
        clean = [_without_control_characters(item) for item in items]
        document = write(_without_control_characters(head), clean)
        ElementTree.fromstring(document.encode())  # noqa: S314 (our own feed)
    assert refused, "no generated feed carried a forbidden character"


def _outcome(write, head, items) -> tuple[str, str]:
    try:
        return "document", write(head, items)
    except UnserializableContentError:
        return "refused", ""


def test_hand_written_atom_is_byte_for_byte_what_django_writes(generated_feeds):
    refused = 0
    for label, head, items in generated_feeds:
        fast = _outcome(syndication.atom_document, head, items)
        library = _outcome(syndication.library_atom_document, head, items)
        # A feed with a character XML 1.0 cannot carry is refused by both, as Django refuses it.
        assert fast == library, label
        refused += fast[0] == "refused"
        # Without the forbidden characters the same feed is written, and equal.
        head = _without_control_characters(head)
        clean = [_without_control_characters(item) for item in items]
        fast = syndication.atom_document(head, clean)
        assert fast.encode() == syndication.library_atom_document(head, clean).encode(), label
    assert refused, "no generated feed carried a forbidden character"


def test_hand_written_atom_quotes_attributes_as_django_does(generated_feeds):
    """Values that need quoting (quotes of both kinds, tabs, new lines, IRIs) in every
    attribute the writer fills in."""
    label, head, items = next(feed for feed in generated_feeds if feed[2])
    odd = ['a"b', "a'b", "a\"b'c", "tab\there", "line\nbreak\r", "<&>", "ü ß", ""]
    item = items[0]
    for value in odd:
        changed = dataclasses.replace(
            item,
            link=f"https://podium.example/{value}",
            author_link=f"https://podium.example/@{value}",
            guid=value,
            language=value,
            categories=[value, "plain"],
            enclosures=[(f"https://podium.example/m/{value}.png", value or "0", value, "t")],
            retracted_at=item.published,
        )
        for feed_head in (head, dataclasses.replace(head, language=value, link=f"/{value}")):
            fast = _outcome(syndication.atom_document, feed_head, [changed])
            assert fast == _outcome(syndication.library_atom_document, feed_head, [changed]), (
                label,
                value,
            )


def _strip(text: str) -> str:
    return _XML_FORBIDDEN_RE.sub("", text)


def _without_control_characters(item):
    """The item (or head) with every character XML 1.0 forbids taken out."""
    changes = {name: _strip(value) for name, value in vars(item).items() if isinstance(value, str)}
    if isinstance(item, syndication._Item):
        changes["categories"] = [_strip(term) for term in item.categories]
        changes["enclosures"] = [(u, n, k, _strip(t)) for u, n, k, t in item.enclosures]
    return dataclasses.replace(item, **changes)


# Dates -------------------------------------------------------------------------------------

MACHINE_FORMAT = r"Y-m-d\TH:i:sO"


def _instants(rng: random.Random) -> list[datetime]:
    """Moments around the year, including both sides of common DST changes and midnight."""
    fixed = [
        datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 59, 59, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 8, 7, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2000, 2, 29, 12, 0, 0, tzinfo=UTC),
    ]
    start = datetime(1990, 1, 1, tzinfo=UTC)
    return fixed + [start + timedelta(seconds=rng.randint(0, 60 * 365 * 86400)) for _ in range(6)]


@pytest.mark.parametrize("language", ["en", "de"])
def test_dates_are_what_djangos_date_filter_writes_in_every_time_zone(language):
    rng = random.Random(SEED)
    instants = _instants(rng)
    with translation.override(language):
        for name in sorted(zoneinfo.available_timezones()):
            zone = zoneinfo.ZoneInfo(name)
            dates = Dates(zone)
            for value in instants:
                local = value.astimezone(zone)
                assert dates.text(value) == local_time_text(value, zone, language), (name, value)
                assert dates.day(value) == date_filter(local), (name, value)
                expected = dateformat.format(local, MACHINE_FORMAT)
                if not dateformat.format(local, "O"):
                    # The one deliberate difference: in the hour a clock change repeats, Django
                    # leaves out the offset (the local time alone is ambiguous); the datetime
                    # of <time> keeps it, so the moment stays exact.
                    expected = local.strftime("%Y-%m-%dT%H:%M:%S%z")
                assert dates.machine(value) == expected, (name, value)


# Addresses ---------------------------------------------------------------------------------


def _public_routes() -> set[str]:
    """Names of the routes of public views (``tenant_access = "public"``) in the URLconf."""
    names = set()
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None) != "feeds":
            continue
        for inner in pattern.url_patterns:
            public = getattr(getattr(inner, "callback", None), "tenant_access", "") == "public"
            if isinstance(inner, URLPattern) and inner.name and public:
                names.add(f"feeds:{inner.name}")
    return names


def test_every_public_route_is_built_from_its_template():
    # robots.txt is asked for by crawlers at its fixed address; no page links to it.
    public = _public_routes() - {"feeds:robots"}
    assert "feeds:profile" in public and "feeds:post-image" in public
    assert public <= set(addresses._STAND_INS), public - set(addresses._STAND_INS)


def test_addresses_are_what_reverse_gives_for_every_public_route():
    rng = random.Random(SEED)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    for _ in range(500):
        slug = "".join(rng.choice(alphabet + "-") for _ in range(rng.randint(0, 48)))
        slug = rng.choice(alphabet) + slug.strip("-") + rng.choice(alphabet)
        handle = rng.choice(alphabet) + "".join(
            rng.choice(alphabet + "_.-") for _ in range(rng.randint(0, 28))
        )
        handle += rng.choice(alphabet)
        post_id = rng.choice([1, rng.randint(1, 2**63 - 1), 987654321987654321])
        fmt = rng.choice(["atom", "rss", "json"])
        name = f"posts/2026/12/{rng.choice(['a', 'b'])}{rng.randint(0, 99)}.png"
        query = rng.choice(["", "lang=de", "lang=en"])
        built = addresses.PublicAddresses(slug, query)
        suffix = "?" + query if query else ""
        assert built.landing == reverse("feeds:landing") + suffix
        assert built.institution == reverse("feeds:institution", args=[slug]) + suffix
        assert built.staff == reverse("feeds:staff", args=[slug]) + suffix
        assert built.sitemap == reverse("feeds:sitemap", args=[slug])
        assert built.profile(handle) == reverse("feeds:profile", args=[slug, handle]) + suffix
        assert built.post(post_id) == reverse("feeds:post", args=[slug, post_id]) + suffix
        assert built.feed(fmt) == reverse("feeds:institution-feed", args=[slug, fmt])
        assert built.profile_feed(handle, fmt) == reverse(
            "feeds:profile-feed", args=[slug, handle, fmt]
        )
        assert built.image(name) == reverse("feeds:post-image", args=[slug, name])
