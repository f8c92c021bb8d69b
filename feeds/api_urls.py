"""Routes of the posts API, under /api/v1/ (see feeds.api)."""

from rest_framework.routers import SimpleRouter

from feeds import api

app_name = "feeds_api"

I = "institutions/<slug:institution_slug>/"  # noqa: E741 (the institution prefix of every route)

router = SimpleRouter(use_regex_path=False)
router.register(I + "posts", api.PostViewSet, basename="post")
router.register(I + "media", api.MediaViewSet, basename="media")

urlpatterns = router.urls
