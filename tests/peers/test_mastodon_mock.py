"""The Mastodon client against mastodon-mock 0.6.1 (PyPI), a third party's model of the Mastodon
API, as a second opinion beside the project's own fake (``tests/crossposting/fakes``).

Where mastodon-mock is less faithful than our fake, the test says so: it counts the length as
code points (``len(text)``), not as Mastodon does (graphemes, every URL 23), and processes media
synchronously (200, never 202).
"""

from __future__ import annotations

import secrets

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from crossposting import text
from crossposting.clients import Account, Copy, Outcome, Result
from crossposting.clients.mastodon import MastodonClient, plain_text
from crossposting.services import connect_account
from tests.conftest import Cast
from tests.crossposting.conftest import Stage
from tests.images import png_bytes
from tests.peers.servers import MastodonMock

pytestmark = pytest.mark.peers

PERMALINK = "https://podium.example/northside-school/posts/7/"


@pytest.fixture(scope="module")
def me(mastodon_mock: MastodonMock) -> dict:
    answer = httpx.get(
        f"{mastodon_mock.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {MastodonMock.TOKEN}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()


@pytest.fixture
def client(mastodon_mock, me) -> MastodonClient:
    account = Account(
        id=1,
        institution_id=1,
        network="mastodon",
        handle=f"@{me['username']}",
        base_url=mastodon_mock.base_url,
        remote_user_id=me["id"],
        credentials={"access_token": MastodonMock.TOKEN},
    )
    return MastodonClient(account, timeout=10)


def payload_of(body: str, **options) -> dict:
    rendering = text.render(
        "mastodon", text.RenderInput(body=body, language="de", permalink=PERMALINK, **options)
    )
    [part] = rendering.canonical()["parts"]
    return part | {"language": "de", "network": "mastodon"}


def create(client: MastodonClient, payload: dict, key: str | None = None) -> Outcome:
    return client.create(
        payload,
        key=key or secrets.token_hex(16),
        reply_to=None,
        progress={},
        remember=lambda progress: None,
    )


def status(mock: MastodonMock, status_id: str) -> httpx.Response:
    return httpx.get(
        f"{mock.base_url}/api/v1/statuses/{status_id}",
        timeout=10,
        headers={"Authorization": f"Bearer {MastodonMock.TOKEN}"},
    )


def test_the_instance_reports_its_limits_and_a_rendering_within_them_is_accepted(
    mastodon_mock, client
):
    configuration = httpx.get(f"{mastodon_mock.base_url}/api/v2/instance", timeout=10).json()[
        "configuration"
    ]
    statuses = configuration["statuses"]
    assert statuses == {
        "max_characters": 500,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    }
    payload = payload_of("Tag der offenen Tür am Samstag. " * 30, limit=statuses["max_characters"])
    assert text.measure_part("mastodon", payload["text"], statuses["max_characters"]).valid

    outcome = create(client, payload)

    assert outcome.result == Result.SENT, outcome.summary
    body = status(mastodon_mock, outcome.remote_id).json()
    assert plain_text(body["content"]) == plain_text(payload["text"])
    assert body["language"] == "de" and body["visibility"] == "public"


def test_a_repeated_idempotency_key_returns_the_same_status(mastodon_mock, client):
    payload = payload_of("Sportfest verschoben.")
    key = "podium-" + secrets.token_hex(16)

    first = create(client, payload, key)
    second = create(client, payload, key)

    assert first.result == second.result == Result.SENT
    assert second.remote_id == first.remote_id
    assert create(client, payload).remote_id != first.remote_id  # another key, another status


def test_501_characters_are_refused_with_422_and_500_are_accepted(client):
    refused = create(client, {"text": "a" * 501, "language": "de"})
    accepted = create(client, {"text": "a" * 500, "language": "de"})

    assert refused.result == Result.FAILED and refused.status_code == 422
    assert "too long" in refused.message
    assert accepted.result == Result.SENT


def test_mastodon_mock_counts_code_points_where_mastodon_counts_a_url_as_23(client):
    """A divergence of the mock, not of our renderer: Mastodon accepts this text."""
    body = "b" * 450 + " https://example.org/" + "x" * 60
    assert text.measure("mastodon", body).valid

    outcome = create(client, {"text": body, "language": "de"})

    assert (outcome.result, outcome.status_code) == (Result.FAILED, 422)


@pytest.fixture
def photo(settings, tmp_path) -> str:
    settings.MEDIA_ROOT = str(tmp_path)
    return default_storage.save("peers/hall.png", ContentFile(png_bytes((80, 60), "maroon")))


def test_an_image_is_attached_with_its_alt_text(mastodon_mock, client, photo):
    alt = "Die neue Aula von außen, Glasfassade im Abendlicht"
    payload = payload_of(
        "Die Aula ist fertig!", images=[text.Image(url_or_path=photo, alt_text=alt)]
    )

    outcome = create(client, payload)

    assert outcome.result == Result.SENT, outcome.summary
    [media] = status(mastodon_mock, outcome.remote_id).json()["media_attachments"]
    assert media["description"] == alt and media["type"] == "image"


def test_an_edit_changes_the_status_and_a_delete_removes_it_twice_over(mastodon_mock, client):
    outcome = create(client, payload_of("Konzert am Freitag."))
    copy = Copy(outcome.remote_id)

    edited = client.edit(payload_of("Konzert am Samstag."), copy=copy, key=secrets.token_hex(8))

    assert edited.result == Result.SENT
    assert "Samstag" in plain_text(status(mastodon_mock, copy.remote_id).json()["content"])
    assert client.delete(copy=copy).result == Result.SENT
    assert status(mastodon_mock, copy.remote_id).status_code == 404
    assert client.delete(copy=copy).result == Result.SENT  # 404: already gone


def test_a_refused_token_is_an_auth_outcome(mastodon_mock, client):
    client.account.credentials = {"access_token": "revoked-" + secrets.token_hex(4)}

    outcome = create(client, payload_of("Hallo."))

    assert (outcome.result, outcome.status_code) == (Result.AUTH, 401)


def test_after_the_key_expired_find_recognises_a_status_among_the_recent_ones(client):
    payload = payload_of("Mensa heute geschlossen - " + secrets.token_hex(4))
    posted = create(client, payload)

    found = client.find(payload, key="k", progress={}, since=None)
    absent = client.find(
        payload_of("Nie gesendet " + secrets.token_hex(4)), key="k", progress={}, since=None
    )

    assert (found.result, found.remote_id) == (Result.SENT, posted.remote_id)
    assert absent.result == Result.ABSENT


def test_through_the_engine_a_post_is_published_edited_in_place_and_retracted(
    transactional_db, mastodon_mock, me
):

    cast = Cast.create()
    account = connect_account(cast.a.institution, network="mastodon", handle=f"@{me['username']}",
                              base_url=mastodon_mock.base_url, remote_user_id=me["id"],
                              secrets={"access_token": MastodonMock.TOKEN},
                              default_for_new_posts=True)  # fmt: skip
    stage = Stage(cast=cast, fakes={"mastodon": mastodon_mock}, accounts={"mastodon": account})
    post = stage.publish("Theater-AG probt am Donnerstag.")
    stage.run()
    [created] = stage.deliveries(post)
    assert created.state == "sent", created.last_error

    stage.correct(post, "Theater-AG probt am Freitag.")
    stage.run()
    edit = next(d for d in stage.deliveries(post) if d.kind == "edit")
    assert edit.state == "sent", edit.last_error
    body = status(mastodon_mock, created.remote_id).json()
    assert plain_text(body["content"]) == plain_text(edit.payload["text"]) and body["edited_at"]

    stage.retract(post)
    stage.run()
    assert status(mastodon_mock, created.remote_id).status_code == 404
