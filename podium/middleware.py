"""Django's CommonMiddleware, minus the slash-appending redirect for the API.

A redirect would turn a POST into a GET and lose its body; an API client gets a JSON 404 that
names the right address instead (podium.views.not_found).
"""

from django.http import HttpRequest
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware


class CommonMiddleware(DjangoCommonMiddleware):
    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if request.path_info.startswith("/api/"):
            return False
        return super().should_redirect_with_slash(request)
