"""Routes of the review pages (members; each view checks the role it needs)."""

from django.urls import path

from moderation import views

app_name = "moderation"

I = "<slug:institution_slug>/review/"  # noqa: E741 (the prefix of every route below)

urlpatterns = [
    path(I, views.queue, name="queue"),
    path(I + "<int:post_id>/", views.review, name="review"),
    path(I + "<int:post_id>/approve/", views.decide_view("approve"), name="approve"),
    path(I + "<int:post_id>/reject/", views.decide_view("reject"), name="reject"),
    path(
        I + "<int:post_id>/request-changes/",
        views.decide_view("request_changes"),
        name="request-changes",
    ),
    path(I + "<int:post_id>/override/", views.decide_view("override"), name="override"),
    path(I + "<int:post_id>/retract/", views.decide_view("retract"), name="retract"),
    path(I + "policy/", views.policy, name="policy"),
    path(I + "policy/trusted/<int:membership_id>/", views.trust, name="trust"),
    path(I + "lexicon/", views.lexicon, name="lexicon"),
    path(I + "lexicon/<int:term_id>/remove/", views.remove_term, name="remove-term"),
    path(I + "publishing/", views.pause, name="pause"),
    path(I + "publishing/resume/", views.resume, name="resume"),
    path(I + "notifications/", views.notifications, name="notifications"),
]
