"""The institution settings' "review required" and the moderation policy never disagree."""

from __future__ import annotations

import pytest

from accounts import services as accounts_services
from moderation import services
from moderation.models import ReviewMode


@pytest.mark.django_db
def test_turning_review_off_in_the_settings_turns_the_policy_off(cast):
    services.ensure_policy(cast.a.institution, cast.a.admin)
    accounts_services.update_institution(cast.a.institution, review_required=False)
    policy = services.policy_of(cast.a.institution)
    assert policy.review_mode == ReviewMode.NONE
    assert policy.version == 2


@pytest.mark.django_db
def test_turning_review_on_again_asks_for_review_of_everyone(cast):
    services.ensure_policy(cast.a.institution, cast.a.admin)
    accounts_services.update_institution(cast.a.institution, review_required=False)
    accounts_services.update_institution(cast.a.institution, review_required=True)
    assert services.policy_of(cast.a.institution).review_mode == ReviewMode.ALL


@pytest.mark.django_db
def test_the_trusted_mode_stays_when_review_stays_on(cast):
    services.ensure_policy(cast.a.institution, cast.a.admin)
    services.update_policy(cast.a.institution, cast.a.admin, review_mode=ReviewMode.UNTRUSTED)
    accounts_services.update_institution(cast.a.institution, name="Renamed", review_required=True)
    assert services.policy_of(cast.a.institution).review_mode == ReviewMode.UNTRUSTED
