"""Routes of feeds: the public pages and feeds (anyone), then the composer (members)."""

from django.urls import path, register_converter

from feeds.public import views as public
from feeds.views import composer

app_name = "feeds"


class HandleConverter:
    regex = r"[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,28}[a-zA-Z0-9])?"

    def to_python(self, value: str) -> str:
        return value.lower()

    def to_url(self, value: str) -> str:
        return value


class FeedFormatConverter:
    regex = r"atom|rss|json"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(HandleConverter, "handle")
register_converter(FeedFormatConverter, "feedformat")

I = "<slug:institution_slug>/"  # noqa: E741 (the institution prefix of every route below)

urlpatterns = [
    # Public, anonymous, cacheable.
    path("", public.landing, name="landing"),
    path("robots.txt", public.robots, name="robots"),
    path(I, public.institution, name="institution"),
    path(I + "staff/", public.staff, name="staff"),
    path(I + "sitemap.xml", public.sitemap, name="sitemap"),
    path(I + "feed.<feedformat:fmt>", public.institution_feed, name="institution-feed"),
    path(I + "@<handle:handle>/", public.profile, name="profile"),
    path(I + "@<handle:handle>/feed.<feedformat:fmt>", public.profile_feed, name="profile-feed"),
    path(I + "posts/<int:post_id>/", public.post, name="post"),
    # Post images follow their post (public while shown publicly, else members only).
    path(I + "media/<path:name>", public.post_image, name="post-image"),
    # The composer, for members.
    path(I + "posts/mine/", composer.my_posts, name="my-posts"),
    path(I + "posts/new/", composer.compose, name="compose"),
    path(I + "posts/preview/", composer.preview, name="preview"),
    path(I + "posts/media/", composer.upload_media, name="upload-media"),
    path(I + "posts/<int:post_id>/edit/", composer.edit, name="edit"),
    path(I + "posts/<int:post_id>/history/", composer.history, name="history"),
    path(I + "posts/<int:post_id>/<str:action>/", composer.post_action, name="post-action"),
]
