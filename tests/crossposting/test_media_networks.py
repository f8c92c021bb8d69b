"""Images with alt text on X, LinkedIn, Threads (and Bluesky's fake), each the network's own way,
against the fake networks: X's v2 media upload with processing status and metadata, LinkedIn's
initializeUpload and PUT, Threads' containers that Meta fills by downloading the image from its
public address (here: from the test's live server, as Meta would from the site)."""

from __future__ import annotations

import io
import os
import random

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from crossposting.clients import Account, Result, client_for
from crossposting.clients import x as x_client
from feeds import services as feeds
from feeds.models import PostState
from feeds.services import AttachmentInput, PostContent
from tests.conftest import Cast
from tests.images import png_bytes

ALT = "Die Theater-AG probt auf der Bühne; links der Vorhang, rechts das Bühnenbild"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def stored(name: str, data: bytes) -> str:
    return default_storage.save(name, ContentFile(data))


def noise_png(size: tuple[int, int]) -> bytes:
    """A PNG that does not compress: large in bytes for its size."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def account(fakes, network: str, slug: str = "") -> Account:
    fake = fakes[network]
    if network == "x":
        user, access, refresh = fake.add_account()
        credentials = {"access_token": access, "refresh_token": refresh}
    elif network == "bluesky":
        handle = f"media-{random.getrandbits(32)}.test"
        user = fake.add_account(handle, "abcd-efgh-ijkl-mnop")
        credentials = {"identifier": handle, "password": "abcd-efgh-ijkl-mnop"}
    elif network in ("threads", "mastodon"):
        user, token = fake.add_account("school")
        credentials = {"access_token": token}
    else:
        user, token = fake.add_account()
        credentials = {"access_token": token}
    return Account(
        id=1,
        institution_id=1,
        network=network,
        handle="school",
        base_url=fake.base_url,
        remote_user_id=user,
        credentials=credentials,
        institution_slug=slug,
    )


def payload(text: str, images: list[tuple[str, str]], network: str = "x") -> dict:
    part = {
        "text": text,
        "facets": [],
        "images": [{"url_or_path": name, "alt_text": alt} for name, alt in images],
        "extra": {},
        "language": "de",
    }
    if network == "bluesky":
        part |= {
            "rkey": "3" + "".join(random.choices("234567abcdefghij", k=12)),
            "created_at": "2026-12-07T12:00:00.000Z",
            "extra": {
                "embed": {
                    "$type": "app.bsky.embed.images",
                    "images": [{"alt": alt, "image": name} for name, alt in images],
                }
            },
        }
    return part


def send(client, part: dict, progress: dict | None = None):
    progress = {} if progress is None else progress
    return client.create(part, key="k", reply_to=None, progress=progress, remember=progress.update)


# X ----------------------------------------------------------------------------------------------


def test_an_image_goes_to_x_with_its_category_and_alt_text(fakes, media_root):
    fake = fakes["x"]
    name = stored("posts/stage.png", png_bytes((120, 80)))

    outcome = send(client_for(account(fakes, "x"), timeout=5), payload("Probe", [(name, ALT)]))

    assert outcome.result == Result.SENT, outcome.message
    [media_id] = fake.tweets[outcome.remote_id]["media"]
    assert fake.media[media_id]["alt"] == ALT
    assert fake.media[media_id]["type"] == "image/png"


def test_x_processing_is_polled_until_it_succeeds(fakes, media_root):
    fake = fakes["x"]
    fake.media_polls, fake.check_after_secs = 3, 0
    try:
        name = stored("posts/slow.png", png_bytes())
        outcome = send(client_for(account(fakes, "x"), timeout=5), payload("Lang", [(name, ALT)]))
    finally:
        fake.media_polls, fake.check_after_secs = 0, 1

    assert outcome.result == Result.SENT, outcome.message
    [media_id] = fake.tweets[outcome.remote_id]["media"]
    assert fake.media[media_id]["state"] == "succeeded"


def test_x_processing_that_fails_is_a_permanent_failure_with_the_reason(fakes, media_root):
    fake = fakes["x"]
    fake.media_polls, fake.media_fails, fake.check_after_secs = 1, True, 0
    try:
        name = stored("posts/bad.png", png_bytes())
        outcome = send(client_for(account(fakes, "x"), timeout=5), payload("Kaputt", [(name, "")]))
    finally:
        fake.media_polls, fake.media_fails, fake.check_after_secs = 0, False, 1

    assert outcome.result == Result.FAILED
    assert "X could not process an image" in outcome.message
    assert "Unsupported or corrupt media" in outcome.message


def test_x_processing_longer_than_the_wait_is_retried_without_a_second_upload(
    fakes, media_root, monkeypatch
):
    fake = fakes["x"]
    monkeypatch.setattr(x_client, "MEDIA_WAIT_SECONDS", 0.3)
    fake.media_polls, fake.check_after_secs = 10**6, 0
    client = client_for(account(fakes, "x"), timeout=5)
    part, progress = payload("Geduld", [(stored("posts/wait.png", png_bytes()), ALT)]), {}
    try:
        first = send(client, part, progress)
    finally:
        fake.media_polls, fake.check_after_secs = 0, 1
    uploads = len(fake.media)
    assert first.result == Result.RETRY and "still processing" in first.message
    with fake.lock:
        fake.media[progress["media_pending"]]["polls_left"] = 1  # X finishes meanwhile

    second = send(client, part, progress)

    assert second.result == Result.SENT, second.message
    assert len(fake.media) == uploads, "the upload of the first try was used"
    assert fake.tweets[second.remote_id]["media"] == [progress["media_ids"][0]]
    assert fake.media[progress["media_ids"][0]]["alt"] == ALT


def test_an_image_over_x_size_limit_is_made_smaller_and_still_arrives(fakes, media_root):
    fake = fakes["x"]
    large = noise_png((1500, 1300))
    assert len(large) > fake.image_limit
    name = stored("posts/large.png", large)

    outcome = send(client_for(account(fakes, "x"), timeout=5), payload("Groß", [(name, ALT)]))

    assert outcome.result == Result.SENT, outcome.message
    [media_id] = fake.tweets[outcome.remote_id]["media"]
    assert fake.media[media_id]["type"] == "image/jpeg"
    assert fake.media[media_id]["size"] <= fake.image_limit
    assert fake.media[media_id]["w"] / fake.media[media_id]["h"] == pytest.approx(15 / 13, 0.01)


def test_a_file_that_is_not_a_picture_fails_with_a_reason_and_posts_nothing(fakes, media_root):
    fake = fakes["x"]
    name = stored("posts/notes.png", b"%PDF-1.4 not a picture")
    before = fake.created

    outcome = send(client_for(account(fakes, "x"), timeout=5), payload("PDF", [(name, ALT)]))

    assert outcome.result == Result.FAILED and "not a picture" in outcome.message
    assert fake.created == before


# LinkedIn ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 3])
def test_images_go_to_linkedin_through_the_images_api_with_alt_text(fakes, media_root, count):
    fake = fakes["linkedin"]
    fake.image_polls = 2
    try:
        images = [(stored(f"posts/li{i}.png", png_bytes()), f"{ALT} {i}") for i in range(count)]
        outcome = send(client_for(account(fakes, "linkedin"), timeout=5), payload("Bühne", images))
    finally:
        fake.image_polls = 0

    assert outcome.result == Result.SENT, outcome.message
    post = fake.posts[outcome.remote_id]
    assert [m["altText"] for m in post["media"]] == [alt for _n, alt in images]
    assert all(fake.images[m["id"]]["status"] == "AVAILABLE" for m in post["media"])


def test_an_image_linkedin_cannot_process_fails_the_post_with_the_reason(fakes, media_root):
    fake = fakes["linkedin"]
    fake.image_fails = True
    try:
        name = stored("posts/li-bad.png", png_bytes())
        outcome = send(
            client_for(account(fakes, "linkedin"), timeout=5), payload("X", [(name, "")])
        )
    finally:
        fake.image_fails = False

    assert outcome.result == Result.FAILED
    assert "PROCESSING_FAILED" in outcome.message


# Threads ----------------------------------------------------------------------------------------


def published_images(cast: Cast, count: int) -> list[tuple[str, str, bytes]]:
    """A published post with ``count`` images: (storage name, alt text, the stored bytes)."""
    side = cast.a
    uploads = [
        feeds.upload_media(side.author, png_bytes((90 + i, 60), "teal")) for i in range(count)
    ]
    content = PostContent(
        "Premiere heute.",
        "de",
        attachments=[AttachmentInput(m.id, f"{ALT} {i}") for i, m in enumerate(uploads)],
    )
    post = feeds.submit_post(feeds.create_post(side.author, content), side.author)
    if post.state == PostState.SUBMITTED:
        post = feeds.approve_post(post, by=side.reviewer)
    out = []
    for i, media in enumerate(uploads):
        with default_storage.open(media.image.name, "rb") as handle:
            out.append((media.image.name, f"{ALT} {i}", handle.read()))
    return out


@pytest.mark.parametrize("count", [1, 2])
def test_threads_downloads_a_published_image_from_its_public_address(
    transactional_db, fakes, media_root, live_server, settings, count
):
    settings.PODIUM_BASE_URL = live_server.url
    fake = fakes["threads"]
    cast = Cast.create()
    images = published_images(cast, count)
    client = client_for(account(fakes, "threads", cast.a.institution.slug), timeout=5)

    outcome = send(client, payload("Premiere", [(name, alt) for name, alt, _d in images]))

    assert outcome.result == Result.SENT, outcome.message
    media = fake.media[outcome.remote_id]
    assert media["kind"] == ("IMAGE" if count == 1 else "CAROUSEL")
    assert [(i["alt_text"], i["data"]) for i in media["images"]] == [
        (alt, data) for _n, alt, data in images
    ]
    assert all(url.startswith(live_server.url + "/") for url in fake.downloads[-count:])


def test_a_threads_image_that_cannot_be_downloaded_fails_with_the_reason(
    fakes, media_root, settings
):
    settings.PODIUM_BASE_URL = "https://podium.example"  # the fake reaches nothing outside
    fake = fakes["threads"]
    before = fake.created
    client = client_for(account(fakes, "threads", "northside"), timeout=5)

    outcome = send(client, payload("Premiere", [("posts/x.png", ALT)]))

    assert outcome.result == Result.FAILED
    assert "FAILED_DOWNLOADING_IMAGE" in outcome.message
    assert fake.created == before
    # The address Meta was given: the image's public address on the site.
    assert fake.downloads[-1] == "https://podium.example/northside/media/posts/x.png"


def test_a_threads_container_still_in_progress_is_waited_for_before_publishing(fakes):
    fake = fakes["threads"]
    fake.container_polls = 2
    try:
        outcome = send(client_for(account(fakes, "threads"), timeout=5), payload("Text", []))
    finally:
        fake.container_polls = 0

    assert outcome.result == Result.SENT, outcome.message
    assert fake.media[outcome.remote_id]["text"] == "Text"


# Bluesky's fake ---------------------------------------------------------------------------------


def test_an_image_goes_to_the_bluesky_fake_as_a_blob_with_its_alt_text(fakes, media_root):
    fake = fakes["bluesky"]
    data = png_bytes((70, 50))
    part = payload("Blob", [(stored("posts/blob.png", data), ALT)], network="bluesky")

    outcome = send(client_for(account(fakes, "bluesky"), timeout=5), part)

    assert outcome.result == Result.SENT, outcome.message
    [image] = fake.records[outcome.remote_id]["value"]["embed"]["images"]
    assert image["alt"] == ALT and image["aspectRatio"] == {"width": 70, "height": 50}
    assert fake.blobs[image["image"]["ref"]["$link"]] == data


# Mastodon ---------------------------------------------------------------------------------------


def test_a_mastodon_upload_answered_202_is_polled_until_ready_then_attached(fakes, media_root):
    fake = fakes["mastodon"]
    fake.async_media_polls = 2
    try:
        name = stored("posts/masto.png", png_bytes())
        client = client_for(account(fakes, "mastodon"), timeout=5)
        outcome = send(client, payload("Video", [(name, ALT)]))
    finally:
        fake.async_media_polls = 0

    assert outcome.result == Result.SENT, outcome.message
    [attachment] = fake.statuses[outcome.remote_id]["media_attachments"]
    assert fake.media[attachment["id"]]["description"] == ALT
