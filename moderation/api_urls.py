"""Routes of the review API, under /api/v1/ (see moderation.api)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from moderation import api

app_name = "moderation_api"

I = "institutions/<slug:institution_slug>/"  # noqa: E741 (the institution prefix of every route)

router = SimpleRouter(use_regex_path=False)
router.register(I + "review", api.ReviewViewSet, basename="review")
router.register(I + "lexicon", api.LexiconViewSet, basename="lexicon")

urlpatterns = [
    path(I + "policy", api.PolicyView.as_view(), name="policy"),
    path(I + "publishing/pause", api.PauseView.as_view(), name="pause"),
    path(I + "publishing/resume", api.ResumeView.as_view(), name="resume"),
    path(I + "members/<int:id>/trust", api.TrustView.as_view(), name="member-trust"),
    path(I + "members/<int:id>/untrust", api.UntrustView.as_view(), name="member-untrust"),
    path(I + "notices", api.NoticePreferencesView.as_view(), name="notices"),
    *router.urls,
]
