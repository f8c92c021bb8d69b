"""Every action of the web UI has an API operation (issue 16, item 1).

The web actions are derived from the URLconf: every route outside the public pages and the API
whose view takes a method that changes state (POST, PUT, PATCH, DELETE), as its
``require_http_methods`` decorator or its class declares, one action per value of a route's
action parameter where the route has one. The API operations come from the schema. Each web
action is either mapped to the API operations that do the same (``API_FOR_WEB``) or listed with
a reason (``NOT_IN_THE_API``); a new web action in neither table fails the suite, and so does a
table row naming a web action or an API operation that no longer exists.
"""

from __future__ import annotations

import inspect

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.generic.edit import ProcessFormView
from drf_spectacular.generators import SchemaGenerator

from accounts.middleware import view_access
from feeds.views import composer

PREFIX = "/api/v1/institutions/{institution_slug}/"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# Route prefixes that are not the web UI of members and administrators.
OUTSIDE_THE_WEB_UI = {
    "api/": "the API itself",
    "ops/": "the platform operator's Django admin, not an institution's UI",
}
# Views that do not declare their methods but answer 405 to all but GET and HEAD themselves
# (checked below by sending them a POST): route name -> an address of it.
READ_ONLY_BY_HAND = {"member-post-image": "/media/posts/nothing.png"}
# Routes whose action is a URL parameter: name -> (parameter, every value the view takes).
ACTION_PARAMETERS = {"feeds:post-action": ("action", tuple(composer.ACTIONS))}

# web action -> the API operations (method, path under the institution or whole) that do it.
API_FOR_WEB: dict[str, list[tuple[str, str]]] = {
    # Profile, tokens.
    "POST accounts:profile": [("PATCH", "profile")],
    "POST accounts:tokens": [("POST", "tokens/")],
    "POST accounts:revoke-token": [("DELETE", "tokens/{id}/")],
    # The person's own settings; the language switch saves the same setting (its language).
    "POST accounts:settings": [("PATCH", "me/settings")],
    "POST accounts:set-language": [("PATCH", "me/settings")],
    # Notices a member receives by e-mail.
    "POST moderation:notifications": [("PATCH", "notices")],
    # Members and invitations.
    "POST accounts:members": [("POST", "invitations/")],
    "POST accounts:change-role": [("PATCH", "members/{id}/")],
    "POST accounts:retire-member": [("POST", "members/{id}/retire")],
    "POST accounts:revoke-invitation": [("DELETE", "invitations/{id}/")],
    # The institution.
    "POST accounts:institution-settings": [("PATCH", "institution")],
    "POST accounts:website-check": [("POST", "institution/website-check")],
    # Webhooks.
    "POST accounts:webhooks": [("POST", "webhooks/endpoints/")],
    "POST accounts:webhook-endpoint": [("PATCH", "webhooks/endpoints/{id}/")],
    "POST accounts:webhook-rotate-secret": [("POST", "webhooks/endpoints/{id}/rotate-secret")],
    "POST accounts:webhook-delete": [("DELETE", "webhooks/endpoints/{id}/")],
    "POST accounts:webhook-send-again": [("POST", "webhooks/events/{id}/send-again")],
    # Posts: the composer saves a draft (and submits it, with the submit intent).
    "POST feeds:compose": [("POST", "posts/"), ("POST", "posts/{id}/submit/")],
    "POST feeds:edit": [("PATCH", "posts/{id}/"), ("POST", "posts/{id}/submit/")],
    "POST feeds:upload-media": [("POST", "media/")],
    "POST crossposting:targets": [("POST", "posts/{post_id}/targets/")],
    "POST feeds:post-action[submit]": [("POST", "posts/{id}/submit/")],
    "POST feeds:post-action[withdraw]": [("POST", "posts/{id}/withdraw/")],
    "POST feeds:post-action[delete]": [("DELETE", "posts/{id}/")],
    "POST feeds:post-action[discard_correction]": [("POST", "posts/{id}/discard-correction/")],
    "POST feeds:post-action[retract]": [("POST", "posts/{id}/retract/")],
    # Review and decisions.
    "POST moderation:approve": [("POST", "review/{id}/approve/")],
    "POST moderation:reject": [("POST", "review/{id}/reject/")],
    "POST moderation:request-changes": [("POST", "review/{id}/request-changes/")],
    "POST moderation:override": [("POST", "review/{id}/override/")],
    "POST moderation:retract": [("POST", "review/{id}/retract/")],
    # Policy, lexicon, publishing.
    "POST moderation:policy": [("PATCH", "policy")],
    # The web's one action takes trusted=1 or 0; the API has one operation for each.
    "POST moderation:trust": [("POST", "members/{id}/trust"), ("POST", "members/{id}/untrust")],
    "POST moderation:lexicon": [("POST", "lexicon/")],
    "POST moderation:remove-term": [("DELETE", "lexicon/{id}/")],
    "POST moderation:pause": [("POST", "publishing/pause")],
    "POST moderation:resume": [("POST", "publishing/resume")],
    # Deliveries.
    "POST crossposting:retry": [("POST", "deliveries/{id}/retry/")],
    # Network accounts (crossposting.connect).
    "POST crossposting:connect": [("POST", "networks/connect/")],
    "POST crossposting:connect-bluesky": [("POST", "networks/bluesky/")],
    "POST crossposting:account-reauthorise": [("POST", "networks/{id}/reauthorise/")],
    "POST crossposting:account-disconnect": [("POST", "networks/{id}/disconnect/")],
    "POST crossposting:account-default": [("POST", "networks/{id}/default/")],
}

