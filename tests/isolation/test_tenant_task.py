"""Background work runs inside the institution named by the task, on a real Celery worker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from accounts.tenancy import tenant_context
from feeds import services
from feeds.models import Post, PostState
from feeds.services import PostContent
from feeds.tasks import publish_due, publish_due_posts
from podium.celery import app
from tests.conftest import Cast


@pytest.fixture(scope="module")
def celery_worker_thread():
    """One real worker for the module, on the configured broker, starting from an empty queue."""
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20) as running:
        yield running


@pytest.fixture
def worker(celery_worker_thread, transactional_db):
    return celery_worker_thread


def _scheduled_post(side, when):
    post = services.create_post(side.author, PostContent("Concert tonight", "en"), publish_at=when)
    post = services.submit_post(post, side.author)
    return services.approve_post(post, by=side.reviewer)


def _state(post) -> str:
    with tenant_context(post.institution_id):
        return Post.objects.get(id=post.id).state


def _wait_for(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_sweeper_on_a_real_worker_publishes_due_posts_of_each_institution(worker):
    cast = Cast.create()
    a_post = _scheduled_post(cast.a, timezone.now() + timedelta(minutes=5))
    b_post = _scheduled_post(cast.b, timezone.now() + timedelta(minutes=5))
    with tenant_context(cast.a.institution.id):
        Post.objects.filter(id=a_post.id).update(publish_at=timezone.now() - timedelta(seconds=1))

    publish_due_posts.delay()

    assert _wait_for(lambda: _state(a_post) == PostState.PUBLISHED)
    assert _state(b_post) == PostState.APPROVED  # not due yet: B's post waits


def test_tenant_task_acts_only_for_the_institution_it_names(worker):
    cast = Cast.create()
    a_post = _scheduled_post(cast.a, timezone.now() + timedelta(minutes=5))
    with tenant_context(cast.a.institution.id):
        Post.objects.filter(id=a_post.id).update(publish_at=timezone.now() - timedelta(seconds=1))

    publish_due.apply_async(kwargs={"institution_id": cast.b.institution.id})
    time.sleep(2)
    assert _state(a_post) == PostState.APPROVED
    publish_due.apply_async(kwargs={"institution_id": cast.a.institution.id})
    assert _wait_for(lambda: _state(a_post) == PostState.PUBLISHED)


def test_tenant_task_refuses_to_run_without_an_institution():
    with pytest.raises(TypeError, match="institution_id"):
        publish_due.apply(kwargs={}).get()
    with pytest.raises(TypeError, match="institution_id"):
        publish_due.apply(kwargs={"institution_id": "1"}).get()
