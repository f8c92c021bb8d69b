"""Routes of the deliveries and network accounts APIs, under /api/v1/ (see crossposting.api and
crossposting.connect.api)."""

from rest_framework.routers import SimpleRouter

from crossposting import api
from crossposting.connect import api as connect_api

app_name = "crossposting_api"

I = "institutions/<slug:institution_slug>/"  # noqa: E741 (the institution prefix of every route)

router = SimpleRouter(use_regex_path=False)
router.register(I + "deliveries", api.DeliveryViewSet, basename="delivery")
router.register(I + "posts/<int:post_id>/targets", api.PostTargetViewSet, basename="post-target")
router.register(I + "networks", connect_api.NetworkAccountViewSet, basename="network-account")

urlpatterns = router.urls
