"""Shared pieces of the moderation tests: writing and submitting posts, a second reviewer."""

from __future__ import annotations

import pytest

from accounts.models import Role
from feeds import services as feeds_services
from feeds.services import PostContent
from tests.factories import MembershipFactory


def submitted(author, body: str = "Sports day is on Friday, everyone is welcome.", **kwargs):
    post = feeds_services.create_post(author, PostContent(body=body, language="en"), **kwargs)
    return feeds_services.submit_post(post, author)


@pytest.fixture
def reviewer2(cast):
    return MembershipFactory(institution=cast.a.institution, role=Role.REVIEWER)


@pytest.fixture
def admin2(cast):
    return MembershipFactory(institution=cast.a.institution, role=Role.ADMIN)
