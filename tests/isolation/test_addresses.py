"""Addresses are built in one place: the base (``PODIUM_BASE_URL``) is put in front of a path
only by ``accounts.addresses``, and public pages' routes are filled in only by
``feeds.public.addresses``. A second builder would drift (two ``absolute_url``s did: one
resolved relative paths, the other did not) or take the host from the request.

These read the source (Python's ``ast``, not text search), so comments and docstrings that
name the setting do not count, and a builder spelled any way (``+``, an f-string, ``urljoin``,
``.format``, an alias of the base) does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APPS = ("accounts", "feeds", "crossposting", "moderation", "podium")
BASE_MODULE = "accounts/addresses.py"
PUBLIC_MODULE = "feeds/public/addresses.py"
PUBLIC_ROUTES = {
    "feeds:landing",
    "feeds:institution",
    "feeds:staff",
    "feeds:sitemap",
    "feeds:profile",
    "feeds:post",
    "feeds:institution-feed",
    "feeds:profile-feed",
    "feeds:post-image",
}
# Where a public route may still be reversed by name, and why.
PUBLIC_ROUTE_EXCEPTIONS = {
    # accounts imports no other app: the website check names the institution page by route.
    "accounts/websites.py",
}
# Where build_absolute_uri (the request's host) may be used, and why.
REQUEST_HOST_EXCEPTIONS = {
    # API paging links follow the request, as DRF's own paginators (accounts.api.pagination)
    # write them.
    "moderation/api.py",
}
# Calls through which the base is still "the base" (its value passed on, not yet joined).
_PASS_THROUGH = {"iri_to_uri", "str", "rstrip"}
_JOINING_CALLS = {"urljoin", "format", "join"}


def _sources() -> list[tuple[str, ast.Module]]:
    found = []
    for app in APPS:
        for path in sorted((REPO / app).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            if "/migrations/" in relative:
                continue
            found.append((relative, ast.parse(path.read_text(), relative)))
    return found


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _name_of(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def joins_of_base(tree: ast.AST) -> list[int]:
    """Lines where ``settings.PODIUM_BASE_URL`` is joined to something, or kept in a name
    (to be joined later)."""
    parents = _parents(tree)
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr == "PODIUM_BASE_URL"):
            continue
        current, parent = node, parents.get(node)
        # Climb through what passes the base on unchanged: .rstrip("/"), iri_to_uri(...).
        while True:
            if isinstance(parent, ast.Attribute) and parent.attr in _PASS_THROUGH:
                current, parent = parents[parent], parents.get(parents[parent])
            elif isinstance(parent, ast.Call) and _name_of(parent) in _PASS_THROUGH:
                current, parent = parent, parents.get(parent)
            else:
                break
        kept = isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is current
        if isinstance(parent, (ast.Tuple, ast.List)):  # "%s%s" % (base, path), "".join([...])
            parent = parents.get(parent)
        joined = kept or (
            isinstance(parent, (ast.BinOp, ast.FormattedValue))
            or (isinstance(parent, ast.Call) and _name_of(parent) in _JOINING_CALLS)
        )
        if joined:
            lines.append(node.lineno)
    return lines


def builders_defined(tree: ast.AST) -> list[int]:
    """Lines of functions named as absolute-address builders."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name.lstrip("_").startswith(("absolute_url", "absolute_uri", "absolute"))
    ]


def request_host_addresses(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name_of(node) == "build_absolute_uri"
    ]


def public_routes_reversed(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and _name_of(node) in {"reverse", "reverse_lazy"}
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value in PUBLIC_ROUTES
    ]


def test_only_accounts_addresses_puts_the_base_in_front_of_a_path():
    offenders = {
        path: lines
        for path, tree in _sources()
        if path != BASE_MODULE and (lines := joins_of_base(tree))
    }
    assert offenders == {}, "use accounts.addresses.absolute_url"


def test_no_other_module_defines_an_absolute_address_builder():
    offenders = {
        path: lines
        for path, tree in _sources()
        if path != BASE_MODULE
        # The template filter of the same name hands its path to accounts.addresses.
        and path != "accounts/templatetags/accounts_tags.py"
        and (lines := builders_defined(tree))
    }
    assert offenders == {}


def test_addresses_never_take_the_requests_host_outside_the_listed_exceptions():
    offenders = {
        path: lines
        for path, tree in _sources()
        if path not in REQUEST_HOST_EXCEPTIONS and (lines := request_host_addresses(tree))
    }
    assert offenders == {}, "addresses come from PODIUM_BASE_URL (accounts.addresses)"


def test_public_routes_are_filled_in_only_by_feeds_public_addresses():
    offenders = {
        path: lines
        for path, tree in _sources()
        if path != PUBLIC_MODULE
        and path not in PUBLIC_ROUTE_EXCEPTIONS
        and (lines := public_routes_reversed(tree))
    }
    assert offenders == {}, "use feeds.public.addresses.PublicAddresses"


def test_templates_build_no_address_from_the_base():
    offenders = [
        path.relative_to(REPO).as_posix()
        for app in APPS
        for path in (REPO / app).rglob("templates/**/*")
        if path.is_file()
        and any(word in path.read_text() for word in ("base_url }}", "PODIUM_BASE_URL"))
    ]
    assert offenders == [], "use the absolute_url filter (accounts_tags)"


@pytest.mark.parametrize(
    "source",
    [
        "x = settings.PODIUM_BASE_URL + path",
        "x = f'{settings.PODIUM_BASE_URL}{path}'",
        "x = urljoin(settings.PODIUM_BASE_URL + '/', path)",
        "base = settings.PODIUM_BASE_URL",
        "x = iri_to_uri(settings.PODIUM_BASE_URL) + path",
        "x = settings.PODIUM_BASE_URL.rstrip('/') + path",
        "x = '{}{}'.format(settings.PODIUM_BASE_URL, path)",
        "x = '%s%s' % (settings.PODIUM_BASE_URL, path)",
        "x = ''.join([settings.PODIUM_BASE_URL, path])",
    ],
)
def test_the_check_finds_a_builder_however_it_is_spelled(source):
    assert joins_of_base(ast.parse(source)) == [1]


@pytest.mark.parametrize(
    "source",
    [
        "host = urlsplit(settings.PODIUM_BASE_URL).hostname",
        "metadata = {'client_uri': settings.PODIUM_BASE_URL}",
        "origins = [settings.PODIUM_BASE_URL]",
    ],
)
def test_the_check_lets_the_base_itself_be_read(source):
    assert joins_of_base(ast.parse(source)) == []


def test_the_check_finds_a_second_absolute_url_and_a_public_route_by_name():
    tree = ast.parse(
        "def absolute_url(path):\n    return path\n"
        "link = reverse('feeds:post', kwargs={'post_id': 1})\n"
        "other = request.build_absolute_uri('/x/')\n"
    )
    assert builders_defined(tree) == [1]
    assert public_routes_reversed(tree) == [3]
    assert request_host_addresses(tree) == [4]
