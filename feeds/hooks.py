"""The post lifecycle's extension points: how moderation and crossposting act without feeds
importing them.

Two kinds:

- ``review_gate``: one function, consulted by ``submit_post``, that says whether a submitted
  revision waits for reviewers or is approved at once. Feeds' default approves at once unless the
  institution requires review; moderation replaces it with its policy.
- Listeners (``revision_submitted``, ``revision_approved``, ``post_published``, ...): called in
  order, inside the transaction of the change, with a ``PostChange``. A listener that raises rolls
  the whole change back, so what a listener writes (a flag, a delivery row, an outbox event)
  exists exactly when the change does.

Higher apps register in their ``AppConfig.ready()``; registering twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import Membership
    from feeds.models import Post, Revision


@dataclass(frozen=True)
class PostChange:
    """What happened to a post: the post (locked, saved), the revision concerned, who did it
    (None for the system: the sweeper, an institution without review) and when."""

    post: Post
    revision: Revision | None
    by: Membership | None
    at: datetime
    reason: str = ""


@dataclass(eq=False)
class Listeners:
    """An ordered registry of callables that receive one ``PostChange``."""

    name: str
    handlers: list[Callable[[PostChange], None]] = field(default_factory=list)

    def register(self, handler: Callable[[PostChange], None]) -> Callable[[PostChange], None]:
        if handler not in self.handlers:
            self.handlers.append(handler)
        return handler

    def unregister(self, handler: Callable[[PostChange], None]) -> None:
        if handler in self.handlers:
            self.handlers.remove(handler)

    def send(self, change: PostChange) -> None:
        for handler in list(self.handlers):
            handler(change)


# A revision was submitted for review (moderation runs its checks and builds the queue entry).
revision_submitted = Listeners("revision_submitted")
# A revision was approved (by a reviewer, or by the gate); it may publish now or at its time.
revision_approved = Listeners("revision_approved")
# A post became public for the first time.
post_published = Listeners("post_published")
# A published post's correction became public (``revision`` is the new public revision).
post_corrected = Listeners("post_corrected")
# A post was retracted (``reason`` is the public reason).
post_retracted = Listeners("post_retracted")
# A draft that was never submitted was deleted (``revision`` is None; the post row is gone after).
post_deleted = Listeners("post_deleted")

ALL_LISTENERS = (
    revision_submitted,
    revision_approved,
    post_published,
    post_corrected,
    post_retracted,
    post_deleted,
)


# Review gate ------------------------------------------------------------------------------------

ReviewGate = Callable[["Post", "Membership"], bool]


def default_review_gate(post: Post, by: Membership) -> bool:
    """Feeds' own rule: review is needed when the institution requires it."""
    return bool(post.institution.review_required)


_review_gate: ReviewGate = default_review_gate


def set_review_gate(gate: ReviewGate) -> ReviewGate:
    """Replace the gate (moderation does this once, in its ``ready()``); returns the gate it
    replaced, so that a test can put it back."""
    global _review_gate
    previous, _review_gate = _review_gate, gate
    return previous


def needs_review(post: Post, by: Membership) -> bool:
    """Whether the submitted revision waits for reviewers (True) or is approved at once."""
    return _review_gate(post, by)


# Further rel="me" addresses of public pages -----------------------------------------------------

# A provider takes (institution id, member id, or None for the institution's own page) and
# returns (address, text) pairs, in one query; crossposting adds the connected network accounts.
ProfileLinks = Callable[[int, "int | None"], list[tuple[str, str]]]
profile_link_providers: list[ProfileLinks] = []


def register_profile_links(provider: ProfileLinks) -> ProfileLinks:
    if provider not in profile_link_providers:
        profile_link_providers.append(provider)
    return provider


def profile_links(institution_id: int, member_id: int | None) -> list[tuple[str, str]]:
    """The addresses higher apps add to a public page as rel="me" links."""
    links: list[tuple[str, str]] = []
    for provider in profile_link_providers:
        links += provider(institution_id, member_id)
    return links
