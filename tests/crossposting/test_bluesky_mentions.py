"""Bluesky mentions against the fake: each handle is resolved once (resolveHandle), to a DID in
the facet, or left as plain text when it does not resolve; what was learnt is kept for the
delivery's next try, which then sends the identical record."""

from __future__ import annotations

import random

from crossposting import text
from crossposting.clients import Account, Result, client_for

PERMALINK = "https://podium.example/northside/posts/7/"


def test_mentions_resolve_once_unknown_handles_stay_plain_and_a_retry_asks_nothing(fakes):
    fake = fakes["bluesky"]
    me, friend = (f"{n}-{random.getrandbits(32)}.test" for n in ("school", "friend"))
    did = fake.add_account(me, "abcd-efgh-ijkl-mnop")
    friend_did = fake.add_account(friend, "abcd-efgh-ijkl-mnop")
    stranger = f"stranger-{random.getrandbits(32)}.test"
    [part] = text.render(
        "bluesky",
        text.RenderInput(
            body="Danke @friend und @stranger!",
            language="de",
            permalink=PERMALINK,
            mentions={"friend": {"bluesky": friend}, "stranger": {"bluesky": stranger}},
        ),
    ).canonical()["parts"]
    part |= {"rkey": "3" + "".join(random.choices("234567abcdefghij", k=12))}
    part |= {"created_at": "2026-12-07T12:00:00.000Z", "language": "de"}
    login = {"identifier": me, "password": "abcd-efgh-ijkl-mnop"}
    account = Account(1, 1, "bluesky", me, fake.base_url, did, login)
    progress: dict = {}

    def send():
        client = client_for(account, timeout=5)
        return client.create(
            part, key="k", reply_to=None, progress=progress, remember=progress.update
        )

    first = send()
    asked = sum(1 for m, p in fake.requests if p.endswith("resolveHandle"))
    again = send()  # a retry of the same delivery

    assert first.result == again.result == Result.SENT
    assert progress["dids"] == {friend: friend_did, stranger: ""}
    assert sum(1 for m, p in fake.requests if p.endswith("resolveHandle")) == asked
    value = fake.records[first.remote_id]["value"]
    mentions = [f for f in value["facets"] if f["features"][0]["$type"].endswith("#mention")]
    assert [f["features"] for f in mentions] == [
        [{"$type": "app.bsky.richtext.facet#mention", "did": friend_did}]
    ]
    assert f"@{stranger}" in value["text"]
    assert first.remote["cid"] == again.remote["cid"], "the retry sent the identical record"
