"""Every state change of moderation: policy and lexicon, checks on submission, reviewers'
decisions, and the emergency stop.

Each public function runs in one transaction inside the institution and writes its audit event.
Decisions lock the post row first, so two reviewers deciding at once are serialised: one wins,
the other finds the post decided and gets a 409. An approval is bound to the revision's content
hash and every selected network's rendered hash; ``feeds.services.approve_post`` is called only
once the policy's number of approvals from different reviewers agree on exactly those hashes.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import audit, errors
from accounts.models import Institution, Membership
from accounts.permissions import Permission, has_permission
from accounts.tenancy import tenant_context
from feeds import hooks
from feeds import services as feeds_services
from feeds.models import POST_LANGUAGES, Post, PostState, Revision
from feeds.scheduling import check_publish_time
from feeds.services import Keep
from moderation.checks import CheckContext, run_checks, sector_for_kind, starting_terms
from moderation.models import (
    MAX_DEADLINE_HOURS,
    MAX_DOMAINS,
    MAX_LEAD_MINUTES,
    MAX_TERM_LENGTH,
    Decision,
    Flag,
    LexiconTerm,
    NotificationPreference,
    Policy,
    PolicyVersion,
    PublishingPause,
    ReviewMode,
    Severity,
    TermKind,
    TrustedMember,
    Verdict,
)
from moderation.renderings import rendered_hashes, renderings_of

LEXICON_LANGUAGES = ("de", "en")
MAX_REASON = 2000
POLICY_FIELDS = (
    "review_mode",
    "approvals_required",
    "approval_deadline_hours",
    "minimum_lead_minutes",
    "allowed_domains",
    "denied_domains",
    "own_contacts",
    "api_decisions_need_code",
)


# Errors -------------------------------------------------------------------------------------


class AlreadyDecided(errors.Conflict):
    code = "already_decided"
    default_message = gettext_lazy(
        "This post was decided meanwhile or is not in review; reload to see its state."
    )


class AlreadyApproved(errors.Conflict):
    code = "already_approved"
    default_message = gettext_lazy(
        "You have already approved this text; another reviewer's approval is needed."
    )


class OverrideRequired(errors.Conflict):
    code = "override_required"
    default_message = gettext_lazy(
        "The text contains blocked terms: an administrator must record an override with a "
        "reason before it can be approved."
    )


class TimeNeedsConfirmation(errors.Conflict):
    code = "publish_time_needs_confirmation"
    default_message = gettext_lazy(
        "The approval deadline or the publish time has passed. Confirm a new publish time "
        "(or publish now) to approve."
    )


class NothingToOverride(errors.Conflict):
    code = "nothing_to_override"
    default_message = gettext_lazy("This revision has no blocked terms to override.")


class AlreadyPaused(errors.Conflict):
    code = "already_paused"
    default_message = gettext_lazy("Publishing is already paused.")


class NotPaused(errors.Conflict):
    code = "not_paused"
    default_message = gettext_lazy("Publishing is not paused.")


class SecondPersonRequired(errors.PermissionDenied):
    code = "second_person_required"
    default_message = gettext_lazy(
        "Publishing must be resumed by a second person, not the one who paused it."
    )


def _require(by: Membership, permission: Permission, message: str) -> None:
    if not has_permission(by, permission):
        raise errors.PermissionDenied(message)


def _same_institution(institution_id: int, by: Membership) -> None:
    if by.institution_id != institution_id:
        raise errors.NotFound()


def _text(value: str | None, field: str, message: str, limit: int = MAX_REASON) -> str:
    value = (value or "").strip()
    if not value:
        raise errors.DomainError(message, field=field)
    if len(value) > limit:
        raise errors.DomainError(
            _("Keep it under %(limit)d characters.") % {"limit": limit}, field=field
        )
    return value


# Policy and lexicon -------------------------------------------------------------------------


def sector_of(institution: Institution) -> str:
    return sector_for_kind(institution.kind)


def policy_of(institution: Institution) -> Policy | None:
    """The institution's policy row, if one was made yet (read only)."""
    with tenant_context(institution.id):
        return Policy.objects.filter(institution_id=institution.id).first()


