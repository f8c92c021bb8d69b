"""Request middleware: the institution from the URL, the tenant transaction, and the language."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import ClassVar, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework.views import APIView

from accounts import second_factor
from accounts.api.errors import json_error
from accounts.auth import preloaded_user
from accounts.compiled import Param, columns_of, compiled_rows, instance_of
from accounts.models import AuditEvent, Institution, Membership, User
from accounts.routing import match_of
from accounts.services import institution_changed_handlers
from accounts.tenancy import public_read_context, tenant_context

T = TypeVar("T")

# How a view may be reached inside an institution (a view's ``tenant_access`` attribute):
#   public  anyone, anonymously; never touches the session (see accounts.publicread)
#   open    anyone, with a session (accepting an invitation, signing in)
#   member  active members only, checked here (the default: deny unless declared)
#   api     REST API views; DRF authenticates and accounts.api.access checks membership
ACCESS_LEVELS = ("public", "open", "member", "api")
INSTITUTION_KWARG = "institution_slug"


def view_access(view: Callable) -> str:
    """The access level a resolved view declares; undeclared views are members-only."""
    access = getattr(view, "tenant_access", None)
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if access is None and view_class is not None:
        access = getattr(view_class, "tenant_access", None)
        if access is None and issubclass(view_class, APIView):
            access = "api"
    return access or "member"


class PublicEntries:
    """What public pages read of an institution, kept per process: key -> value.

    A public page needs its institution before anything else, and looking it up cost one round
    trip of every anonymous request. An entry is used while it is provably current:

    - with the server cache on, while the institution's public version (which
      ``PublicCacheMiddleware`` reads anyway, in the same round trip as the page) is the one
      the entry was read under, for at most ``VERSIONED_SECONDS``; every change to what an
      institution shows sets a new version when it commits (``public_content_changed``), so no
      page is rendered (and stored) with an entry older than the change;
    - with it off (no version), for at most ``UNVERSIONED_SECONDS``: a change made in another
      process shows within that time, well inside the 2 s freshness guarantee.

    None (nothing found) is never stored, so made-up addresses cannot fill it.
    """

    UNVERSIONED_SECONDS = 1.0
    VERSIONED_SECONDS = 60.0
    LIMIT = 1000  # entries; beyond it the cache starts over (one lookup per entry)

    _every: ClassVar[list[PublicEntries]] = []

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[object, str | None, float]] = {}
        PublicEntries._every.append(self)

    def get(self, key: Hashable, version: str | None, load: Callable[[], T | None]) -> T | None:
        """The value of ``key``, from ``load()`` unless the stored one is current."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None:
            value, known, read_at = entry
            age = now - read_at
            if version is None and known is None and age < self.UNVERSIONED_SECONDS:
                return value
            if version is not None and version == known and age < self.VERSIONED_SECONDS:
                return value
        value = load()
        if value is None:
            self._entries.pop(key, None)
            return None
        if len(self._entries) >= self.LIMIT:
            self._entries.clear()
        self._entries[key] = (value, version, now)
        return value

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    @classmethod
    def clear_all(cls) -> None:
        """Forget every entry of every such cache (tests: each has institutions of its own)."""
        for entries in cls._every:
            entries.clear()


# Institutions by slug. ``update_institution`` also drops the entry in its own process when it
# commits (an ``institution_changed_handlers`` entry).
public_institutions = PublicEntries()


def _forget_changed_institution(institution: Institution, changed: dict) -> None:
    slug = institution.slug
    transaction.on_commit(lambda: public_institutions.forget(slug))


if _forget_changed_institution not in institution_changed_handlers:
    institution_changed_handlers.append(_forget_changed_institution)


# Institution ids by slug, for members' pages: only ever a guess, which the membership query
# checks (it reads the institution by this id and this slug, or nothing), so a stale entry costs
# one wasted transaction, never a wrong institution.
member_institution_ids: dict[str, int] = {}
MEMBER_INSTITUTION_IDS_LIMIT = 1000


def _signed_in_user_id(request: HttpRequest) -> int | None:
    """The user id the session names (not yet checked against the user: ``get_user`` does)."""
    try:
        return User._meta.pk.to_python(request.session[SESSION_KEY])
    except (KeyError, ValueError, TypeError, AttributeError):
        return None


_MEMBERSHIP = columns_of(Membership)
_USER = columns_of(User, "user__")
_INSTITUTION = columns_of(Institution, "institution__")


def _active_membership_query():
    newest_event = (
        AuditEvent.objects.filter(institution_id=OuterRef("institution_id"))
        .order_by("-sequence")
        .values("sequence")[:1]
    )
    return (
        Membership.objects.filter(
            institution__slug=Param("slug", Institution._meta.get_field("slug")),
            user_id=Param("user", Membership._meta.get_field("user_id")),
            status=Membership.Status.ACTIVE,
        )
        .annotate(audit_chain_head=Coalesce(Subquery(newest_event), 0))
        .values_list(*_MEMBERSHIP, *_USER, *_INSTITUTION, "audit_chain_head")[:1]
    )


