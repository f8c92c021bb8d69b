"""Publishing, correcting and retracting a post reaches every network exactly once."""

from __future__ import annotations

from crossposting.models import DeliveryState


def test_publishing_creates_one_pending_delivery_per_target_with_a_frozen_payload(stage):
    post = stage.publish()

    deliveries = stage.deliveries(post)
    assert {d.network for d in deliveries} == {"mastodon", "bluesky", "x", "linkedin", "threads"}
    assert {d.state for d in deliveries} == {DeliveryState.PENDING}
    for d in deliveries:
        assert d.payload["text"] and len(d.idempotency_key) == 64
    bluesky = next(d for d in deliveries if d.network == "bluesky")
    assert len(bluesky.payload["rkey"]) == 13 and bluesky.payload["created_at"].endswith("Z")


def test_every_network_gets_one_copy_and_the_delivery_keeps_its_link(stage):
    post = stage.publish()

    stage.run()

    for d in stage.deliveries(post):
        assert d.state == DeliveryState.SENT, (d.network, d.last_error)
        assert d.remote_id and d.remote_url
        assert d.remote_id in stage.fakes[d.network].copy_ids()


def test_a_correction_edits_mastodon_in_place_and_reposts_elsewhere(stage):
    post = stage.publish("Concert on Friday")
    stage.run()
    first = {d.network: d.remote_id for d in stage.deliveries(post)}

    stage.correct(post, "Concert on Saturday")
    stage.run()

    rows = stage.deliveries(post)
    assert all(d.state == DeliveryState.SENT for d in rows), [
        (d.network, d.kind, d.last_error) for d in rows
    ]
    edit = next(d for d in rows if d.kind == "edit")
    assert edit.network == "mastodon"
    assert "Saturday" in stage.fakes["mastodon"].statuses[first["mastodon"]]["text"]
    for network in ("bluesky", "x", "linkedin", "threads"):
        kinds = sorted(d.kind for d in rows if d.network == network)
        assert kinds == ["create", "create", "delete"]
        assert first[network] not in stage.fakes[network].copy_ids()
        live = [
            d.remote_id
            for d in rows
            if d.network == network and d.kind == "create" and d.revision.number == 2
        ]
        assert live[0] in stage.fakes[network].copy_ids()


def test_a_correction_can_be_a_reply_by_institution_setting(stage):
    from crossposting import services

    services.update_settings(
        stage.institution, edit_in_place=False, correction_mode="reply", by=stage.cast.a.admin
    )
    post = stage.publish("Concert on Friday", networks=["mastodon", "bluesky", "linkedin"])
    stage.run()

    stage.correct(post, "Concert on Saturday")
    stage.run()

    rows = stage.deliveries(post)
    by_network = {
        n: sorted(d.kind for d in rows if d.network == n)
        for n in ("mastodon", "bluesky", "linkedin")
    }
    assert by_network["mastodon"] == ["correction_reply", "create"]
    assert by_network["bluesky"] == ["correction_reply", "create"]
    assert by_network["linkedin"] == ["create", "create", "delete"]  # LinkedIn has no replies
    reply = next(d for d in rows if d.network == "mastodon" and d.kind == "correction_reply")
    original = next(d for d in rows if d.network == "mastodon" and d.kind == "create")
    assert stage.fakes["mastodon"].statuses[reply.remote_id]["in_reply_to_id"] == original.remote_id


def test_a_retraction_deletes_every_copy_and_cancels_what_was_not_sent(stage):
    sent = stage.publish("First post")
    stage.run()
    waiting = stage.publish("Second post")

    stage.retract(sent)
    stage.retract(waiting)
    stage.run()

    for d in stage.deliveries(sent):
        assert d.state == DeliveryState.SENT, (d.network, d.kind, d.last_error)
    for network, fake in stage.fakes.items():
        copies = {
            d.remote_id
            for d in stage.deliveries(sent)
            if d.kind == "create" and d.network == network
        }
        assert not copies & fake.copy_ids()
    assert {d.state for d in stage.deliveries(waiting)} == {DeliveryState.CANCELLED}


def test_a_post_submitted_without_a_choice_goes_to_the_default_accounts(stage):
    from crossposting import services
    from feeds import services as feeds
    from feeds.services import PostContent

    services.connect_account(
        stage.institution,
        network="x",
        handle="not-default",
        base_url=stage.fakes["x"].base_url,
        secrets={},
        default_for_new_posts=False,
    )
    side = stage.cast.a
    post = feeds.create_post(side.author, PostContent("Defaults please", "en"))
    post = feeds.submit_post(post, side.author)
    if post.state == "submitted":
        feeds.approve_post(post, by=side.reviewer)

    assert {d.account.handle for d in stage.deliveries(post)} == {
        a.handle for a in stage.accounts.values()
    }


def test_a_long_post_becomes_a_thread_whose_parts_reply_to_each_other(stage):
    body = " ".join(f"Sentence number {n} of the school's long announcement." for n in range(12))
    post = stage.publish(body, networks=["x", "bluesky"])
    stage.run()

    rows = stage.deliveries(post)
    x_parts = sorted((d for d in rows if d.network == "x"), key=lambda d: d.part)
    assert len(x_parts) > 1
    assert all(d.state == DeliveryState.SENT for d in rows), [
        (d.network, d.last_error) for d in rows
    ]
    tweets = stage.fakes["x"].tweets
    assert all(tweets[d.remote_id] for d in x_parts)
    sky = sorted((d for d in rows if d.network == "bluesky"), key=lambda d: d.part)
    records = stage.fakes["bluesky"].records
    second = records[sky[1].remote_id]["value"]
    assert second["reply"]["parent"]["uri"] == sky[0].remote_id
    assert second["reply"]["root"]["uri"] == sky[0].remote_id
