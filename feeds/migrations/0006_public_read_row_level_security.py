"""Row-level security for the anonymous public read path: rows that are public by nature are
readable by the application role without a tenant transaction (PostgreSQL only).

Every policy here applies only while *no* institution is selected
(``podium_public_read()``): a tenant transaction still sees its own
institution's rows and nothing else, exactly as before. Without one, the application role sees:

- posts that were published (a retracted one too: its notice, date and reason are the public
  record; its text is in its revisions, which stay hidden);
- revisions that were published, of posts that are not retracted (the current text and the
  earlier texts of a corrected post, which its permalink shows);
- attachments of a post's current public revision (post not retracted), and their media;
- memberships (every profile, active or former staff, is public) and former handles (their
  addresses redirect to the member).

Drafts, submitted, scheduled, rejected and retracted texts, invitations, tokens and every other
tenant-owned table stay unreadable without the institution: their policies are unchanged. The
policies are SELECT-only, so writes still need the tenant transaction.

All the public read path's policies are in this one migration (the membership ones too), so
that what anonymous readers can reach is written down in one place.
"""

from django.db import migrations

from accounts.tenancy import RunSQLOnPostgres

# "No institution selected", as a function the planner does not inline. Written inline
# (``podium_current_institution() IS NULL``) the planner guesses it true for 0.5% of rows, so
# every OR of the two policies looked like a handful of rows, and it chose plans that sort all
# 100,000 posts of an institution to show 50 (1.6 s for a feed); a boolean function it guesses
# at a third, and it reads the feed's index in order (35 ms). Same answer either way.
CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION podium_public_read() RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$ BEGIN RETURN NULLIF(current_setting('app.institution_id', true), '') IS NULL; END $$
"""
DROP_FUNCTION = "DROP FUNCTION IF EXISTS podium_public_read()"
NO_INSTITUTION = "podium_public_read()"

PUBLIC_ROWS = {
    "feeds_post": "published_at IS NOT NULL",
    "feeds_revision": (
        "published_at IS NOT NULL AND EXISTS (SELECT 1 FROM feeds_post p "
        "WHERE p.id = feeds_revision.post_id AND p.retracted_at IS NULL)"
    ),
    "feeds_attachment": (
        "EXISTS (SELECT 1 FROM feeds_post p WHERE p.public_revision_id = "
        "feeds_attachment.revision_id AND p.retracted_at IS NULL)"
    ),
    # The attachment's own policy applies inside the subquery: public attachments only.
    "feeds_media": ("EXISTS (SELECT 1 FROM feeds_attachment a WHERE a.media_id = feeds_media.id)"),
    "accounts_membership": "status IN ('active', 'former')",
    "accounts_formerhandle": "true",
}

CREATE = [CREATE_FUNCTION] + [
    f"CREATE POLICY public_read ON {table} FOR SELECT USING ({NO_INSTITUTION} AND {condition})"
    for table, condition in PUBLIC_ROWS.items()
]
DROP = [f"DROP POLICY IF EXISTS public_read ON {table}" for table in PUBLIC_ROWS] + [DROP_FUNCTION]


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0005_tenant_references"),
        ("accounts", "0008_former_handles_and_website_verification"),
    ]

    operations = [RunSQLOnPostgres(CREATE, DROP)]
