"""The composer (placeholder until written)."""

from django.http import Http404


def _todo(request, **kwargs):
    raise Http404


my_posts = compose = preview = upload_media = edit = history = post_action = _todo
