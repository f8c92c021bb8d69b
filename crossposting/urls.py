"""Web pages of cross-posting, inside an institution."""

from django.urls import path

from crossposting import views

app_name = "crossposting"

urlpatterns = [
    path("<slug:institution_slug>/deliveries/", views.dashboard, name="dashboard"),
    path(
        "<slug:institution_slug>/deliveries/posts/<int:post_id>/",
        views.post_deliveries,
        name="post",
    ),
    path(
        "<slug:institution_slug>/deliveries/<int:delivery_id>/retry",
        views.retry,
        name="retry",
    ),
]
