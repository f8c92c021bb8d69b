"""Who may do what: one table of roles and permissions, and the token scopes that narrow it.

Every check in views, the API and services goes through ``has_permission``. The role matrix
test walks this table against the real endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from accounts.models import ApiToken, Membership, Role, Scope


class Permission(StrEnum):
    VIEW_MEMBERS = "view_members"
    EDIT_OWN_PROFILE = "edit_own_profile"
    MANAGE_OWN_TOKENS = "manage_own_tokens"
    VIEW_OWN_POSTS = "view_own_posts"
    WRITE_POSTS = "write_posts"
    VIEW_ALL_POSTS = "view_all_posts"
    REVIEW_POSTS = "review_posts"
    MANAGE_MEMBERS = "manage_members"
    EDIT_INSTITUTION = "edit_institution"
    VIEW_AUDIT_LOG = "view_audit_log"


_AUTHOR = {
    Permission.VIEW_MEMBERS,
    Permission.EDIT_OWN_PROFILE,
    Permission.MANAGE_OWN_TOKENS,
    Permission.VIEW_OWN_POSTS,
    Permission.WRITE_POSTS,
}
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.AUTHOR: frozenset(_AUTHOR),
    Role.REVIEWER: frozenset(_AUTHOR | {Permission.VIEW_ALL_POSTS, Permission.REVIEW_POSTS}),
    Role.ADMIN: frozenset(Permission),
}

# The scope a token needs for each permission. A token never grants more than its member's role.
PERMISSION_SCOPE: dict[Permission, str] = {
    Permission.VIEW_MEMBERS: Scope.READ,
    Permission.VIEW_OWN_POSTS: Scope.READ,
    Permission.VIEW_ALL_POSTS: Scope.READ,
    Permission.EDIT_OWN_PROFILE: Scope.WRITE,
    Permission.WRITE_POSTS: Scope.WRITE,
    Permission.MANAGE_OWN_TOKENS: Scope.ADMIN,
    Permission.REVIEW_POSTS: Scope.REVIEW,
    Permission.MANAGE_MEMBERS: Scope.ADMIN,
    Permission.EDIT_INSTITUTION: Scope.ADMIN,
    Permission.VIEW_AUDIT_LOG: Scope.ADMIN,
}

# Scopes a member of each role may put on a token.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    role: frozenset(PERMISSION_SCOPE[p] for p in perms) | {Scope.READ}
    for role, perms in ROLE_PERMISSIONS.items()
}


@dataclass(frozen=True)
class Actor:
    """Who is acting in an institution: an active member, through the web or a token."""

    membership: Membership
    token: ApiToken | None = None

    def can(self, permission: Permission) -> bool:
        return has_permission(self.membership, permission, self.token)


def has_permission(
    membership: Membership | None, permission: Permission, token: ApiToken | None = None
) -> bool:
    """Whether an active member (optionally acting through a token) holds a permission."""
    if membership is None or not membership.is_active:
        return False
    if permission not in ROLE_PERMISSIONS[membership.role]:
        return False
    return token is None or PERMISSION_SCOPE[permission] in token.scopes
