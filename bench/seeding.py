"""Seed one institution with staff and a long public history, fast, for the public read benchmark.

The institution and its members go through the account services, as an operator would create
them. Posts and revisions are bulk-inserted inside the institution's tenant context (row-level
security applies, as for the application), with ``body_html`` rendered by
``feeds.rendering.render_body`` and ``content_hash`` computed by ``feeds.services.content_hash``,
exactly as the services store them. The history spreads over the last few years; some posts carry
hashtags, mentions of colleagues and links, a few were corrected and a few retracted.

The benchmark runs ``python -m bench.public_read seed`` with its database settings, which calls
``seed_or_reuse``: an institution that already exists at the requested scale is reused; one at
another scale is an error (``--reseed`` starts from an empty database).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from accounts import services as accounts
from accounts.models import Institution, Membership, Role, User
from accounts.tenancy import tenant_context
from feeds.models import BodyFormat, Post, PostState, Revision
from feeds.rendering import Entities, render_body
from feeds.services import PostContent, content_hash, profile_url

DEFAULT_SLUG = "bench-academy"
DEFAULT_NAME = "Bench Academy"
REVIEWER_SHARE = 20  # one reviewer per this many staff (at least one)
CORRECTED_EVERY = 100  # every n-th post was corrected once
RETRACTED_EVERY = 200  # every n-th post (offset) was retracted
TEXT_POOL = 5000  # distinct texts the posts are drawn from

FIRST_NAMES = [
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Ibrahim", "Jonas",
    "Karin", "Lukas", "Mia", "Noah", "Olga", "Paul", "Quentin", "Rosa", "Samir", "Tilda",
    "Uwe", "Vera", "Wim", "Xenia", "Yusuf", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Becker", "Okafor", "Schulz", "Meier", "Novak", "Rossi", "Yilmaz", "Jensen", "Kowalski",
    "Dubois", "Fischer", "Haddad", "Lindqvist", "Moreau", "Nakamura", "Petrov", "Santos",
]  # fmt: skip
JOB_TITLES = [
    "Biology teacher", "Music teacher", "Head of year 9", "School nurse", "Librarian",
    "Sports coach", "Maths teacher", "Careers adviser", "Art teacher", "Deputy head",
]  # fmt: skip
SENTENCES_EN = [
    "Year 9 found fourteen species in the school pond this morning.",
    "The winter concert starts at six in the main hall; entry is free.",
    "Parents' evening is on Thursday from five to eight.",
    "Our robotics team reached the regional final for the second year running.",
    "The library stays open until seven during the exam weeks.",
    "Thank you to everyone who donated to the food bank collection.",
    "Sports day moves to Monday because of the weather forecast.",
    "Applications for the exchange programme close at the end of the month.",
    "Year 12 presented their research projects to a full room today.",
    "The new science labs open after the half-term break.",
    "Please remember to label lost property; the box is overflowing again.",
    "Our choir will sing at the town hall on Saturday morning.",
    "The chess club meets on Wednesdays at lunchtime in room 14.",
    "We are looking for volunteers to help with the summer fair.",
    "Congratulations to the under-14 football team on their cup win.",
    "The school photographer visits on Tuesday; bring your best smile.",
    "Flu vaccinations for years 7 to 9 take place next week.",
    "A reminder that the bus timetable changes from Monday.",
]  # fmt: skip
SENTENCES_DE = [
    "Das Winterkonzert beginnt um 18 Uhr in der Aula, der Eintritt ist frei.",
    "Die Bibliothek hat in den Prüfungswochen bis 19 Uhr geöffnet.",
    "Unsere Robotik-AG steht wieder im Regionalfinale.",
    "Der Elternabend findet am Donnerstag von 17 bis 20 Uhr statt.",
    "Vielen Dank an alle, die für die Tafel gespendet haben.",
    "Das Sportfest wird wegen des Wetters auf Montag verschoben.",
    "Die neuen Fachräume für Chemie öffnen nach den Ferien.",
    "Wir suchen Freiwillige für das Sommerfest.",
]  # fmt: skip
HASHTAGS = [
    "#SportsDay", "#PondDipping", "#Winterkonzert", "#Robotics", "#Library", "#ScienceFair",
    "#Choir", "#ParentsEvening", "#Exams", "#Volunteers", "#Football", "#Art",
]  # fmt: skip
LINKS = [
    "https://bench-academy.example/events",
    "https://bench-academy.example/news/robotics-final",
    "https://example.org/library/opening-hours",
    "https://example.org/pond-survey?year=9",
    "https://bench-academy.example/downloads/timetable.pdf",
]


class ScaleMismatch(RuntimeError):
    """The institution exists, seeded at another scale."""


@dataclass(frozen=True)
class SeedResult:
    """What the benchmark needs to know about a seeded institution."""

    institution_id: int
    slug: str
    name: str
    staff: int
    posts: int
    public_posts: int
    # The profile with the most public posts, and a post in the middle of the history.
    profile_handle: str
    permalink_post_id: int
    seconds: float = 0.0


def _staff_profiles(count: int, rng: random.Random) -> list[dict]:
    profiles = []
    reviewers = max(1, count // REVIEWER_SHARE)
    for index in range(count):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index // len(FIRST_NAMES) + index) % len(LAST_NAMES)]
        if index == 0:
            role = Role.ADMIN
        elif index <= reviewers:
            role = Role.REVIEWER
        else:
            role = Role.AUTHOR
        handle = f"{first[0]}.{last}{index:03d}".lower()
        profiles.append(
            {
                "role": role,
                "handle": handle,
                "display_name": f"{first} {last}",
                "job_title": JOB_TITLES[index % len(JOB_TITLES)],
                "bio": f"{JOB_TITLES[index % len(JOB_TITLES)]} at Bench Academy since "
                f"{2005 + rng.randrange(18)}. Posts about school life, events and results.",
                "links": [{"label": "Mastodon", "url": f"https://social.example/@{handle}"}],
            }
        )
    return profiles


def _body(rng: random.Random, handles: list[str]) -> tuple[str, str, str]:
    """A post text, its language and format: plain or small Markdown, some entities."""
    german = rng.random() < 0.15
    sentences = SENTENCES_DE if german else SENTENCES_EN
    parts = rng.sample(sentences, rng.randint(1, 4))
    if rng.random() < 0.3:
        parts.append(f"Details: {rng.choice(LINKS)}")
    if rng.random() < 0.15:
        parts.append(f"Thanks to @{rng.choice(handles)} for organising.")
    if rng.random() < 0.4:
        parts.append(" ".join(rng.sample(HASHTAGS, rng.randint(1, 3))))
    if rng.random() < 0.2:
        body = f"**{parts[0]}**\n\n" + "\n".join(f"- {part}" for part in parts[1:])
        return body.strip(), "de" if german else "en", BodyFormat.MARKDOWN
    return "\n".join(parts), "de" if german else "en", BodyFormat.TEXT


def _publication_times(count: int, years: float, now: datetime, rng: random.Random):
    span = timedelta(days=365 * years).total_seconds()
    offsets = sorted((rng.random() * span for _ in range(count)), reverse=True)
    # Oldest first, so that ids grow with time as they would in a real history.
    return [now - timedelta(seconds=offset + 3600) for offset in offsets]


class _Renderer:
    """body_html and content_hash as the services compute them, once per distinct text."""

    def __init__(self, entities: Entities) -> None:
        self.entities = entities
        self.done: dict[PostContent, tuple[str, str]] = {}

    def __call__(self, content: PostContent) -> tuple[str, str]:
        if content not in self.done:
            html = render_body(content.body, content.body_format, self.entities)
            self.done[content] = (html, content_hash(content, {}))
        return self.done[content]


def _revision(
    post: Post,
    number: int,
    content: PostContent,
    rendered: tuple[str, str],
    reviewer: Membership,
    when: datetime,
) -> Revision:
    """A revision written by the post's author, approved by ``reviewer``, public at ``when``."""
    body_html, digest = rendered
    return Revision(
        institution_id=post.institution_id,
        post=post,
        number=number,
        body=content.body,
        body_format=content.body_format,
        language=content.language,
        body_html=body_html,
        content_hash=digest,
        created_by=post.author,
        created_at=when - timedelta(hours=1),
        submitted_at=when - timedelta(minutes=50),
        approved_at=when - timedelta(minutes=5),
        approved_by=reviewer,
        published_at=when,
    )