def current_policy(institution: Institution) -> Policy:
    """The policy in force: the institution's row, or (before an administrator or a decision
    made one) the default, unsaved, as version 0, with the institution's ``review_required``."""
    policy = Policy.objects.filter(institution_id=institution.id).first()
    if policy is not None:
        return policy
    return Policy(
        institution=institution,
        review_mode=ReviewMode.ALL if institution.review_required else ReviewMode.NONE,
        version=0,
    )


def _snapshot(policy: Policy) -> dict:
    data = {name: getattr(policy, name) for name in POLICY_FIELDS}
    data["version"] = policy.version
    data["trusted_members"] = sorted(TrustedMember.objects.values_list("membership_id", flat=True))
    data["lexicon"] = [
        [t.kind, t.language, t.term, t.category]
        for t in LexiconTerm.objects.order_by("kind", "language", "term")
    ]
    return data


def _new_version(policy: Policy, by: Membership | None) -> None:
    PolicyVersion.objects.create(
        institution_id=policy.institution_id,
        number=policy.version,
        snapshot=_snapshot(policy),
        created_by=by,
    )


def ensure_policy(institution: Institution, by: Membership | None = None) -> Policy:
    """The institution's policy, made on first use with the sector's starting lexicons and the
    institution's former ``review_required`` setting."""
    with tenant_context(institution.id), transaction.atomic():
        policy = Policy.objects.select_for_update().filter(institution_id=institution.id).first()
        if policy is not None:
            return policy
        policy = Policy.objects.create(
            institution=institution,
            review_mode=ReviewMode.ALL if institution.review_required else ReviewMode.NONE,
            updated_by=by,
        )
        sector = sector_of(institution)
        terms = []
        for language in LEXICON_LANGUAGES:
            blocked, flagged = starting_terms(sector, language)
            for kind, words in ((TermKind.BLOCKED, blocked), (TermKind.FLAGGED, flagged)):
                terms.extend(
                    LexiconTerm(
                        institution=institution,
                        term=word.strip()[:MAX_TERM_LENGTH],
                        kind=kind,
                        language=language,
                    )
                    for word in words
                    if word.strip()
                )
        LexiconTerm.objects.bulk_create(terms, ignore_conflicts=True)
        _new_version(policy, by)
        audit.record(
            institution.id,
            "policy.create",
            actor=by,
            target=policy,
            after={"version": 1, "review_mode": policy.review_mode, "sector": sector},
        )
        return policy


def _domains(value: object, field: str) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_DOMAINS:
        raise errors.DomainError(
            _("Give a list of at most %(count)d domains.") % {"count": MAX_DOMAINS}, field=field
        )
    result = []
    for item in value:
        domain = str(item).strip().lower().removeprefix("www.") if isinstance(item, str) else ""
        if not domain or " " in domain or "." not in domain or "/" in domain or len(domain) > 253:
            raise errors.DomainError(
                _("“%(domain)s” is not a domain such as example.org.") % {"domain": item},
                field=field,
            )
        if domain not in result:
            result.append(domain)
    return result


def _contacts(value: object) -> list[str]:
    if not isinstance(value, list) or len(value) > 50:
        raise errors.DomainError(_("Give a list of at most 50 contacts."), field="own_contacts")
    result = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > 300:
            raise errors.DomainError(
                _("Each contact is a text of at most 300 characters."), field="own_contacts"
            )
        result.append(item.strip())
    return result


