"""Public pages (placeholder until written)."""

from django.http import Http404

from accounts.publicread import public_view


@public_view
def _todo(request, **kwargs):
    raise Http404


landing = robots = institution = staff = sitemap = institution_feed = profile = _todo
profile_feed = post = _todo