def _reviewer_for(post: Post, reviewers: list[Membership]) -> Membership:
    """A reviewer other than the author (nobody approves their own post)."""
    first = post.id % len(reviewers)
    for reviewer in reviewers[first:] + reviewers[:first]:
        if reviewer.id != post.author_id:
            return reviewer
    raise ValueError("seeding needs at least two reviewers or a reviewer who does not write")


@transaction.atomic
def seed_institution(
    *,
    slug: str = DEFAULT_SLUG,
    name: str = DEFAULT_NAME,
    staff: int = 200,
    posts: int = 100_000,
    years: float = 3.0,
    seed: int = 1,
    batch_size: int = 2000,
    corrected_every: int = CORRECTED_EVERY,
    retracted_every: int = RETRACTED_EVERY,
    progress: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Create an institution with ``staff`` members and ``posts`` published posts."""
    started = time.monotonic()
    rng = random.Random(seed)
    now = timezone.now()
    institution = accounts.create_institution(
        slug=slug,
        name=name,
        kind=Institution.Kind.SCHOOL,
        locale="en",
        timezone="Europe/Berlin",
        description="A comprehensive school of 1,400 students, seeded for the benchmark.",
        contact_email=f"office@{slug}.example",
        website=f"https://{slug}.example",
    )
    profiles = _staff_profiles(staff, rng)
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(email=f"{p['handle']}@{slug}.example", name=p["display_name"], password=unusable)
        for p in profiles
    )
    members = [
        accounts.add_member(institution, user, **profile)
        for user, profile in zip(users, profiles, strict=True)
    ]
    reviewers = [m for m in members if m.role in (Role.ADMIN, Role.REVIEWER)]
    # A few prolific authors and a long tail, as on a real staff page.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(members))]
    handles = [m.handle for m in members]
    render = _Renderer(Entities({handle: profile_url(institution, handle) for handle in handles}))
    # Rendering is most of the seeding time: draw the texts from a pool of distinct ones.
    texts = [PostContent(*_body(rng, handles)) for _ in range(min(posts, TEXT_POOL))]
    times = _publication_times(posts, years, now, rng)

    with tenant_context(institution.id):
        for start in range(0, posts, batch_size):
            batch_times = times[start : start + batch_size]
            authors = rng.choices(members, weights=weights, k=len(batch_times))
            rows = []
            for offset, (when, author) in enumerate(zip(batch_times, authors, strict=True)):
                number = start + offset
                retracted = number % retracted_every == retracted_every // 2
                corrected = number % corrected_every == corrected_every - 1
                post = Post(
                    institution=institution,
                    author=author,
                    state=PostState.RETRACTED if retracted else PostState.PUBLISHED,
                    published_at=when,
                    created_at=when - timedelta(hours=1),
                    updated_at=when,
                )
                if corrected:
                    post.corrected_at = when + timedelta(hours=2)
                if retracted:
                    post.retracted_at = when + timedelta(days=1)
                    post.retracted_by = reviewers[number % len(reviewers)]
                    post.retraction_reason = "Published with a wrong date; see the newer post."
                rows.append(post)
            Post.objects.bulk_create(rows, batch_size=batch_size)
            revisions = []
            for post in rows:
                reviewer = _reviewer_for(post, reviewers)
                content = rng.choice(texts)
                revisions.append(
                    _revision(post, 1, content, render(content), reviewer, post.published_at)
                )
                if post.corrected_at is not None:
                    correction = replace(
                        content, body=content.body + "\n\nCorrection: the date is now fixed."
                    )
                    revisions.append(
                        _revision(
                            post, 2, correction, render(correction), reviewer, post.corrected_at
                        )
                    )
            Revision.objects.bulk_create(revisions, batch_size=batch_size)
            if progress:
                progress(min(start + batch_size, posts), posts)
        newest = Revision.objects.filter(post=OuterRef("pk")).order_by("-number").values("id")[:1]
        Post.objects.update(latest_revision=Subquery(newest), public_revision=Subquery(newest))
    result = describe(slug)
    return SeedResult(**{**asdict(result), "seconds": round(time.monotonic() - started, 1)})


def describe(slug: str) -> SeedResult:
    """Counts of a seeded institution, its most prolific profile and a mid-history permalink."""
    institution = Institution.objects.get(slug=slug)
    with tenant_context(institution.id):
        public = Post.objects.filter(published_at__isnull=False, retracted_at__isnull=True)
        top = (
            public.values("author__handle")
            .annotate(count=Count("id"))
            .order_by("-count", "author__handle")
            .first()
        )
        plain = public.filter(corrected_at__isnull=True).order_by("id").values_list("id", flat=True)
        public_count = public.count()
        middle = plain[public_count // 2 : public_count // 2 + 1].first() if public_count else None
        return SeedResult(
            institution_id=institution.id,
            slug=slug,
            name=institution.name,
            staff=Membership.objects.count(),
            posts=Post.objects.count(),
            public_posts=public_count,
            profile_handle=top["author__handle"] if top else "",
            permalink_post_id=middle or 0,
        )


def seed_or_reuse(
    *, slug: str, staff: int, posts: int, progress: Callable[[int, int], None] | None = None
) -> SeedResult:
    """Seed the institution, or reuse it when it already exists at this scale."""
    if Institution.objects.filter(slug=slug).exists():
        existing = describe(slug)
        if (existing.staff, existing.posts) != (staff, posts):
            raise ScaleMismatch(
                f"{slug} exists with {existing.staff} staff and {existing.posts} posts, not "
                f"{staff} and {posts}: run the benchmark with --reseed"
            )
        return existing
    return seed_institution(slug=slug, staff=staff, posts=posts, progress=progress)
