"""Every role (and anonymous, and another institution's admin) against every permission,
denials included. The table is written out by hand: it is the product rule, not a copy of
accounts.permissions."""

import pytest

from accounts.api.access import actor_for
from accounts.permissions import Permission, has_permission

P = Permission
ROLES = ("author", "reviewer", "admin", "anonymous", "other_admin")
# permission: (author, reviewer, admin, anonymous, other institution's admin)
MATRIX = {
    P.VIEW_MEMBERS: (True, True, True, False, False),
    P.EDIT_OWN_PROFILE: (True, True, True, False, False),
    P.MANAGE_OWN_TOKENS: (True, True, True, False, False),
    P.VIEW_OWN_POSTS: (True, True, True, False, False),
    P.WRITE_POSTS: (True, True, True, False, False),
    P.VIEW_ALL_POSTS: (False, True, True, False, False),
    P.REVIEW_POSTS: (False, True, True, False, False),
    P.MANAGE_MEMBERS: (False, False, True, False, False),
    P.EDIT_INSTITUTION: (False, False, True, False, False),
    P.VIEW_AUDIT_LOG: (False, False, True, False, False),
}
CASES = [
    (permission, role, allowed)
    for permission, row in MATRIX.items()
    for role, allowed in zip(ROLES, row, strict=True)
]


def test_matrix_covers_every_permission():
    assert set(MATRIX) == set(Permission)


class _Request:
    """The little of a DRF request that actor_for reads."""

    def __init__(self, institution, user):
        self._request = type("Django", (), {"institution": institution})()
        self.user = user
        self.auth = None


def _actor(cast, role):
    institution = cast.a.institution
    if role == "anonymous":
        from django.contrib.auth.models import AnonymousUser

        return actor_for(_Request(institution, AnonymousUser()))
    member = cast.b.admin if role == "other_admin" else getattr(cast.a, role)
    from accounts.tenancy import tenant_context

    with tenant_context(institution.id):
        return actor_for(_Request(institution, member.user))


@pytest.mark.parametrize(("permission", "role", "allowed"), CASES)
def test_role_matrix(cast, permission, role, allowed):
    actor = _actor(cast, role)
    granted = actor is not None and actor.can(permission)
    assert granted is allowed


@pytest.mark.parametrize("permission", list(Permission))
def test_former_staff_hold_no_permission(cast, permission):
    from accounts import services
    from accounts.models import Role
    from tests.factories import MembershipFactory

    MembershipFactory(institution=cast.a.institution, role=Role.ADMIN)  # someone stays admin
    retired = services.retire_member(cast.a.admin)
    assert has_permission(retired, permission) is False
