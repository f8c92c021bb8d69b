"""Routes of the deliveries API, under /api/v1/ (see crossposting.api)."""

from rest_framework.routers import SimpleRouter

from crossposting import api

app_name = "crossposting_api"

I = "institutions/<slug:institution_slug>/"  # noqa: E741 (the institution prefix of every route)

router = SimpleRouter(use_regex_path=False)
router.register(I + "deliveries", api.DeliveryViewSet, basename="delivery")

urlpatterns = router.urls
