"""The review queue benchmark (moderation issue, "How it is checked").

    .venv/bin/python -m bench.queue                       # 10,000 posts in review, SQLite
    .venv/bin/python -m bench.queue --posts 2000 --requests 100
    DATABASE_URL=postgres://... DATABASE_OWNER_URL=postgres://... .venv/bin/python -m bench.queue

Seeds one institution with a reviewer and ``--posts`` posts in review (every tenth flagged) in a
fresh database, then requests the queue page signed in as the reviewer and the trivial view of
``bench.urls`` (the reference), in the same process through the whole middleware stack, and
prints requests per second of each and their ratio (goal: at least 0.25). In-process, so the
ratio measures Django's own work for the page; bench/public_read.py measures through gunicorn.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 0.25


def _options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.queue", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per target")
    parser.add_argument("--rounds", type=int, default=3, help="median over this many rounds")
    return parser.parse_args(argv)


def _setup(temp: Path) -> None:
    os.environ["PODIUM_VAR_DIR"] = str(temp)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{temp / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    owner = os.environ.get("DATABASE_OWNER_URL")
    # Migrate in its own process, connected as the owner throughout; then grant the application
    # role what accounts.database_roles grants after a migration.
    environment = dict(os.environ)
    if owner:
        environment["DATABASE_URL"] = owner
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        check=True,
    )
    import django

    django.setup()
    if owner:
        from accounts.database_roles import grant_application_role

        grant_application_role(None, using="owner")


def _seed(posts: int):
    from django.utils import timezone

    from accounts.models import Institution, Membership, Role, User
    from accounts.tenancy import tenant_context
    from feeds.models import Post, PostState, Revision
    from moderation.models import Flag

    institution, _created = Institution.objects.get_or_create(
        slug="bench-queue", defaults={"name": "Bench Queue School", "kind": "school"}
    )
    with tenant_context(institution.id):
        people = []
        for index, role in enumerate((Role.REVIEWER, Role.AUTHOR, Role.AUTHOR)):
            user, _created = User.objects.get_or_create(email=f"bench-queue-{index}@example.org")
            member, _created = Membership.objects.get_or_create(
                institution=institution,
                user=user,
                defaults={
                    "role": role,
                    "handle": f"bench{index}",
                    "display_name": f"Bench {index}",
                },
            )
            people.append(member)
        reviewer, authors = people[0], people[1:]
        now = timezone.now()
        batch = 2000
        # A database seeded before (PostgreSQL) is reused: only the missing posts are added.
        existing = Post.objects.filter(state=PostState.SUBMITTED).count()
        for first in range(existing, posts, batch):
            size = min(batch, posts - first)
            created = Post.objects.bulk_create(
                Post(institution=institution, author=authors[i % 2], state=PostState.SUBMITTED)
                for i in range(size)
            )
            revisions = Revision.objects.bulk_create(
                Revision(
                    institution=institution,
                    post=post,
                    number=1,
                    body=f"Post {first + i} for the review queue\nSecond line",
                    body_html=f"<p>Post {first + i} for the review queue</p>",
                    language="en",
                    content_hash=f"{first + i:064d}",
                    created_by=post.author,
                    submitted_at=now,
                )
                for i, post in enumerate(created)
            )
            for post, revision in zip(created, revisions, strict=True):
                post.latest_revision = revision
            Post.objects.bulk_update(created, ["latest_revision"])
            Flag.objects.bulk_create(
                Flag(
                    institution=institution,
                    revision=revision,
                    check_name="email",
                    category="email",
                    start=0,
                    end=4,
                    severity="warning",
                )
                for revision in revisions[::10]
            )
    return institution, reviewer


def _analyse() -> None:
    """A freshly loaded PostgreSQL database has no statistics yet (bad plans): settle it."""
    owner = os.environ.get("DATABASE_OWNER_URL")
    if owner:
        import psycopg

        with psycopg.connect(owner, autocommit=True) as connection:
            connection.execute("VACUUM (ANALYZE)")


def _rate(client, path: str, count: int) -> float:
    for _warm in range(5):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    started = time.perf_counter()
    for _request in range(count):
        client.get(path)
    return count / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    options = _options(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="podium-bench-queue-") as temp:
        _setup(Path(temp))
        from django.test import Client
        from django.urls import reverse

        from bench.urls import TRIVIAL_PATH

        institution, reviewer = _seed(options.posts)
        _analyse()
        client = Client()
        client.force_login(reviewer.user)
        queue = reverse("moderation:queue", args=[institution.slug])
        # The floor of any signed-in page (session, membership, tenant transaction, base layout):
        # the reviewer's own, empty post list.
        floor_path = reverse("feeds:my-posts", args=[institution.slug])
        ratios, queue_rates, trivial_rates, floor_rates = [], [], [], []
        for _round in range(options.rounds):
            trivial = _rate(client, "/" + TRIVIAL_PATH, options.requests)
            page = _rate(client, queue, options.requests)
            floor_rates.append(_rate(client, floor_path, options.requests))
            trivial_rates.append(trivial)
            queue_rates.append(page)
            ratios.append(page / trivial)
        median = sorted(ratios)[len(ratios) // 2]

        def middle(values: list[float]) -> float:
            return sorted(values)[len(values) // 2]

        print(f"posts in review: {options.posts}")
        print(f"trivial view:    {middle(trivial_rates):8.1f} req/s")
        print(f"empty member page (floor): {middle(floor_rates):8.1f} req/s")
        print(f"review queue:    {middle(queue_rates):8.1f} req/s")
        verdict = "PASS" if median >= GOAL else "FAIL"
        print(f"ratio:           {median:8.3f} (goal >= {GOAL}) {verdict}")
        return 0 if median >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
