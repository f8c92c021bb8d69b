"""Every (state, verb) pair of the lifecycle table, for posts that were public and that never
were: the verb is allowed exactly where the table says, and leads where the table says."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from feeds import lifecycle
from feeds.models import Post, PostState

CASES = list(
    itertools.product(PostState.values, lifecycle.TRANSITIONS, [False, True])
)  # state, verb, was the post ever public


def _expected(state: str, verb: str, was_public: bool) -> bool:
    sources, _target = lifecycle.TRANSITIONS[verb]
    if state not in sources:
        return False
    if verb in lifecycle.ONLY_AFTER_PUBLICATION:
        return was_public
    if verb in lifecycle.ONLY_BEFORE_PUBLICATION:
        return not was_public
    return True


@pytest.mark.parametrize(("state", "verb", "was_public"), CASES)
def test_each_state_and_verb_is_allowed_exactly_as_the_table_says(state, verb, was_public):
    post = Post(state=state, published_at=timezone.now() if was_public else None)
    allowed = _expected(state, verb, was_public)
    assert lifecycle.can(post, verb) is allowed
    if allowed:
        lifecycle.transition(post, verb)
        assert post.state == lifecycle.TRANSITIONS[verb][1]
    else:
        with pytest.raises(lifecycle.IllegalTransition):
            lifecycle.transition(post, verb)
        assert post.state == state


def test_the_table_covers_the_verbs_the_services_use():
    assert set(lifecycle.TRANSITIONS) == {
        "submit", "withdraw", "edit", "approve", "request_changes", "reject", "publish",
        "reject_correction", "discard_correction", "retract", "delete",
    }  # fmt: skip


def test_a_retracted_or_rejected_post_allows_nothing():
    for state in (PostState.RETRACTED, PostState.REJECTED):
        post = Post(state=state, published_at=timezone.now())
        assert [verb for verb in lifecycle.TRANSITIONS if lifecycle.can(post, verb)] == []