def _validated_changes(changes: dict) -> dict:
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise errors.DomainError(
            _("Unknown policy setting: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    clean: dict = {}
    for name, value in changes.items():
        if name == "review_mode":
            if value not in ReviewMode.values:
                raise errors.DomainError(_("Choose how posts are reviewed."), field=name)
            clean[name] = value
        elif name == "approvals_required":
            if isinstance(value, bool) or value not in (1, 2):
                raise errors.DomainError(_("One or two approvals are possible."), field=name)
            clean[name] = value
        elif name in ("approval_deadline_hours", "minimum_lead_minutes"):
            limit = MAX_DEADLINE_HOURS if name == "approval_deadline_hours" else MAX_LEAD_MINUTES
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
                raise errors.DomainError(
                    _("Give a whole number from 0 to %(limit)d.") % {"limit": limit}, field=name
                )
            clean[name] = value
        elif name in ("allowed_domains", "denied_domains"):
            clean[name] = _domains(value, name)
        elif name == "api_decisions_need_code":
            if not isinstance(value, bool):
                raise errors.DomainError(_("Say yes or no (true or false)."), field=name)
            clean[name] = value
        else:
            clean[name] = _contacts(value)
    both = set(clean.get("allowed_domains", [])) & set(clean.get("denied_domains", []))
    if both:
        raise errors.DomainError(
            _("A domain cannot be allowed and denied: %(domains)s.")
            % {"domains": ", ".join(sorted(both))},
            field="denied_domains",
        )
    return clean


def _bump(policy: Policy, by: Membership | None, verb: str, before: dict, after: dict) -> None:
    policy.version += 1
    policy.updated_at = timezone.now()
    policy.updated_by = by
    policy.save()
    _new_version(policy, by)
    audit.record(
        policy.institution_id,
        verb,
        actor=by,
        target=policy,
        before=before,
        after={**after, "version": policy.version},
    )


@transaction.atomic
def update_policy(institution: Institution, by: Membership, **changes: object) -> Policy:
    """An administrator changes the review policy; the version goes up, a snapshot is kept."""
    with tenant_context(institution.id):
        _same_institution(institution.id, by)
        _require(by, Permission.EDIT_INSTITUTION, _("Only administrators change the policy."))
        clean = _validated_changes(changes)
        policy = ensure_policy(institution, by)
        policy = Policy.objects.select_for_update().get(id=policy.id)
        before = {name: getattr(policy, name) for name in clean}
        changed = {name: value for name, value in clean.items() if before[name] != value}
        if not changed:
            return policy
        for name, value in changed.items():
            setattr(policy, name, value)
        _bump(policy, by, "policy.update", {n: before[n] for n in changed}, changed)
        if "review_mode" in changed:
            # Feeds and accounts still read this flag (composer texts, institution settings).
            required = policy.review_mode != ReviewMode.NONE
            Institution.objects.filter(id=institution.id).update(review_required=required)
            institution.review_required = required
        return policy


def follow_institution_settings(institution: Institution, changed: dict) -> None:
    """``Institution.review_required`` changed on the settings page or through the API: the
    policy in force follows (off: no review; on: review for all, unless it already was)."""
    if "review_required" not in changed:
        return
    required = changed["review_required"][1]
    policy = policy_of(institution)
    if policy is None or (policy.review_mode != ReviewMode.NONE) == required:
        return  # no row yet (the default follows the flag by itself), or already in step
    with tenant_context(institution.id):
        policy = Policy.objects.select_for_update().get(id=policy.id)
        before = {"review_mode": policy.review_mode}
        policy.review_mode = ReviewMode.ALL if required else ReviewMode.NONE
        _bump(policy, None, "policy.update", before, {"review_mode": policy.review_mode})


@transaction.atomic
def add_lexicon_term(
    institution: Institution,
    by: Membership,
    *,
    term: str,
    kind: str,
    language: str = "",
    category: str = "",
) -> LexiconTerm:
    """An administrator adds a blocked or flagged term (the policy version goes up)."""
    with tenant_context(institution.id):
        _same_institution(institution.id, by)
        _require(by, Permission.EDIT_INSTITUTION, _("Only administrators edit the lexicon."))
        term = _text(term, "term", _("Write the term."), MAX_TERM_LENGTH)
        if kind not in TermKind.values:
            raise errors.DomainError(_("Choose blocked or flagged."), field="kind")
        language = (language or "").strip()
        if language and language not in dict(POST_LANGUAGES):
            raise errors.DomainError(_("Unknown language."), field="language")
        category = (category or "").strip()
        if len(category) > 40 or (category and not category.replace("_", "").isalnum()):
            raise errors.DomainError(
                _("A category is a short word such as health_data."), field="category"
            )
        policy = ensure_policy(institution, by)
        policy = Policy.objects.select_for_update().get(id=policy.id)
        if LexiconTerm.objects.filter(term=term, kind=kind, language=language).exists():
            raise errors.Conflict(_("This term is already in the lexicon."), field="term")
        item = LexiconTerm.objects.create(
            institution=institution, term=term, kind=kind, language=language, category=category
        )
        _bump(
            policy,
            by,
            "lexicon.add",
            {},
            {"term": term, "kind": kind, "language": language, "category": category},
        )
        return item


@transaction.atomic
def remove_lexicon_term(item: LexiconTerm, by: Membership) -> None:
    """An administrator removes a term (the policy version goes up)."""
    with tenant_context(item.institution_id):
        _same_institution(item.institution_id, by)
        _require(by, Permission.EDIT_INSTITUTION, _("Only administrators edit the lexicon."))
        policy = Policy.objects.select_for_update().get(institution_id=item.institution_id)
        before = {"term": item.term, "kind": item.kind, "language": item.language}
        LexiconTerm.objects.filter(id=item.id).delete()
        _bump(policy, by, "lexicon.remove", before, {})


@transaction.atomic
def set_trusted(membership: Membership, by: Membership, trusted: bool) -> None:
    """An administrator marks a member as trusted (or not): their posts may skip review."""
    institution = membership.institution
    with tenant_context(institution.id):
        _same_institution(institution.id, by)
        _require(by, Permission.EDIT_INSTITUTION, _("Only administrators change the policy."))
        policy = ensure_policy(institution, by)
        policy = Policy.objects.select_for_update().get(id=policy.id)
        exists = TrustedMember.objects.filter(membership=membership).exists()
        if exists == trusted:
            return
        if trusted:
            TrustedMember.objects.create(institution=institution, membership=membership)
        else:
            TrustedMember.objects.filter(membership=membership).delete()
        _bump(
            policy,
            by,
            "policy.trust" if trusted else "policy.distrust",
            {},
            {"membership": membership.id},
        )


# Submission: the gate and the checks ----------------------------------------------------------


def review_gate(post: Post, by: Membership) -> bool:
    """Whether a submitted revision waits for reviewers, by the institution's policy.

    Blocked or high-risk flags on the revision always send it to review.
    """
    policy = Policy.objects.filter(institution_id=post.institution_id).first()
    if policy is None:
        return bool(post.institution.review_required)
    if policy.review_mode == ReviewMode.ALL:
        return True
    risky = Flag.objects.filter(
        revision_id=post.latest_revision_id, severity__in=(Severity.BLOCK, Severity.HIGH)
    ).exists()
    if risky:
        return True
    if policy.review_mode == ReviewMode.NONE:
        return False
    return not TrustedMember.objects.filter(membership_id=by.id).exists()


_SEVERITIES = {
    "block": Severity.BLOCK,
    "blocked": Severity.BLOCK,
    "high": Severity.HIGH,
    "error": Severity.HIGH,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "medium": Severity.WARNING,
    "info": Severity.INFO,
    "low": Severity.INFO,
}


def findings_of(post: Post, revision: Revision, policy: Policy, sector: str) -> list:
    """The checks' findings on the revision's text."""
    if policy.pk is None:  # the default policy: the sector's starting lexicon, as it would be
        blocked, flagged = (
            starting_terms(sector, revision.language)
            if revision.language in LEXICON_LANGUAGES
            else ((), ())
        )
    else:
        terms = [
            t
            for t in LexiconTerm.objects.all()
            if not t.language or t.language == revision.language
        ]
        blocked = tuple(t.term for t in terms if t.kind == TermKind.BLOCKED)
        flagged = tuple(t.term for t in terms if t.kind == TermKind.FLAGGED)
    context = CheckContext(
        language=revision.language,
        sector=sector,
        blocked_terms=tuple(blocked),
        flagged_terms=tuple(flagged),
        allowed_domains=tuple(policy.allowed_domains),
        denied_domains=tuple(policy.denied_domains),
        own_contacts=tuple(policy.own_contacts),
        images_without_alt=0,
        network_lengths=tuple(
            (r.network, r.length, r.limit) for r in renderings_of(post, revision) if not r.error
        ),
    )
    return list(run_checks(revision.body, context))


def check_revision(post: Post, revision: Revision) -> list[Flag]:
    """Run the automated checks on a revision and store their flags (replacing earlier ones)."""
    policy = current_policy(post.institution)
    findings = findings_of(post, revision, policy, sector_of(post.institution))
    Flag.objects.filter(revision=revision).delete()
    flags = [
        Flag(
            institution_id=post.institution_id,
            revision=revision,
            check_name=str(f.check)[:60],
            category=str(f.category)[:40],
            start=int(f.start),
            end=int(f.end),
            severity=_SEVERITIES.get(str(f.severity).lower(), Severity.WARNING),
            explanation=str(f.explanation or ""),
            matched=str(f.matched or "")[:300],
        )
        for f in findings
    ]
    return Flag.objects.bulk_create(flags)


def on_revision_submitted(change: hooks.PostChange) -> None:
    """Listener: check the minimum lead time, run the checks, tell reviewers after commit."""
    post, revision = change.post, change.revision
    policy = current_policy(post.institution)
    if (
        policy.minimum_lead_minutes
        and post.published_at is None
        and post.publish_at is not None
        and post.publish_at < change.at + timedelta(minutes=policy.minimum_lead_minutes)
    ):
        raise errors.DomainError(
            _(
                "Posts must be submitted at least %(minutes)d minutes before their publish "
                "time. Choose a later time or none."
            )
            % {"minutes": policy.minimum_lead_minutes},
            field="publish_at",
        )
    check_revision(post, revision)
    from moderation import tasks

    institution_id, post_id, number = post.institution_id, post.id, revision.number
    transaction.on_commit(
        lambda: tasks.notify_submission.apply_async(
            kwargs={"institution_id": institution_id, "post_id": post_id, "revision": number}
        )
    )


# Decisions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """What a decision is bound to: the revision's content hash and each rendering's hash."""

    content_hash: str
    rendered: dict[str, str]


def binding_of(post: Post, revision: Revision) -> Binding:
    return Binding(revision.content_hash, rendered_hashes(post, revision))


def deadline_of(post: Post, policy: Policy | None) -> datetime | None:
    """When approval must have arrived for the post to keep its time (None: no time set)."""
    if post.publish_at is None or post.published_at is not None:
        return None
    hours = policy.approval_deadline_hours if policy is not None else 0
    return post.publish_at - timedelta(hours=hours)


def _lock(post: Post, by: Membership) -> Post:
    _same_institution(post.institution_id, by)
    locked = (
        Post.objects.select_for_update(of=("self",))
        .select_related("institution", "author", "latest_revision")
        .filter(id=post.id)
        .first()
    )
    if locked is None:
        raise errors.NotFound()
    return locked


def _check_decider(post: Post, by: Membership) -> None:
    if not has_permission(by, Permission.REVIEW_POSTS):
        raise errors.PermissionDenied(_("Only reviewers and administrators decide on posts."))
    if by.id == post.author_id:
        raise errors.PermissionDenied(_("Nobody decides on their own post."))


def _in_review(post: Post) -> Revision:
    if post.state != PostState.SUBMITTED or post.latest_revision is None:
        raise AlreadyDecided()
    return post.latest_revision


def _current(decisions, revision: Revision, binding: Binding, verdict: str) -> list[Decision]:
    """Decisions of one verdict on this submission of the revision that still bind."""
    submitted = revision.submitted_at
    return [
        d
        for d in decisions
        if d.verdict == verdict
        and d.revision_id == revision.id
        and (submitted is None or d.created_at >= submitted)
        and d.binds(binding.content_hash, binding.rendered)
    ]


def valid_approvals(post: Post, revision: Revision, binding: Binding) -> list[Decision]:
    """Approvals of the revision's present submission that bind its exact text."""
    decisions = Decision.objects.filter(post_id=post.id, revision=revision)
    return _current(decisions, revision, binding, Verdict.APPROVE)


def needs_override(revision: Revision, binding: Binding, post: Post) -> bool:
    """Blocked flags without an administrator's override of this exact text."""
    if not Flag.objects.filter(revision=revision, severity=Severity.BLOCK).exists():
        return False
    decisions = Decision.objects.filter(post_id=post.id, revision=revision)
    return not _current(decisions, revision, binding, Verdict.OVERRIDE)


def _decide(
    post: Post,
    revision: Revision,
    by: Membership,
    verdict: str,
    policy: Policy,
    binding: Binding,
    reason: str = "",
    publish_at: datetime | None = None,
    *,
    audited: bool = True,
) -> Decision:
    decision = Decision.objects.create(
        institution_id=post.institution_id,
        post=post,
        revision=revision,
        reviewer=by,
        verdict=verdict,
        reason=reason,
        content_hash=binding.content_hash,
        rendered_hashes=binding.rendered,
        policy_version=policy.version,
        publish_at=publish_at,
    )
    if not audited:
        return decision
    audit.record(
        post.institution_id,
        f"review.{verdict}",
        actor=by,
        target=decision,
        after={
            "post": post.id,
            "revision": revision.number,
            "content_hash": binding.content_hash,
            "rendered_hashes": binding.rendered,
            "policy_version": policy.version,
            "reason": reason[:500],
        },
    )
    if verdict != Verdict.OVERRIDE:
        from moderation import tasks

        institution_id, decision_id = post.institution_id, decision.id
        transaction.on_commit(
            lambda: tasks.notify_decision.apply_async(
                kwargs={"institution_id": institution_id, "decision_id": decision_id}
            )
        )
    return decision


# The post whose approval moderation.approve is completing (its decision is recorded already).
_approving: ContextVar[int | None] = ContextVar("moderation_approving", default=None)


class NotEnoughApprovals(errors.Conflict):
    code = "not_enough_approvals"
    default_message = gettext_lazy(
        "The policy needs the approval of two different reviewers; approve through the review "
        "queue."
    )


def on_revision_approved(change: hooks.PostChange) -> None:
    """Listener: an approval that did not come through ``approve`` (a direct call of feeds'
    ``approve_post``) must meet the same rules and leaves the same decision on record."""
    post, revision, by = change.post, change.revision, change.by
    if by is None or _approving.get() == post.id:
        return  # approved by the gate (no review required), or by approve() itself
    policy = current_policy(post.institution)
    binding = binding_of(post, revision)
    if needs_override(revision, binding, post):
        raise OverrideRequired()
    approvals = valid_approvals(post, revision, binding)
    reviewers = {d.reviewer_id for d in approvals}
    if by.id not in reviewers:
        # On record like every approval; feeds' "post.approve" event is its audit entry.
        _decide(post, revision, by, Verdict.APPROVE, policy, binding, audited=False)
        reviewers.add(by.id)
    if len(reviewers) < policy.approvals_required:
        raise NotEnoughApprovals()


@dataclass(frozen=True)
class ApprovalOutcome:
    """What an approval did: the post (approved or still in review) and the count."""

    post: Post
    decision: Decision
    approvals: int
    required: int

    @property
    def completed(self) -> bool:
        return self.approvals >= self.required


@transaction.atomic
def approve(
    post: Post, by: Membership, publish_at: datetime | Keep | None = Keep.TIME
) -> ApprovalOutcome:
    """A reviewer approves the revision in review; enough approvals of the same text approve
    the post. ``publish_at`` (None: now) confirms a new time for a late approval."""
    with tenant_context(post.institution_id):
        _same_institution(post.institution_id, by)
        _require(by, Permission.REVIEW_POSTS, _("Only reviewers and administrators decide."))
        post = _lock(post, by)
        _check_decider(post, by)
        revision = _in_review(post)
        policy = current_policy(post.institution)
        binding = binding_of(post, revision)
        if needs_override(revision, binding, post):
            raise OverrideRequired()
        approvals = valid_approvals(post, revision, binding)
        if any(d.reviewer_id == by.id for d in approvals):
            raise AlreadyApproved()
        reviewers = {d.reviewer_id for d in approvals} | {by.id}
        completes = len(reviewers) >= policy.approvals_required
        confirmed = publish_at is not Keep.TIME
        if confirmed:
            publish_at = check_publish_time(post.institution, publish_at)
        if completes and not confirmed:
            deadline = deadline_of(post, policy)
            if deadline is not None and timezone.now() > deadline:
                raise TimeNeedsConfirmation()
        decision = _decide(
            post,
            revision,
            by,
            Verdict.APPROVE,
            policy,
            binding,
            publish_at=publish_at if confirmed else None,
        )
        if completes:
            token = _approving.set(post.id)
            try:
                post = feeds_services.approve_post(post, by=by, publish_at=publish_at)
            finally:
                _approving.reset(token)
        return ApprovalOutcome(post, decision, len(reviewers), policy.approvals_required)


@transaction.atomic
def override(post: Post, by: Membership, reason: str) -> Decision:
    """An administrator allows a text with blocked terms to be approved, giving the reason."""
    with tenant_context(post.institution_id):
        _same_institution(post.institution_id, by)
        _require(by, Permission.EDIT_INSTITUTION, _("Only administrators override blocked terms."))
        reason = _text(reason, "reason", _("Give the reason for the override."))
        post = _lock(post, by)
        _check_decider(post, by)
        revision = _in_review(post)
        policy = current_policy(post.institution)
        binding = binding_of(post, revision)
        if not needs_override(revision, binding, post):
            raise NothingToOverride()
        return _decide(post, revision, by, Verdict.OVERRIDE, policy, binding, reason)


@transaction.atomic
def reject(post: Post, by: Membership, reason: str) -> Post:
    """A reviewer rejects the revision in review with the reason the author sees."""
    with tenant_context(post.institution_id):
        _same_institution(post.institution_id, by)
        _require(by, Permission.REVIEW_POSTS, _("Only reviewers and administrators decide."))
        reason = _text(reason, "reason", _("Give the reason the author will see."))
        post = _lock(post, by)
        _check_decider(post, by)
        revision = _in_review(post)
        policy = current_policy(post.institution)
        _decide(post, revision, by, Verdict.REJECT, policy, binding_of(post, revision), reason)
        return feeds_services.reject_post(post, by=by, reason=reason)


@transaction.atomic
def request_changes(post: Post, by: Membership, comment: str) -> Post:
    """A reviewer sends the revision back to its author with a comment."""
    with tenant_context(post.institution_id):
        _same_institution(post.institution_id, by)
        _require(by, Permission.REVIEW_POSTS, _("Only reviewers and administrators decide."))
        comment = _text(comment, "comment", _("Say what should change."))
        post = _lock(post, by)
        _check_decider(post, by)
        revision = _in_review(post)
        policy = current_policy(post.institution)
        binding = binding_of(post, revision)
        _decide(post, revision, by, Verdict.REQUEST_CHANGES, policy, binding, comment)
        return feeds_services.request_changes(post, by=by, comment=comment)


@transaction.atomic
def retract(post: Post, by: Membership, reason: str) -> Post:
    """A reviewer or administrator retracts a post, leaving a public notice with the reason."""
    with tenant_context(post.institution_id):
        _same_institution(post.institution_id, by)
        _require(by, Permission.REVIEW_POSTS, _("Only reviewers and administrators retract."))
        reason = _text(reason, "reason", _("Give the reason that readers will see."), 1000)
        post = _lock(post, by)
        if post.is_retracted:
            raise AlreadyDecided(_("This post is already retracted."))
        revision = post.public_revision or post.latest_revision
        policy = current_policy(post.institution)
        post = feeds_services.retract_post(post, by=by, reason=reason)
        _decide(post, revision, by, Verdict.RETRACT, policy, binding_of(post, revision), reason)
        return post


def comment_for_author(post: Post) -> Decision | None:
    """The reviewer's latest request for changes or rejection on the post (for its author)."""
    with tenant_context(post.institution_id):
        return (
            Decision.objects.filter(
                post_id=post.id, verdict__in=(Verdict.REQUEST_CHANGES, Verdict.REJECT)
            )
            .select_related("reviewer", "revision")
            .order_by("-created_at", "-id")
            .first()
        )


@transaction.atomic
def set_preferences(membership: Membership, **choices: bool) -> NotificationPreference:
    """A member chooses which notices they receive by e-mail."""
    with tenant_context(membership.institution_id):
        preference, _created = NotificationPreference.objects.get_or_create(
            institution_id=membership.institution_id, membership=membership
        )
        before = {name: getattr(preference, name) for name in choices}
        for name, value in choices.items():
            if name not in ("on_submission", "on_deadline", "on_decision"):
                raise errors.DomainError(_("Unknown notice."), field=name)
            setattr(preference, name, bool(value))
        preference.save()
        audit.record(
            membership.institution_id,
            "notifications.update",
            actor=membership,
            target=preference,
            before=before,
            after=choices,
        )
        return preference


# The emergency stop -------------------------------------------------------------------------


def open_pause(institution: Institution) -> PublishingPause | None:
    with tenant_context(institution.id):
        return (
            PublishingPause.objects.filter(resumed_at__isnull=True)
            .select_related("paused_by")
            .first()
        )


@transaction.atomic
def pause_publishing(institution: Institution, by: Membership, reason: str = "") -> PublishingPause:
    """An administrator stops all publishing and deliveries of the institution at once."""
    with tenant_context(institution.id):
        _same_institution(institution.id, by)
        _require(by, Permission.EDIT_INSTITUTION, _("Only administrators pause publishing."))
        locked = Institution.objects.select_for_update().get(id=institution.id)
        if locked.publishing_paused:
            raise AlreadyPaused()
        reason = (reason or "").strip()[:MAX_REASON]
        Institution.objects.filter(id=institution.id).update(publishing_paused=True)
        institution.publishing_paused = True
        pause = PublishingPause.objects.create(institution=institution, paused_by=by, reason=reason)
        audit.record(
            institution.id,
            "publishing.pause",
            actor=by,
            target=pause,
            before={"publishing_paused": False},
            after={"publishing_paused": True, "reason": reason},
        )
        return pause


@transaction.atomic
def resume_publishing(institution: Institution, by: Membership) -> PublishingPause:
    """A second person (administrator or reviewer, not the one who paused) lifts the stop."""
    with tenant_context(institution.id):
        _same_institution(institution.id, by)
        _require(
            by,
            Permission.REVIEW_POSTS,
            _("Only administrators and reviewers resume publishing."),
        )
        locked = Institution.objects.select_for_update().get(id=institution.id)
        pause = PublishingPause.objects.filter(resumed_at__isnull=True).first()
        if not locked.publishing_paused:
            raise NotPaused()
        if pause is not None and pause.paused_by_id == by.id:
            raise SecondPersonRequired()
        Institution.objects.filter(id=institution.id).update(publishing_paused=False)
        institution.publishing_paused = False
        if pause is None:  # paused outside moderation (the operators' admin)
            pause = PublishingPause.objects.create(institution=institution, paused_by=by)
        pause.resumed_by = by
        pause.resumed_at = timezone.now()
        pause.save(update_fields=["resumed_by", "resumed_at"])
        audit.record(
            institution.id,
            "publishing.resume",
            actor=by,
            target=pause,
            before={"publishing_paused": True},
            after={"publishing_paused": False, "paused_by": pause.paused_by_id},
        )
        return pause