def _active_membership(slug: str, user_id: int) -> tuple[Membership, int] | None:
    """The user's active membership in the institution in context (which must have this slug),
    with its user and institution, and the institution's audit chain head (what kept member
    pages are checked against, accounts.pagecache): one compiled query in place of four ORM
    queries. Shortcut, measured with bench.queue: see the reports in the commits adding it."""
    rows = compiled_rows(("active-membership",), _active_membership_query, slug=slug, user=user_id)
    if not rows:
        return None
    row = rows[0]
    first, second = len(_MEMBERSHIP), len(_MEMBERSHIP) + len(_USER)
    membership = instance_of(Membership, row[:first])
    membership.user = instance_of(User, row[first:second])
    membership.institution = instance_of(Institution, row[second:-1])
    return membership, row[-1]


class TenantMiddleware:
    """Resolve the institution of ``/<institution>/...`` and ``/api/v1/institutions/<...>/``.

    Inside an institution the whole request runs in ``tenant_context`` (one transaction, rolled
    back when the response is an error), except the anonymous public pages
    (``public_rows_only``), which read public rows without one. Members-only pages are checked
    here; an unknown institution and a non-member's request look the same: 404.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.institution = None
        request.membership = None
        match = match_of(request.path_info)
        if match is None:
            request.tenant_access = "public"
            return self.get_response(request)
        # Kept for the handler (podium.wsgi.Handler), which would resolve the address again.
        request.resolver_match = match
        access = view_access(match.func)
        request.tenant_access = access
        slug = match.kwargs.get(INSTITUTION_KWARG)
        if slug is None:
            return self.get_response(request)

        if getattr(match.func, "public_rows_only", False):
            return self._public(request, slug)
        if access == "member" and slug in member_institution_ids:
            response = self._signed_in_member(request, slug, member_institution_ids[slug])
            if response is not None:
                return response
            member_institution_ids.pop(slug, None)
        institution = Institution.objects.filter(slug=slug).first()
        if institution is None:
            return self._not_found(request, access)
        if len(member_institution_ids) >= MEMBER_INSTITUTION_IDS_LIMIT:
            member_institution_ids.clear()
        member_institution_ids[slug] = institution.id
        request.institution = institution
        with tenant_context(institution.id):
            if access == "member":
                if not request.user.is_authenticated:
                    return redirect_to_login(quote(request.get_full_path(), safe="/?=&"))
                membership = Membership.objects.filter(
                    user=request.user, status=Membership.Status.ACTIVE
                ).first()
                if membership is None:
                    return self._not_found(request, access)
                # The institution is already loaded: no second query for membership.institution.
                membership.institution = institution
                request.membership = membership
            response = self._respond(request)
        return response

    def _respond(self, request: HttpRequest) -> HttpResponse:
        """The view's response inside the tenant transaction."""
        if second_factor.is_required_for(request.membership) and not request.user.is_verified():
            # The institution requires a second factor of its reviewers and admins.
            path = request.get_full_path()
            if second_factor.has_second_factor(request.user):
                return redirect(second_factor.verify_url(path))
            return redirect(second_factor.setup_url(path))
        response = self.get_response(request)
        if response.status_code >= 400:
            # Nothing of a failed request is kept (services roll back their own work too).
            transaction.set_rollback(True)
        return response

    def _signed_in_member(
        self, request: HttpRequest, slug: str, institution_id: int
    ) -> HttpResponse | None:
        """A members-only page for a signed-in member: session, then membership, user and
        institution in one query inside the tenant transaction. None when that finds no
        active membership (not a member, or the slug no longer names this institution): the
        caller then takes the long way, which decides between 404 and the sign-in page."""
        user_id = _signed_in_user_id(request)
        if user_id is None:
            return None
        with tenant_context(institution_id):
            found = _active_membership(slug, user_id)
            if found is None:
                return None
            membership, request.audit_chain_head = found
            with preloaded_user(membership.user):
                # Django checks the session against the row (password hash, active account);
                # a session that fails is flushed, and the long way sends to the sign-in page.
                signed_in = request.user.is_authenticated
            if not signed_in or request.user.pk != membership.user_id:
                return None
            request.institution = membership.institution
            request.membership = membership
            return self._respond(request)

    def _public(self, request: HttpRequest, slug: str) -> HttpResponse:
        """An anonymous public page: the institution from the per-process cache, and no tenant
        transaction (``public_read_context``: the page can read public rows, nothing else)."""
        institution = public_institutions.get(
            slug,
            getattr(request, "public_version", None),
            lambda: Institution.objects.filter(slug=slug).first(),
        )
        if institution is None:
            return self._not_found(request, "public")
        request.institution = institution
        with public_read_context(institution.id):
            return self.get_response(request)

    def _not_found(self, request: HttpRequest, access: str) -> HttpResponse:
        if access == "api":
            return json_error(404, "not_found", _("Not found."))
        raise Http404(_("There is no page at this address."))


class LanguageMiddleware:
    """Choose the language of the response.

    Public pages: ``?lang=`` when given, else the institution's language; the URL alone decides,
    so shared caches need no ``Vary``. Other pages: the signed-in user's choice, else ``?lang=``,
    else the browser's ``Accept-Language``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        requested = request.GET.get("lang")
        requested = requested if requested in self.supported else None
        negotiated = False
        if getattr(request, "tenant_access", "public") == "public":
            institution = getattr(request, "institution", None)
            language = requested or (institution.locale if institution else settings.LANGUAGE_CODE)
        else:
            user = request.user
            language = (user.language if user.is_authenticated else "") or requested
            if not language:
                language = translation.get_language_from_request(request)
                negotiated = True
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        response.headers.setdefault("Content-Language", language)
        if negotiated:
            patch_vary_headers(response, ("Accept-Language",))
        return response
