"""The Bluesky client and the delivery engine against the real PDS (``@atproto/pds``) with a
local PLC directory, both on 127.0.0.1: what we send is read back with
``com.atproto.repo.getRecord`` and compared exactly (text, facet byte offsets, alt text, reply
references).

Wire facts this suite pins down (PDS 0.5.35):

- ``putRecord`` with the same rkey and the identical record twice: both 200 with the same cid,
  one record (the retry is a no-op);
- ``createRecord`` with an rkey that exists answers **500** ``InternalServerError`` ("There is
  already a value at key"): never retry a post with ``createRecord``; after a 5xx look the rkey
  up (``find``);
- a bad access token answers **400** ``InvalidToken`` (not 401), mapped to ``Result.AUTH``;
- 301 graphemes answer 400 ``InvalidRequest``, mapped to ``Result.FAILED``;
- ``deleteRecord`` is idempotent; a deleted rkey reads back as 400 ``RecordNotFound``.
"""

from __future__ import annotations

import io
import itertools
import os
import secrets
from datetime import UTC, datetime

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from accounts.tenancy import tenant_context
from crossposting import services, text
from crossposting.clients import Account, Copy, Outcome, Result
from crossposting.clients.bluesky import BlueskyClient
from crossposting.models import DeliveryAttempt, NetworkAccount
from crossposting.services import connect_account
from feeds import services as feeds
from feeds.models import PostState
from feeds.services import AttachmentInput, PostContent
from tests.conftest import Cast
from tests.crossposting.conftest import Stage
from tests.images import png_bytes
from tests.peers.servers import BlueskyAccount, BlueskyPeers, DroppingProxy

pytestmark = pytest.mark.peers

PERMALINK = "https://podium.example/northside-school/posts/42/"
POST = "app.bsky.feed.post"


@pytest.fixture(scope="module")
def alice(pds: BlueskyPeers) -> BlueskyAccount:
    return pds.create_account("alice-" + secrets.token_hex(3))


@pytest.fixture(scope="module")
def bob(pds: BlueskyPeers) -> BlueskyAccount:
    return pds.create_account("bob-" + secrets.token_hex(3))


def account_of(pds: BlueskyPeers, who: BlueskyAccount, **credentials) -> Account:
    """The client's view of a connected account (app password, no session yet)."""
    return Account(
        id=1,
        institution_id=1,
        network="bluesky",
        handle=who.handle,
        base_url=pds.base_url,
        remote_user_id=who.did,
        credentials=credentials or {"identifier": who.handle, "password": who.password},
    )


def payloads(rendering: text.Rendering, language: str = "de") -> list[dict]:
    """The parts as the outbox freezes them (``crossposting.services``): rkey and createdAt once."""
    at = datetime.now(UTC)
    created_at = at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return [
        part
        | {
            "language": language,
            "network": "bluesky",
            "created_at": created_at,
            "rkey": services.record_key(secrets.token_hex(32), at),
        }
        for part in rendering.canonical()["parts"]
    ]


def create(client: BlueskyClient, payload: dict, reply_to: Copy | None = None) -> Outcome:
    outcome = client.create(
        payload, key=payload["rkey"], reply_to=reply_to, progress={}, remember=lambda progress: None
    )
    assert outcome.result == Result.SENT, (outcome.status_code, outcome.summary, outcome.message)
    return outcome


def stored(pds: BlueskyPeers, who: BlueskyAccount, rkey: str) -> dict:
    answer = pds.get_record(who.did, rkey)
    assert answer.status_code == 200, answer.text
    return answer.json()


