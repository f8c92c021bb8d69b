"""Request middleware: the institution from the URL, the tenant transaction, and the language."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework.views import APIView

from accounts import second_factor
from accounts.api.errors import json_error
from accounts.models import Institution, Membership
from accounts.tenancy import tenant_context

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


class TenantMiddleware:
    """Resolve the institution of ``/<institution>/...`` and ``/api/v1/institutions/<...>/``.

    Inside an institution the whole request runs in ``tenant_context`` (one transaction, rolled
    back when the response is an error). Members-only pages are checked here; an unknown
    institution and a non-member's request look the same: 404.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.institution = None
        request.membership = None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            request.tenant_access = "public"
            return self.get_response(request)
        access = view_access(match.func)
        request.tenant_access = access
        slug = match.kwargs.get(INSTITUTION_KWARG)
        if slug is None:
            return self.get_response(request)

        institution = Institution.objects.filter(slug=slug).first()
        if institution is None:
            return self._not_found(request, access)
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
                if second_factor.is_required_for(membership) and not request.user.is_verified():
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
