"""Notices by e-mail to reviewers, administrators and authors, each sent at most once.

A notice is a ``SentNotice`` row with a unique key written in the transaction that sends the
mail: a retried task finds the row and sends nothing again; a failed send rolls the row back so
the retry sends it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import audit
from accounts.addresses import absolute_url
from accounts.models import Institution, Membership, Role
from feeds.models import Post, PostState
from moderation.models import Decision, NotificationPreference, Policy, SentNotice, Verdict
from moderation.services import deadline_of

# Reviewers hear about a deadline this long before it passes.
DEADLINE_WARNING = timedelta(hours=2)
PREFERENCE_OF_KIND = {
    "submission": "on_submission",
    "deadline_soon": "on_deadline",
    "deadline_passed": "on_deadline",
    "decision": "on_decision",
}


def _wants(membership: Membership, kind: str) -> bool:
    preference = NotificationPreference.objects.filter(membership=membership).first()
    return preference is None or getattr(preference, PREFERENCE_OF_KIND[kind])


def _url(name: str, institution: Institution, **kwargs: object) -> str:
    path = reverse(name, kwargs={"institution_slug": institution.slug, **kwargs})
    return absolute_url(path)


def send_notice(
    membership: Membership, kind: str, key: str, subject: str, template: str, context: dict
) -> bool:
    """Send one notice unless it went out before or the member does not want it."""
    if not membership.is_active or not _wants(membership, kind):
        return False
    institution = membership.institution
    try:
        with transaction.atomic():
            SentNotice.objects.create(
                institution_id=institution.id, key=key[:200], membership=membership, kind=kind
            )
            language = membership.user.language or institution.locale
            with translation.override(language):
                body = render_to_string(
                    template, {**context, "institution": institution, "member": membership}
                )
                send_mail(
                    subject=str(subject),
                    message=body,
                    from_email=None,
                    recipient_list=[membership.user.email],
                )
    except IntegrityError:
        return False  # sent before (a retried task)
    return True


def _reviewers(post: Post, roles: tuple[str, ...] = (Role.REVIEWER, Role.ADMIN)):
    return (
        Membership.objects.filter(role__in=roles, status=Membership.Status.ACTIVE)
        .exclude(id=post.author_id)
        .select_related("user", "institution")
    )


def notify_submission(post_id: int, revision_number: int) -> int:
    """Tell reviewers that a revision waits for review."""
    post = Post.objects.select_related("institution", "latest_revision", "author").get(id=post_id)
    revision = post.latest_revision
    if post.state != PostState.SUBMITTED or revision.number != revision_number:
        return 0
    stamp = revision.submitted_at.isoformat() if revision.submitted_at else ""
    sent = 0
    for member in _reviewers(post):
        with translation.override(member.user.language or post.institution.locale):
            subject = _("Post to review from %(author)s") % {"author": post.author.display_name}
        sent += send_notice(
            member,
            "submission",
            f"submission:{post.id}:{revision.number}:{stamp}:{member.id}",
            subject,
            "moderation/email/submission.txt",
            {"post": post, "url": _url("moderation:review", post.institution, post_id=post.id)},
        )
    return sent


def notify_decision(decision_id: int) -> int:
    """Tell the author what a reviewer decided."""
    decision = Decision.objects.select_related(
        "post__institution", "post__author__user", "reviewer"
    ).get(id=decision_id)
    if decision.verdict == Verdict.OVERRIDE:
        return 0
    post = decision.post
    author = post.author
    with translation.override(author.user.language or post.institution.locale):
        subject = _("Your post: %(verdict)s") % {"verdict": decision.get_verdict_display()}
    return int(
        send_notice(
            author,
            "decision",
            f"decision:{decision.id}",
            subject,
            "moderation/email/decision.txt",
            {
                "post": post,
                "decision": decision,
                "url": _url("feeds:history", post.institution, post_id=post.id),
            },
        )
    )


def escalate_deadlines(institution: Institution, now: datetime | None = None) -> int:
    """Warn reviewers of deadlines coming up; escalate passed ones to administrators (once)."""
    now = now or timezone.now()
    policy = Policy.objects.filter(institution_id=institution.id).first()
    if policy is None:
        return 0
    horizon = now + timedelta(hours=policy.approval_deadline_hours) + DEADLINE_WARNING
    posts = (
        Post.objects.filter(
            state=PostState.SUBMITTED, published_at__isnull=True, publish_at__lte=horizon
        )
        .select_related("institution", "latest_revision", "author")
        .order_by("publish_at", "id")[:500]
    )
    sent = 0
    for post in posts:
        deadline = deadline_of(post, policy)
        if deadline is None:
            continue
        passed = deadline <= now
        kind = "deadline_passed" if passed else "deadline_soon"
        roles = (Role.ADMIN,) if passed else (Role.REVIEWER, Role.ADMIN)
        key_base = f"{kind}:{post.id}:{post.latest_revision.number}:{deadline.isoformat()}"
        if passed and not SentNotice.objects.filter(key__startswith=key_base).exists():
            with transaction.atomic():
                audit.record(
                    institution.id,
                    "review.escalate",
                    target=post,
                    after={"deadline": deadline, "publish_at": post.publish_at},
                )
        for member in _reviewers(post, roles):
            with translation.override(member.user.language or institution.locale):
                subject = (
                    _("Approval deadline passed: a post waits for a new time")
                    if passed
                    else _("Approval deadline approaching")
                )
            sent += send_notice(
                member,
                kind,
                f"{key_base}:{member.id}",
                subject,
                "moderation/email/deadline.txt",
                {
                    "post": post,
                    "deadline": deadline,
                    "passed": passed,
                    "url": _url("moderation:review", institution, post_id=post.id),
                },
            )
    return sent
