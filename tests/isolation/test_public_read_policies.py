"""The public read policies (feeds migration 0006): without an institution selected, the
application role reads rows that are public by nature and nothing else; with one selected, it
reads that institution's rows only, as before.

Every text a post can hold outside its public record (draft, submitted, changes requested,
rejected, scheduled, a correction in review, a retracted text) carries a marker; the tests
read every column of every tenant-owned table as ``podium_app`` and look for the markers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import ProgrammingError, connection, transaction
from django.utils import timezone

from accounts import services as accounts_services
from accounts.tenancy import public_read_context, tenant_context
from feeds import services
from feeds.models import Attachment, Media, Post, Revision
from feeds.public import queries
from feeds.services import PostContent
from tests.feeds.test_public_pages import correct, publish, with_image
from tests.isolation.test_model_inventory import tenant_models

pytestmark = pytest.mark.postgres_only


def _write(author, body, **content):
    content.setdefault("language", "en")
    return services.create_post(author, PostContent(body=body, **content))


def _world(side):
    """Posts of every state with marked texts; returns (public texts, secret texts)."""
    name = side.institution.slug
    secret = {}

    def mark(what):
        secret[what] = f"SECRET-{what}-{name}"
        return secret[what]

    _write(side.author, mark("draft"), attachments=with_image(side.author, mark("draft-alt")))
    services.submit_post(_write(side.author, mark("submitted")), side.author)
    rejected = services.submit_post(_write(side.author, mark("rejected")), side.author)
    services.reject_post(rejected, by=side.reviewer, reason=mark("rejection-reason"))
    sent_back = services.submit_post(_write(side.author, mark("sent-back")), side.author)
    services.request_changes(sent_back, by=side.reviewer, comment=mark("review-comment"))
    scheduled = services.create_post(
        side.author,
        PostContent(mark("scheduled"), "en"),
        publish_at=timezone.now() + timedelta(days=3),
    )
    services.approve_post(services.submit_post(scheduled, side.author), by=side.reviewer)
    retracted = publish(
        side.author,
        side.reviewer,
        mark("retracted"),
        attachments=with_image(side.author, mark("retracted-alt")),
    )
    services.retract_post(retracted, by=side.reviewer, reason=f"Public reason of {name}")
    public = publish(
        side.author,
        side.reviewer,
        f"Public text of {name}",
        attachments=with_image(side.author, f"Public alt of {name}"),
    )
    in_review = publish(side.author, side.reviewer, f"Public before correction of {name}")
    services.submit_post(
        services.edit_post(in_review, side.author, PostContent(mark("correction"), "en")),
        side.author,
    )
    corrected = publish(side.author, side.reviewer, f"Public first text of {name}")
    correct(corrected, side.author, side.reviewer, f"Public corrected text of {name}")
    accounts_services.invite_member(
        side.institution,
        email=f"{mark('invitation')}@example.org".lower(),
        role="author",
        invited_by=side.admin,
    )
    return {"public": public, "retracted": retracted, "in_review": in_review}, secret


def _every_value_readable():
    """Every value of every column of every tenant-owned table the connection can read."""
    values = []
    with connection.cursor() as cursor:
        for model in tenant_models():
            cursor.execute(f'SELECT * FROM "{model._meta.db_table}"')  # noqa: S608 (model names)
            values += [str(value) for row in cursor.fetchall() for value in row]
    return values


def _secrets_found(secret):
    readable = "\n".join(_every_value_readable()).lower()
    return sorted(what for what, text in secret.items() if text.lower() in readable)


def test_without_an_institution_no_non_public_text_of_any_institution_is_readable(cast):
    _posts, secret_a = _world(cast.a)
    _posts, secret_b = _world(cast.b)
    # Nothing selected: the public read path's situation.
    assert _secrets_found(secret_a | {f"b-{k}": v for k, v in secret_b.items()}) == []
    readable = "\n".join(_every_value_readable())
    for side in (cast.a, cast.b):
        slug = side.institution.slug
        for text in (
            f"Public text of {slug}",
            f"Public alt of {slug}",
            f"Public reason of {slug}",
            f"Public before correction of {slug}",
            f"Public first text of {slug}",
            f"Public corrected text of {slug}",
        ):
            assert text in readable, text


def test_public_read_context_reads_public_rows_and_no_draft(cast):
    posts, secret = _world(cast.a)
    with public_read_context(cast.a.institution.id):
        assert _secrets_found(secret) == []
        visible = set(Post.objects.values_list("id", flat=True))
        assert visible == set(
            Post.unscoped.filter(published_at__isnull=False).values_list("id", flat=True)
        )
        # The retracted post's notice is public; its text and images are not.
        retracted = queries.public_permalink(posts["retracted"].id)
        assert retracted.is_retracted and retracted.body_html == "" and retracted.images == ()
        assert not Revision.objects.filter(post_id=posts["retracted"].id).exists()
        # A correction in review: the published text reads, the one in review does not.
        bodies = set(
            Revision.objects.filter(post_id=posts["in_review"].id).values_list("body", flat=True)
        )
        assert bodies == {f"Public before correction of {cast.a.institution.slug}"}
        # Only images of public texts.
        public_media = {
            row.media_id
            for row in Attachment.objects.filter(revision_id=posts["public"].public_revision_id)
        }
        assert set(Media.objects.values_list("id", flat=True)) == public_media
    with tenant_context(cast.a.institution.id):  # the institution itself still sees all
        assert Revision.objects.filter(body__startswith="SECRET-").count() >= 7


def test_with_an_institution_selected_public_rows_of_others_stay_unreadable(cast):
    posts, _secret = _world(cast.a)
    with tenant_context(cast.b.institution.id):
        assert not Post.unscoped.filter(id=posts["public"].id).exists()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM accounts_membership WHERE institution_id = %s",
                [cast.a.institution.id],
            )
            assert cursor.fetchone()[0] == 0


def test_public_read_policies_allow_no_writes(cast):
    posts, _secret = _world(cast.a)
    public = posts["public"]
    assert Post.unscoped.filter(id=public.id).update(retraction_reason="changed") == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM feeds_attachment WHERE revision_id = %s", [public.public_revision_id]
        )
        assert cursor.rowcount == 0
        cursor.execute("UPDATE feeds_revision SET body = 'changed' WHERE post_id = %s", [public.id])
        assert cursor.rowcount == 0
    with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
        Revision.unscoped.bulk_create(
            [
                Revision(
                    institution=cast.a.institution,
                    post_id=public.id,
                    number=99,
                    body="Injected",
                    language="en",
                    body_html="<p>Injected</p>",
                    created_by=cast.a.author,
                )
            ]
        )


def test_public_pages_show_public_posts_without_a_tenant_transaction(cast, client, settings):
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    posts, secret = _world(cast.a)
    slug = cast.a.institution.slug
    pages = [
        f"/{slug}/",
        f"/{slug}/@{cast.a.author.handle}/",
        f"/{slug}/posts/{posts['public'].id}/",
        f"/{slug}/posts/{posts['retracted'].id}/",
        f"/{slug}/posts/{posts['in_review'].id}/",
        f"/{slug}/feed.atom",
        f"/{slug}/feed.json",
        f"/{slug}/@{cast.a.author.handle}/feed.rss",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert not [what for what, text in secret.items() if text in body], path
    assert f"Public text of {slug}" in client.get(f"/{slug}/").content.decode()
    assert f"Public reason of {slug}" in client.get(pages[3]).content.decode()