_SESSION = "session-only by nature: it signs a person in or out, or sets up how they sign in"
# web action -> why the API has no operation for it.
NOT_IN_THE_API: dict[str, str] = {
    "POST accounts:login": _SESSION,
    "POST accounts:logout": _SESSION,
    "POST accounts:password-change": _SESSION,
    "POST accounts:password-reset": _SESSION,
    "POST accounts:password-reset-confirm": _SESSION,
    "POST accounts:second-factor": _SESSION + " (second-factor enrolment)",
    "POST accounts:second-factor-verify": _SESSION + " (the code after the password)",
    "POST otp_webauthn:credential-registration-begin": _SESSION + " (passkey enrolment)",
    "POST otp_webauthn:credential-registration-complete": _SESSION + " (passkey enrolment)",
    "POST otp_webauthn:credential-authentication-begin": _SESSION + " (passkey sign-in)",
    "POST otp_webauthn:credential-authentication-complete": _SESSION + " (passkey sign-in)",
    "POST accounts:accept-invitation": (
        "the invitee has no token yet: accepting is how a person gets their sign-in, with the "
        "secret from the e-mail"
    ),
    "POST feeds:preview": (
        "changes nothing: the composer's live preview of unsaved text (the API returns the "
        "rendered text with each saved revision)"
    ),
}


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern, namespace


def state_changing_methods(view) -> set[str] | None:
    """The methods other than GET/HEAD a view takes, or None when it does not declare them."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return {
            name.upper()
            for name in view_class.http_method_names
            if hasattr(view_class, name)
            and name.upper() not in SAFE_METHODS
            # A form view's PUT is its POST under another name.
            and getattr(view_class, name) is not ProcessFormView.put
        }
    function = view
    while inspect.isfunction(function):
        methods = inspect.getclosurevars(function).nonlocals.get("request_method_list")
        if methods is not None:
            return set(methods) - SAFE_METHODS
        function = getattr(function, "__wrapped__", None)
    return None


def web_actions() -> tuple[set[str], list[str]]:
    """Every web action, and the routes whose methods cannot be told (undeclared views)."""
    actions: set[str] = set()
    undeclared: list[str] = []
    for route, pattern, namespace in _walk(get_resolver().url_patterns):
        if route.startswith(tuple(OUTSIDE_THE_WEB_UI)) or route.startswith("^media/"):
            continue  # ^media/: uploads served by Django outside production, read-only
        view = pattern.callback
        if view_access(view) == "public":
            continue  # public pages answer GET and HEAD only (accounts.publicread)
        name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
        methods = state_changing_methods(view)
        if methods is None and pattern.name in READ_ONLY_BY_HAND:
            continue
        if methods is None:
            undeclared.append(f"{name} ({route})")
            continue
        for method in sorted(methods):
            if name in ACTION_PARAMETERS:
                _parameter, values = ACTION_PARAMETERS[name]
                actions.update(f"{method} {name}[{value}]" for value in values)
            else:
                actions.add(f"{method} {name}")
    return actions, undeclared


def api_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_web_view_declares_the_methods_it_takes():
    """Otherwise this file cannot tell whether the view is an action."""
    _actions, undeclared = web_actions()
    assert undeclared == []


@pytest.mark.django_db
@pytest.mark.parametrize("address", sorted(READ_ONLY_BY_HAND.values()))
def test_the_views_that_check_their_methods_by_hand_refuse_a_post(client, address):
    assert client.post(address).status_code == 405


def test_every_web_action_has_an_api_operation_or_a_reason():
    actions, _undeclared = web_actions()
    unlisted = sorted(actions - set(API_FOR_WEB) - set(NOT_IN_THE_API))
    assert unlisted == [], "map them to API operations in API_FOR_WEB or give a reason"


def test_the_tables_name_only_web_actions_that_exist_and_each_once():
    actions, _undeclared = web_actions()
    assert sorted(set(API_FOR_WEB) - actions) == []
    assert sorted(set(NOT_IN_THE_API) - actions) == []
    assert set(API_FOR_WEB) & set(NOT_IN_THE_API) == set()
    assert all(reason.strip() for reason in NOT_IN_THE_API.values())


def test_every_mapped_api_operation_is_in_the_schema():
    operations = api_operations()
    stale = sorted(
        (action, operation)
        for action, mapped in API_FOR_WEB.items()
        for operation in mapped
        if operation not in operations
    )
    assert stale == []
    assert all(API_FOR_WEB.values())


def test_the_derivation_finds_the_actions_of_every_part_of_the_web_ui():
    """The walk itself works: it sees member, admin, review, network and composer actions."""
    actions, _undeclared = web_actions()
    for expected in (
        "POST accounts:profile",
        "POST accounts:change-role",
        "POST moderation:approve",
        "POST crossposting:retry",
        "POST feeds:post-action[withdraw]",
        "POST accounts:login",
    ):
        assert expected in actions
    # Pages that only show something are not actions.
    assert not {a for a in actions if a.endswith((" accounts:home", " moderation:queue"))}
