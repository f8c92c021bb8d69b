"""Load the demo institution: a school with an admin, a reviewer, two authors and their posts.

Idempotent: running it again changes nothing that exists and prints the same logins.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts import services as accounts
from accounts.models import Institution, Membership, Role, User
from accounts.tenancy import tenant_context
from feeds import services as feeds
from feeds.models import Post, Revision
from feeds.services import PostContent

DEMO_PASSWORD = "podium-demo"  # noqa: S105 (printed for the demo; never used in production)
SLUG = "northside-school"
OPERATOR = "operator@podium.localhost"
PEOPLE = [
    # e-mail, role, handle, display name, job title, bio
    ("admin@northside.example", Role.ADMIN, "h.okafor", "Helen Okafor", "Head teacher",
     "Head of Northside since 2019. Ask me about our school development plan."),
    ("reviewer@northside.example", Role.REVIEWER, "t.brandt", "Tobias Brandt",
     "Data protection officer", "I review what we publish, so that it is fit for the paper."),
    ("author@northside.example", Role.AUTHOR, "m.meier", "Maria Meier", "Biology teacher",
     "Biology and chemistry, year 7 to 13. Pond dipping enthusiast."),
    ("author2@northside.example", Role.AUTHOR, "j.schulz", "Jonas Schulz", "Music teacher",
     "Choir, orchestra and the big band. Concert dates appear here first."),
]  # fmt: skip
POSTS = [
    # author handle, language, format, text, hours ago (None: scheduled in 10 minutes)
    ("m.meier", "en", "text",
     "Year 9 found 14 species in the school pond this morning, including two newts. Photos "
     "and the full list on our biology page: https://northside.example/biology #PondDipping", 30),
    ("j.schulz", "de", "text",
     "Das Winterkonzert findet am 12. Dezember um 18 Uhr in der Aula statt. Eintritt frei, "
     "Spenden für die neue Pauke willkommen! #Winterkonzert", 20),
    ("h.okafor", "en", "markdown",
     "**Parents' evening** is on *Thursday*, 17:00 to 20:00.\n\n- Book a slot with the "
     "office\n- Bring your child's planner\n\nThanks to @m.meier and @j.schulz for organising.",
     6),
    ("m.meier", "en", "text",
     "Reminder: the science fair entries are due next Friday. Questions? Ask me after class.",
     None),
]  # fmt: skip


WAITING_FOR_REVIEW = [
    (
        "m.meier",
        "Our year 9 biology trip to the botanical garden is on Thursday. Bring a packed "
        "lunch and shoes for the greenhouse paths.",
    ),
    (
        "j.schulz",
        "Congratulations to Lena Fischer from class 7b, who won the regional piano "
        "competition! Her parents can reach me on 0171 2345678 for the recording.",
    ),
]


class Command(BaseCommand):
    help = "Create the demo school with its members and posts (safe to run again)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            institution = self._institution()
            members = self._members(institution)
            self._posts(institution, members)
        if not User.objects.filter(email=OPERATOR).exists():
            User.objects.create_superuser(OPERATOR, DEMO_PASSWORD, name="Operator")
        self.stdout.write(self.style.SUCCESS(f"Demo institution ready: /{SLUG}/"))

    def _institution(self) -> Institution:
        existing = Institution.objects.filter(slug=SLUG).first()
        if existing:
            return existing
        return accounts.create_institution(
            slug=SLUG,
            name="Northside School",
            kind=Institution.Kind.SCHOOL,
            locale="en",
            timezone="Europe/Berlin",
            description="A comprehensive school for 1,100 students aged 10 to 18.",
            contact_email="office@northside.example",
            website="https://northside.example",
            review_required=True,
        )

    def _members(self, institution: Institution) -> dict:
        members = {}
        for email, role, handle, name, title, bio in PEOPLE:
            user = User.objects.filter(email=email).first() or accounts.register_user(
                email=email, password=DEMO_PASSWORD, name=name
            )
            with tenant_context(institution.id):
                membership = Membership.objects.filter(user=user).first()
            if membership is None:
                membership = accounts.add_member(
                    institution, user, role=role, handle=handle, display_name=name,
                    job_title=title, bio=bio,
                )  # fmt: skip
            members[handle] = membership
        return members

    def _posts(self, institution: Institution, members: dict) -> None:
        with tenant_context(institution.id):
            if Post.objects.exists():
                return
        reviewer = members["t.brandt"]
        now = timezone.now()
        for handle, language, body_format, text, hours_ago in POSTS:
            author = members[handle]
            publish_at = None if hours_ago is not None else now + timedelta(minutes=10)
            post = feeds.create_post(
                author, PostContent(text, language, body_format), publish_at=publish_at
            )
            post = feeds.submit_post(post, author)
            post = feeds.approve_post(post, by=reviewer)
            if hours_ago is not None:
                with tenant_context(institution.id):
                    # Spread the demo's history over the past days.
                    when = now - timedelta(hours=hours_ago)
                    Post.objects.filter(id=post.id).update(published_at=when, updated_at=when)
                    Revision.objects.filter(id=post.latest_revision_id).update(
                        published_at=when, submitted_at=when, approved_at=when
                    )
        feeds.create_post(
            members["j.schulz"],
            PostContent("Draft: big band rehearsal moves to room 104 from January.", "en"),
        )
        # Two posts wait in the review queue: one clean, one that the checks flag.
        for handle, text in WAITING_FOR_REVIEW:
            post = feeds.create_post(
                members[handle], PostContent(text, "en"), publish_at=now + timedelta(days=1)
            )
            feeds.submit_post(post, members[handle])