def spans(record: dict) -> list[tuple[str, dict]]:
    """Each facet as the bytes it covers and its feature."""
    data = record["text"].encode("utf-8")
    return [
        (data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8"), f["features"][0])
        for f in record.get("facets", [])
    ]


def test_a_post_with_a_link_a_mention_and_a_tag_reads_back_with_the_same_text_and_byte_offsets(
    pds, alice, bob
):
    rendering = text.render(
        "bluesky",
        text.RenderInput(
            body="Grüße 👋🏽 an @bob aus der Aula! #Schulkonzert am Freitag, Karten: "
            "https://example.org/konzert?reihe=2 …",
            language="de",
            permalink=PERMALINK,
            mentions={"bob": {"bluesky": bob.handle}},
        ),
    )
    [payload] = payloads(rendering)

    outcome = create(BlueskyClient(account_of(pds, alice), timeout=10), payload)

    assert outcome.remote_id == f"at://{alice.did}/{POST}/{payload['rkey']}"
    record = stored(pds, alice, payload["rkey"])
    assert record["uri"] == outcome.remote_id and record["cid"] == outcome.remote["cid"]
    value = record["value"]
    assert value["text"] == payload["text"]
    # The renderer's facets, byte for byte, with the mention's handle resolved to the DID.
    expected = [
        {
            **facet,
            "features": [
                {"$type": feature["$type"], "did": bob.did}
                if feature["$type"].endswith("#mention")
                else feature
                for feature in facet["features"]
            ],
        }
        for facet in payload["facets"]
    ]
    assert value["facets"] == expected
    assert spans(value) == [
        (f"@{bob.handle}", {"$type": "app.bsky.richtext.facet#mention", "did": bob.did}),
        ("#Schulkonzert", {"$type": "app.bsky.richtext.facet#tag", "tag": "Schulkonzert"}),
        (
            "https://example.org/konzert?reihe=2",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/konzert?reihe=2"},
        ),
        (PERMALINK, {"$type": "app.bsky.richtext.facet#link", "uri": PERMALINK}),
    ]
    assert value["embed"] == payload["extra"]["embed"]  # the link card to the permalink
    assert value["langs"] == ["de"] and value["createdAt"] == payload["created_at"]


@pytest.fixture
def photo(settings, tmp_path) -> bytes:
    settings.MEDIA_ROOT = str(tmp_path)
    data = png_bytes((96, 64), "navy")
    default_storage.save("peers/choir.png", ContentFile(data))
    return data


def test_an_image_is_uploaded_as_a_blob_and_keeps_its_alt_text(pds, alice, photo):
    alt = "Der Schulchor singt in der Aula; vorne links die Dirigentin mit erhobenen Händen 🎶"
    rendering = text.render(
        "bluesky",
        text.RenderInput(
            body="Unser Chor beim Frühlingskonzert.",
            language="de",
            permalink=PERMALINK,
            images=[text.Image(url_or_path="peers/choir.png", alt_text=alt)],
        ),
    )
    [payload] = payloads(rendering)

    create(BlueskyClient(account_of(pds, alice), timeout=10), payload)

    value = stored(pds, alice, payload["rkey"])["value"]
    assert value["text"] == payload["text"]
    assert value["embed"]["$type"] == "app.bsky.embed.images"
    [image] = value["embed"]["images"]
    assert image["alt"] == alt
    assert image["image"]["mimeType"] == "image/png"
    assert image["image"]["size"] == len(photo)
    assert pds.get_blob(alice.did, image["image"]["ref"]["$link"]) == photo


def test_a_mention_whose_handle_does_not_resolve_stays_plain_text_and_the_post_goes_out(
    pds, alice, bob
):
    """The PDS answers 400 HandleNotFound for a handle of its own domain that nobody holds (it
    asks nobody else for those): the post is sent, that mention without a facet, the other
    mention resolved."""
    nobody = "nobody-" + secrets.token_hex(3) + ".test"
    rendering = text.render(
        "bluesky",
        text.RenderInput(
            body="Danke @ghost und @bob für die Hilfe!",
            language="de",
            permalink=PERMALINK,
            mentions={"ghost": {"bluesky": nobody}, "bob": {"bluesky": bob.handle}},
        ),
    )
    [payload] = payloads(rendering)
    assert sum("#mention" in f["features"][0]["$type"] for f in payload["facets"]) == 2
    kept: dict = {}

    outcome = BlueskyClient(account_of(pds, alice), timeout=10).create(
        payload, key=payload["rkey"], reply_to=None, progress={}, remember=kept.update
    )

    assert outcome.result == Result.SENT, (outcome.summary, outcome.message)
    value = stored(pds, alice, payload["rkey"])["value"]
    assert value["text"] == payload["text"] and f"@{nobody}" in value["text"]
    mentions = [(s, f) for s, f in spans(value) if f["$type"].endswith("#mention")]
    assert mentions == [
        (f"@{bob.handle}", {"$type": "app.bsky.richtext.facet#mention", "did": bob.did})
    ]
    # What the handles resolved to is kept, so a retry sends the identical record.
    assert kept["dids"] == {nobody: "", bob.handle: bob.did}


def test_an_image_over_the_size_limit_is_made_smaller_before_it_is_uploaded(
    pds, alice, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    noise = Image.frombytes("RGB", (1200, 900), os.urandom(1200 * 900 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    assert buffer.tell() > 1_000_000
    default_storage.save("peers/noise.png", ContentFile(buffer.getvalue()))
    rendering = text.render(
        "bluesky",
        text.RenderInput(
            body="Rauschen.",
            language="de",
            permalink=PERMALINK,
            images=[text.Image(url_or_path="peers/noise.png", alt_text="Graues Rauschen")],
        ),
    )
    [payload] = payloads(rendering)

    create(BlueskyClient(account_of(pds, alice), timeout=10), payload)

    [image] = stored(pds, alice, payload["rkey"])["value"]["embed"]["images"]
    assert image["alt"] == "Graues Rauschen"
    assert image["image"]["mimeType"] == "image/jpeg" and image["image"]["size"] <= 1_000_000
    blob = pds.get_blob(alice.did, image["image"]["ref"]["$link"])
    with Image.open(io.BytesIO(blob)) as sent:
        assert sent.format == "JPEG"
        assert sent.width / sent.height == pytest.approx(1200 / 900, rel=0.01)
        assert image["aspectRatio"] == {"width": sent.width, "height": sent.height}


def test_a_thread_is_posted_in_order_each_part_replying_to_the_previous_with_the_first_as_root(
    pds, alice
):
    sentence = "Die Projektwoche beginnt am Montag mit einer Versammlung in der Sporthalle. "
    rendering = text.render(
        "bluesky",
        text.RenderInput(
            body=sentence * 9,
            language="de",
            permalink=PERMALINK,
            mode="thread",
        ),
    )
    parts = payloads(rendering)
    assert len(parts) >= 2
    client = BlueskyClient(account_of(pds, alice), timeout=10)

    copies: list[Copy] = []
    for payload in parts:
        outcome = create(client, payload, reply_to=copies[-1] if copies else None)
        copies.append(Copy(outcome.remote_id, outcome.remote_url, outcome.remote))

    records = [stored(pds, alice, payload["rkey"]) for payload in parts]
    assert [r["value"]["text"] for r in records] == [p["text"] for p in parts]
    assert "reply" not in records[0]["value"]
    root = {"uri": records[0]["uri"], "cid": records[0]["cid"]}
    for previous, record in itertools.pairwise(records):
        assert record["value"]["reply"] == {
            "root": root,
            "parent": {"uri": previous["uri"], "cid": previous["cid"]},
        }


def test_put_record_twice_with_the_same_rkey_leaves_one_record_so_a_retry_is_harmless(pds, alice):
    [payload] = payloads(
        text.render(
            "bluesky",
            text.RenderInput(
                body="Elternsprechtag am Donnerstag.", language="de", permalink=PERMALINK
            ),
        )
    )
    client = BlueskyClient(account_of(pds, alice), timeout=10)

    first = create(client, payload)
    second = create(client, payload)

    assert (second.remote_id, second.remote["cid"]) == (first.remote_id, first.remote["cid"])
    rkeys = [r["uri"].rsplit("/", 1)[-1] for r in pds.list_records(alice.did)]
    assert rkeys.count(payload["rkey"]) == 1


def test_create_record_with_an_existing_rkey_answers_500_and_find_reports_the_copy(pds, alice):
    """Why the client posts with putRecord: createRecord cannot be retried with the same rkey."""
    [payload] = payloads(
        text.render(
            "bluesky",
            text.RenderInput(
                body="Bibliothek heute geschlossen.", language="de", permalink=PERMALINK
            ),
        )
    )
    client = BlueskyClient(account_of(pds, alice), timeout=10)
    first = create(client, payload)

    again = httpx.post(
        pds.xrpc("com.atproto.repo.createRecord"),
        headers={"Authorization": f"Bearer {client.account.credentials['access_jwt']}"},
        json={
            "repo": alice.did,
            "collection": POST,
            "rkey": payload["rkey"],
            "record": {"$type": POST, "text": payload["text"], "createdAt": payload["created_at"]},
        },
        timeout=10,
    )

    assert again.status_code == 500
    assert again.json()["error"] == "InternalServerError"
    assert client._answer(again, posting=True).result == Result.UNKNOWN
    found = client.find(payload, key=payload["rkey"], progress={}, since=None)
    assert found.result == Result.SENT
    assert (found.remote_id, found.remote["cid"]) == (first.remote_id, first.remote["cid"])


def test_a_deleted_post_is_gone_and_deleting_it_again_still_succeeds(pds, alice):
    [payload] = payloads(
        text.render(
            "bluesky", text.RenderInput(body="Falscher Termin.", language="de", permalink=PERMALINK)
        )
    )
    client = BlueskyClient(account_of(pds, alice), timeout=10)
    copy = create(client, payload)

    assert client.delete(copy=Copy(copy.remote_id, remote=copy.remote)).result == Result.SENT

    gone = pds.get_record(alice.did, payload["rkey"])
    assert (gone.status_code, gone.json()["error"]) == (400, "RecordNotFound")
    assert (
        client.find(payload, key=payload["rkey"], progress={}, since=None).result == Result.ABSENT
    )
    assert client.delete(copy=Copy(copy.remote_id, remote=copy.remote)).result == Result.SENT


def test_a_bad_token_answers_400_invalid_token_which_the_client_maps_to_auth_and_refresh_repairs(
    pds, alice
):
    [payload] = payloads(
        text.render("bluesky", text.RenderInput(body="Hallo.", language="de", permalink=PERMALINK))
    )
    client = BlueskyClient(
        account_of(pds, alice, access_jwt="not-a-jwt", refresh_jwt=alice.refresh_jwt), timeout=10
    )

    refused = client.create(payload, key="k", reply_to=None, progress={}, remember=lambda p: None)

    assert refused.result == Result.AUTH
    assert refused.status_code == 400 and '"InvalidToken"' in refused.summary
    fresh = client.refresh()
    assert (
        fresh and fresh["access_jwt"] != "not-a-jwt" and fresh["refresh_jwt"] != alice.refresh_jwt
    )
    client.account.credentials = fresh
    create(client, payload)


def test_an_expired_access_token_answers_400_expired_token_which_the_client_maps_to_auth(
    pds, alice
):
    [payload] = payloads(
        text.render("bluesky", text.RenderInput(body="Hallo.", language="de", permalink=PERMALINK))
    )
    expired = pds.expired_access_jwt(alice.did)
    client = BlueskyClient(account_of(pds, alice, access_jwt=expired), timeout=10)

    refused = client.create(payload, key="k", reply_to=None, progress={}, remember=lambda p: None)

    assert (refused.result, refused.status_code) == (Result.AUTH, 400)
    assert '"ExpiredToken"' in refused.summary


def test_301_graphemes_are_refused_with_400_and_300_emoji_are_accepted(pds, alice):
    client = BlueskyClient(account_of(pds, alice), timeout=10)
    [payload] = payloads(
        text.render("bluesky", text.RenderInput(body="x", language="de", permalink=PERMALINK))
    )
    too_long = payload | {"text": "ä" * 301, "facets": [], "extra": {}}
    fits = payload | {
        "text": "🎻" * 300,
        "facets": [],
        "extra": {},
        "rkey": services.record_key(secrets.token_hex(32), datetime.now(UTC)),
    }

    refused = client.create(too_long, key="k", reply_to=None, progress={}, remember=lambda p: None)

    assert refused.result == Result.FAILED
    assert refused.status_code == 400 and '"InvalidRequest"' in refused.summary
    assert "300" in refused.message
    assert pds.get_record(alice.did, too_long["rkey"]).status_code == 400
    assert text.measure("bluesky", too_long["text"]).valid is False
    assert text.measure("bluesky", fits["text"]).valid is True
    create(client, fits)


# Through the delivery engine: publish, correct and retract a post as the institution would -------


@pytest.fixture
def stage(transactional_db, pds):
    """An institution whose only network account is a fresh account on the local PDS."""

    cast = Cast.create()
    who = pds.create_account("school-" + secrets.token_hex(3))
    account = connect_account(
        cast.a.institution,
        network="bluesky",
        handle=who.handle,
        base_url=pds.base_url,
        secrets={"identifier": who.handle, "password": who.password},
        remote_user_id=who.did,
        default_for_new_posts=True,
    )
    stage = Stage(cast=cast, fakes={"bluesky": pds}, accounts={"bluesky": account})
    stage.who = who
    return stage


def sent(stage, post, **filters) -> list:
    rows = stage.deliveries(post, **filters)
    assert all(d.state == "sent" for d in rows), [(d.kind, d.state, d.last_error) for d in rows]
    return rows


def rkey_of(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def test_a_published_post_arrives_on_the_pds_exactly_as_the_outbox_froze_it(stage, pds):
    post = stage.publish(
        "Sommerfest am 12. Juli ☀️ #Sommerfest - Programm: https://example.org/fest"
    )

    stage.run()

    [delivery] = sent(stage, post)
    record = stored(pds, stage.who, delivery.payload["rkey"])
    assert record["uri"] == delivery.remote_id
    value = record["value"]
    assert value["text"] == delivery.payload["text"]
    assert value["facets"] == delivery.payload["facets"]
    assert [s for s, _f in spans(value)] == [
        "#Sommerfest",
        "https://example.org/fest",
        value["text"].rsplit("\n", 1)[-1],
    ]
    assert value["embed"] == delivery.payload["extra"]["embed"]
    assert value["createdAt"] == delivery.payload["created_at"]


def test_a_long_post_becomes_a_thread_on_the_pds(stage, pds):
    post = stage.publish("Die Projektwoche beginnt am Montag in der Sporthalle. " * 9)

    stage.run()

    rows = sorted(sent(stage, post), key=lambda d: d.part)
    assert len(rows) >= 2
    records = [stored(pds, stage.who, d.payload["rkey"]) for d in rows]
    assert [r["value"]["text"] for r in records] == [d.payload["text"] for d in rows]
    root = {"uri": records[0]["uri"], "cid": records[0]["cid"]}
    for previous, record in itertools.pairwise(records):
        assert record["value"]["reply"] == {
            "root": root,
            "parent": {"uri": previous["uri"], "cid": previous["cid"]},
        }


def test_a_correction_deletes_the_copy_and_posts_the_corrected_text_by_default(stage, pds):
    post = stage.publish("Elternabend am Dienstag um 19 Uhr.")
    stage.run()
    [first] = sent(stage, post)

    stage.correct(post, "Elternabend am Mittwoch um 19 Uhr.")
    stage.run()

    gone = pds.get_record(stage.who.did, rkey_of(first.remote_id))
    assert (gone.status_code, gone.json()["error"]) == (400, "RecordNotFound")
    [live] = [d for d in sent(stage, post, kind="create") if d.revision.number == 2]
    assert stored(pds, stage.who, rkey_of(live.remote_id))["value"]["text"] == live.payload["text"]
    assert "Mittwoch" in live.payload["text"]
    assert [r["uri"] for r in pds.list_records(stage.who.did)] == [live.remote_id]


def test_a_correction_is_a_reply_to_the_copy_when_the_institution_says_so(stage, pds):
    services.update_settings(
        stage.institution, edit_in_place=False, correction_mode="reply", by=stage.cast.a.admin
    )
    post = stage.publish("Die Bibliothek schließt heute um 15 Uhr.")
    stage.run()
    [first] = sent(stage, post)

    stage.correct(post, "Die Bibliothek schließt heute um 16 Uhr.")
    stage.run()

    [reply] = sent(stage, post, kind="correction_reply")
    original = stored(pds, stage.who, rkey_of(first.remote_id))
    value = stored(pds, stage.who, rkey_of(reply.remote_id))["value"]
    assert value["text"] == reply.payload["text"] and "16 Uhr" in value["text"]
    ref = {"uri": original["uri"], "cid": original["cid"]}
    assert value["reply"] == {"root": ref, "parent": ref}


def test_a_retracted_post_leaves_nothing_on_the_pds(stage, pds):
    post = stage.publish("Ausflug ins Museum " * 30)
    stage.run()
    assert len(pds.list_records(stage.who.did)) >= 2

    stage.retract(post)
    stage.run()

    assert {d.kind for d in sent(stage, post)} == {"create", "delete"}
    assert pds.list_records(stage.who.did) == []


def test_the_engine_refreshes_an_expired_session_once_and_keeps_the_rotated_tokens(stage, pds):

    who = stage.who
    login = {"identifier": who.handle, "password": who.password}
    session = httpx.post(
        pds.xrpc("com.atproto.server.createSession"), json=login, timeout=10
    ).json()
    account = services.connect_account(
        stage.institution, network="bluesky", handle=who.handle, base_url=pds.base_url,
        remote_user_id=who.did, default_for_new_posts=True,
        secrets={"access_jwt": pds.expired_access_jwt(who.did),
                 "refresh_jwt": session["refreshJwt"], "did": who.did},
    )  # fmt: skip
    version = account.credentials_version
    post = stage.publish("Schulfest abgesagt.")

    stage.run()

    [delivery] = sent(stage, post)
    assert (
        stored(pds, who, rkey_of(delivery.remote_id))["value"]["text"] == delivery.payload["text"]
    )
    with tenant_context(stage.institution.id):
        account = NetworkAccount.objects.get(id=account.id)
    fresh = services.account_credentials(account)
    assert fresh["refresh_jwt"] != session["refreshJwt"]  # rotated, and the rotation kept
    assert fresh["access_jwt"] != pds.expired_access_jwt(who.did)
    assert account.credentials_version == version + 1  # one refresh


def test_an_image_of_a_published_post_arrives_with_its_alt_text(stage, pds, settings, tmp_path):

    settings.MEDIA_ROOT = str(tmp_path)
    side = stage.cast.a
    alt = "Das Schulorchester probt in der Aula, im Vordergrund zwei Geigen"
    media = feeds.upload_media(side.author, png_bytes((120, 80), "teal"))
    content = PostContent(
        "Orchesterprobe heute.", "de", attachments=[AttachmentInput(media.id, alt)]
    )
    post = feeds.create_post(side.author, content)
    services.choose_targets(post, [stage.accounts["bluesky"]], by=side.author)
    post = feeds.submit_post(post, side.author)
    if post.state == PostState.SUBMITTED:
        post = feeds.approve_post(post, by=side.reviewer)

    stage.run()

    [delivery] = sent(stage, post)
    [image] = stored(pds, stage.who, rkey_of(delivery.remote_id))["value"]["embed"]["images"]
    assert image["alt"] == alt
    [frozen] = delivery.payload["images"]
    with default_storage.open(frozen["url_or_path"], "rb") as handle:
        assert pds.get_blob(stage.who.did, image["image"]["ref"]["$link"]) == handle.read()


def test_a_post_whose_answer_was_lost_is_found_by_its_rkey_and_never_posted_twice(
    transactional_db, pds
):
    """The PDS commits the record, the answer never arrives: the delivery is unknown, the next
    try reads the rkey back (getRecord) instead of posting again."""

    cast = Cast.create()
    who = pds.create_account("lossy-" + secrets.token_hex(3))
    proxy = DroppingProxy(pds.pds_port)
    try:
        account = services.connect_account(
            cast.a.institution, network="bluesky", handle=who.handle, base_url=proxy.base_url,
            secrets={"identifier": who.handle, "password": who.password}, remote_user_id=who.did,
            default_for_new_posts=True,
        )  # fmt: skip
        stage = Stage(cast=cast, fakes={"bluesky": pds}, accounts={"bluesky": account})
        proxy.drop_answers("com.atproto.repo.putRecord")
        post = stage.publish("Hitzefrei ab der fünften Stunde.")

        stage.run()
    finally:
        proxy.stop()

    assert len(proxy.dropped) == 1
    [delivery] = sent(stage, post)
    with tenant_context(stage.institution.id):
        outcomes = list(
            DeliveryAttempt.objects.filter(delivery=delivery)
            .order_by("started_at")
            .values_list("outcome", flat=True)
        )
    assert outcomes[0] == "unknown" and outcomes[-1] == "sent"
    records = pds.list_records(who.did)
    assert [r["uri"] for r in records] == [delivery.remote_id]
    assert records[0]["value"]["text"] == delivery.payload["text"]
