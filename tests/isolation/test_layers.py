"""Each wall alone stops every leak: the fail-closed manager without row-level security, and
row-level security without the manager. Plus: nothing carries over on a reused connection."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.test import override_settings

from accounts.models import ApiToken, Invitation, Membership
from accounts.tenancy import NoInstitutionSelected, TenantModel, tenant_context
from feeds import services
from feeds.models import Post, Revision
from feeds.services import PostContent
from tests.isolation.test_model_inventory import tenant_models


def _owner_connection():
    owner = settings.DATABASES["owner"]
    return psycopg.connect(
        host=owner["HOST"] or "127.0.0.1",
        port=owner["PORT"] or 5432,
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    )


@pytest.fixture
def rls_off():
    """Row-level security switched off on every tenant table (as the owner), for this test."""
    tables = [m._meta.db_table for m in tenant_models()]
    with _owner_connection() as owner:
        for table in tables:
            owner.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
            owner.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
    yield
    with _owner_connection() as owner:
        for table in tables:
            owner.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
            owner.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')


def _published_post(side):
    """A published post with an image, plus an invitation and a token: a row in every table."""
    from accounts import services as accounts_services
    from tests.images import png_bytes

    media = services.upload_media(side.author, png_bytes())
    content = PostContent(
        "Marker text of " + side.institution.name + ". Questions: 030 1234567.",
        "en",
        attachments=[services.AttachmentInput(media.id, "A test image")],
    )
    post = services.submit_post(services.create_post(side.author, content), side.author)
    accounts_services.invite_member(
        side.institution,
        email=f"new@{side.institution.slug}.example",
        role="author",
        invited_by=side.admin,
    )
    accounts_services.create_token(side.admin, name="isolation", scopes=["read"])
    # A renamed handle leaves its former one on record.
    accounts_services.update_profile(side.author2, handle=f"renamed-{side.author2.id}")
    _rows_of_the_other_apps(side, post)
    return services.approve_post(post, by=side.reviewer)


# Tables whose rows only a worker's try or an API request writes: empty in this world, and still
# under the same policy (the model inventory checks every table's policy).
ROWS_ONLY_FROM_WORKERS = {
    "accounts.WebhookAttempt": "a webhook worker's try",
    "accounts.IdempotencyRecord": "an API request with an Idempotency-Key",
    "crossposting.DeliveryAttempt": "a delivery worker's try",
    "moderation.SentNotice": "a notification task after the commit",
    "crossposting.MastodonApp": "a Mastodon instance's answer to Podium's registration",
}


def _rows_of_the_other_apps(side, post) -> None:
    """Rows of moderation, cross-posting and webhooks, made through their services."""
    from accounts import webhooks
    from crossposting import services as crossposting
    from moderation import services as moderation

    with override_settings(PODIUM_WEBHOOKS_ALLOW_PRIVATE=True):  # a loopback address, unused
        webhooks.create_endpoint(
            side.institution,
            side.admin,
            url="http://127.0.0.1:9/hook",
            event_types=["post.published"],
        )
    moderation.ensure_policy(side.institution, side.admin)
    moderation.set_trusted(side.author2, side.admin, True)
    moderation.set_preferences(side.reviewer, on_submission=False)
    moderation.pause_publishing(side.institution, side.admin, reason="isolation test")
    moderation.resume_publishing(side.institution, side.reviewer)
    crossposting.update_settings(
        side.institution, edit_in_place=True, correction_mode="repost", by=side.admin
    )
    account = crossposting.connect_account(
        side.institution,
        network="mastodon",
        handle=f"school-{side.institution.id}",
        base_url="http://127.0.0.1:9",
        secrets={"access_token": "t"},
    )
    crossposting.choose_targets(post, [account], by=side.author)
    # An authorisation in progress (X builds its address without a call) and an e-mail to the
    # owners of an account that needs re-authorisation.
    from crossposting.connect import notices
    from crossposting.connect import services as connect

    with override_settings(PODIUM_X_CLIENT_ID="isolation"):
        connect.start_connect(side.institution, "x", by=side.author)
    other = crossposting.connect_account(
        side.institution,
        network="mastodon",
        handle=f"lost-{side.institution.id}",
        base_url="http://127.0.0.1:9",
        secrets={"access_token": "t"},
    )
    connect.mark_needs_reauthorisation(other, "isolation test")
    notices.notify_reauthorisation(side.institution.id)


def _rows_per_model(institution_id: int) -> dict[str, set[int]]:
    with tenant_context(institution_id):
        return {m._meta.label: set(m.objects.values_list("id", flat=True)) for m in tenant_models()}


def test_manager_fails_closed_without_an_institution(cast):
    for model in tenant_models():
        with pytest.raises(NoInstitutionSelected):
            model.objects.count()


def test_saving_a_row_of_another_institution_is_refused(cast):
    from accounts.tenancy import CrossTenantWrite

    with tenant_context(cast.b.institution.id), pytest.raises(CrossTenantWrite):
        cast.a.author.job_title = "changed"
        cast.a.author.save()


@pytest.mark.postgres_only
def test_manager_alone_stops_every_leak(rls_off, cast):
    a_post = _published_post(cast.a)
    _published_post(cast.b)
    a_rows = _rows_per_model(cast.a.institution.id)
    with tenant_context(cast.b.institution.id):
        for model in tenant_models():
            visible = set(model.objects.values_list("id", flat=True))
            assert not visible & a_rows[model._meta.label], model._meta.label
            # The opt-out really is unscoped here: without RLS it would see A's rows.
        assert Post.unscoped.filter(id=a_post.id).exists()
        assert not Post.objects.filter(id=a_post.id).exists()


@pytest.mark.postgres_only
def test_row_level_security_alone_stops_every_leak(cast):
    a_post = _published_post(cast.a)
    _published_post(cast.b)
    a_rows = _rows_per_model(cast.a.institution.id)
    with tenant_context(cast.b.institution.id):
        for model in tenant_models():
            # The unscoped manager has no application filter: only the database stands guard.
            visible = set(model.unscoped.values_list("id", flat=True))
            assert visible or model._meta.label in ROWS_ONLY_FROM_WORKERS, model._meta.label
            assert not visible & a_rows[model._meta.label], model._meta.label
        assert not Post.unscoped.filter(id=a_post.id).exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM feeds_revision WHERE post_id = %s", [a_post.id])
            assert cursor.fetchone()[0] == 0


@pytest.mark.postgres_only
def test_row_level_security_alone_refuses_writes_into_another_institution(cast):
    with tenant_context(cast.b.institution.id):
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            # unscoped + bulk_create skips the application's own guards entirely.
            Membership.unscoped.bulk_create(
                [
                    Membership(
                        institution=cast.a.institution,
                        user=cast.b.author.user,
                        handle="x",
                        display_name="X",
                    )
                ]
            )
        updated = Membership.unscoped.filter(id=cast.a.author.id).update(job_title="changed")
        assert updated == 0


# Rows public by nature, readable without an institution (feeds migration 0006; what else of
# them is readable: tests/isolation/test_public_read_policies.py).
PUBLIC_READ_TABLES = {
    "feeds.Post",
    "feeds.Revision",
    "feeds.Attachment",
    "feeds.Media",
    "accounts.Membership",
    "accounts.FormerHandle",
}


@pytest.mark.postgres_only
def test_row_level_security_without_an_institution_shows_only_public_rows(cast):
    _published_post(cast.a)
    for model in tenant_models():
        if model._meta.label not in PUBLIC_READ_TABLES:
            assert model.unscoped.count() == 0, model._meta.label
    assert Post.unscoped.exclude(published_at__isnull=False).count() == 0
    assert Revision.unscoped.exclude(published_at__isnull=False).count() == 0


@pytest.mark.postgres_only
def test_user_reads_only_own_memberships_across_institutions(cast):
    from accounts.queries import memberships_of

    with tenant_context(cast.b.institution.id):
        Membership.objects.create(
            institution=cast.b.institution,
            user=cast.a.author.user,
            handle="visiting",
            display_name="V",
        )
    mine = memberships_of(cast.a.author.user)
    assert {m.institution_id for m in mine} == {cast.a.institution.id, cast.b.institution.id}
    assert {m.user_id for m in mine} == {cast.a.author.user_id}


@pytest.mark.postgres_only
def test_token_row_is_readable_only_with_its_digest(cast):
    from accounts import services as accounts_services
    from accounts.queries import token_for_secret

    token, secret = accounts_services.create_token(cast.a.admin, name="ci", scopes=["read"])
    assert ApiToken.unscoped.count() == 0  # no institution, no digest: nothing
    found = token_for_secret(secret)
    assert found is not None and found.id == token.id
    assert token_for_secret(secret + "x") is None


@pytest.mark.postgres_only
def test_reused_connection_carries_no_institution_over(transactional_db, client):
    from tests.conftest import Cast

    cast = Cast.create()
    response = client.get(f"/{cast.a.institution.slug}/")
    assert response.status_code in (200, 404)  # the page itself is tested elsewhere
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.institution_id', true)")
        assert cursor.fetchone()[0] in (None, "")
        cursor.execute("SELECT count(*) FROM accounts_invitation")
        assert cursor.fetchone()[0] == 0


@pytest.mark.postgres_only
def test_nested_tenant_contexts_restore_the_outer_institution(cast):
    with tenant_context(cast.a.institution.id):
        with tenant_context(cast.b.institution.id):
            assert set(Membership.unscoped.values_list("institution_id", flat=True)) == {
                cast.b.institution.id
            }
        assert set(Membership.unscoped.values_list("institution_id", flat=True)) == {
            cast.a.institution.id
        }


def test_unique_handles_are_per_institution(cast):
    with tenant_context(cast.b.institution.id):
        Membership.objects.create(
            institution=cast.b.institution,
            user=cast.a.admin.user,
            handle=cast.a.author.handle,
            display_name="Same",
        )
    with tenant_context(cast.a.institution.id), pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            institution=cast.a.institution,
            user=cast.b.admin.user,
            handle=cast.a.author.handle,
            display_name="Dup",
        )


def test_tenant_models_are_tenant_models():
    assert all(
        issubclass(m, TenantModel) for m in (Membership, Invitation, ApiToken, Post, Revision)
    )
