"""Images and token refresh through the delivery engine (``crossposting.delivery``): a published
post's image reaches each network with its alt text (Threads downloads it from the site's public
address, here the live test server), and two workers meeting one account's expired token at the
same moment send one refresh between them."""

from __future__ import annotations

import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from accounts.tenancy import tenant_context
from crossposting import delivery, services
from crossposting.models import NetworkAccount
from feeds import services as feeds
from feeds.models import PostState
from feeds.services import AttachmentInput, PostContent
from tests.conftest import postgres_only
from tests.images import png_bytes

ALT = "Die Theater-AG probt auf der Bühne; links der Vorhang, rechts das Bühnenbild"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.mark.parametrize("network", ["threads", "x", "linkedin", "bluesky", "mastodon"])
def test_a_published_post_with_an_image_arrives_with_its_alt_text(
    stage, media_root, live_server, settings, network
):
    settings.PODIUM_BASE_URL = live_server.url  # where Threads downloads the image from
    side = stage.cast.a
    media = feeds.upload_media(side.author, png_bytes((100, 70), "teal"))
    content = PostContent("Generalprobe.", "de", attachments=[AttachmentInput(media.id, ALT)])
    post = feeds.create_post(side.author, content)
    services.choose_targets(post, [stage.accounts[network]], by=side.author)
    post = feeds.submit_post(post, side.author)
    if post.state == PostState.SUBMITTED:
        post = feeds.approve_post(post, by=side.reviewer)

    stage.run()

    [delivery] = stage.deliveries(post)
    assert delivery.state == "sent", delivery.last_error
    fake = stage.fakes[network]
    with default_storage.open(media.image.name, "rb") as handle:
        data = handle.read()
    if network == "threads":
        [image] = fake.media[delivery.remote_id]["images"]
        assert (image["alt_text"], image["data"]) == (ALT, data)
    elif network == "x":
        [media_id] = fake.tweets[delivery.remote_id]["media"]
        assert (fake.media[media_id]["alt"], fake.media[media_id]["size"]) == (ALT, len(data))
    elif network == "linkedin":
        [item] = fake.posts[delivery.remote_id]["media"]
        assert item["altText"] == ALT and fake.images[item["id"]]["size"] == len(data)
    elif network == "mastodon":
        [attachment] = fake.statuses[delivery.remote_id]["media_attachments"]
        assert fake.media[attachment["id"]]["description"] == ALT
    else:
        [image] = fake.records[delivery.remote_id]["value"]["embed"]["images"]
        assert image["alt"] == ALT and fake.blobs[image["image"]["ref"]["$link"]] == data


@postgres_only
def test_two_workers_sending_for_one_expired_account_refresh_once_and_both_posts_go_out(
    stage, settings
):
    """Through the delivery engine: two deliveries of one X account, each in its own worker
    thread, meet the expired token at the same moment."""
    fake = stage.fakes["x"]
    first = stage.publish("Sports day moved to Friday", networks=["x"])
    second = stage.publish("Library open until six", networks=["x"])
    account = stage.accounts["x"]
    for token, user in list(fake.access.items()):
        if user == account.remote_user_id:
            fake.expire(token)
    calls = fake.refresh_calls
    fake.refresh_delay, fake.refused_together = 0.3, threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def worker(delivery_id: int) -> None:
        try:
            delivery.deliver(delivery_id, stage.institution.id)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    ids = [d.id for post in (first, second) for d in stage.deliveries(post)]
    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        fake.refresh_delay, fake.refused_together = 0.0, None

    assert not errors, errors
    assert fake.refresh_calls - calls == 1
    rows = [d for post in (first, second) for d in stage.deliveries(post)]
    assert [d.state for d in rows] == ["sent", "sent"], [d.last_error for d in rows]
    assert {fake.tweets[d.remote_id]["text"] for d in rows} == {d.payload["text"] for d in rows}
    with tenant_context(stage.institution.id):
        row = NetworkAccount.objects.get(id=account.id)
    assert row.status == NetworkAccount.Status.ACTIVE
    assert row.credentials_version == account.credentials_version + 1
    assert services.account_credentials(row)["access_token"] in fake.access
