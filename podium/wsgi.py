"""WSGI entry point for gunicorn."""

import os

import django
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest
from django.urls import ResolverMatch

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podium.settings")


class Handler(WSGIHandler):
    """Django's WSGI handler, resolving each address once.

    ``accounts.middleware.TenantMiddleware`` resolves the address before the view runs (it
    needs the view's access level and the institution) and keeps the match on the request;
    Django's handler resolved it a second time, walking the URL patterns again (a permalink
    passes every members' route of accounts and crossposting first). A request whose URLconf
    was changed on the way (``request.urlconf``) is resolved as Django does.
    """

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        match = request.resolver_match
        if match is not None and not hasattr(request, "urlconf"):
            return match
        return super().resolve_request(request)


def _application() -> Handler:
    # What django.core.wsgi.get_wsgi_application does, with this handler.
    django.setup(set_prefix=False)
    return Handler()


application = _application()
