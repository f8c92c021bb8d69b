"""Targets belong to a revision: the accounts a revision is copied to are part of what reviewers
approve, and a correction may choose others. Each existing target (chosen for the whole post)
becomes a target of every revision of its post, so nothing sends differently than before."""

import django.db.models.deletion
from django.db import migrations, models

from accounts.tenancy import tenant_reference_name


def targets_of_every_revision(apps, schema_editor):
    Institution = apps.get_model("accounts", "Institution")
    PostTarget = apps.get_model("crossposting", "PostTarget")
    Revision = apps.get_model("feeds", "Revision")
    postgres = schema_editor.connection.vendor == "postgresql"
    alias = schema_editor.connection.alias  # the owner's connection, not the app's
    for institution in Institution._default_manager.using(alias).all():
        if postgres:  # row-level security: act for this institution
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('app.institution_id', %s, true)", [str(institution.id)]
                )
        targets = PostTarget._default_manager.using(alias).filter(
            institution_id=institution.id, revision__isnull=True
        )
        for target in list(targets):
            revisions = list(
                Revision._default_manager.using(alias)
                .filter(post_id=target.post_id)
                .order_by("number")
                .values_list("id", flat=True)
            )
            if not revisions:
                target.delete()
                continue
            target.revision_id = revisions[-1]
            target.save(update_fields=["revision"])
            PostTarget._default_manager.using(alias).bulk_create(
                PostTarget(
                    institution_id=target.institution_id,
                    post_id=target.post_id,
                    revision_id=revision_id,
                    account_id=target.account_id,
                    created_at=target.created_at,
                )
                for revision_id in revisions[:-1]
            )


def revision_in_same_institution(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    name = tenant_reference_name("crossposting_posttarget", "revision_id")
    schema_editor.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = "
        "'feeds_revision_tenant_key') THEN ALTER TABLE feeds_revision ADD CONSTRAINT "
        "feeds_revision_tenant_key UNIQUE (institution_id, id); END IF; END $$"
    )
    schema_editor.execute(
        f'ALTER TABLE crossposting_posttarget ADD CONSTRAINT "{name}" FOREIGN KEY '
        "(institution_id, revision_id) REFERENCES feeds_revision (institution_id, id) "
        "DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("crossposting", "0004_connect_accounts"),
        ("feeds", "0006_public_read_row_level_security"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="posttarget", name="crossposting_target_unique"),
        migrations.AddField(
            model_name="posttarget",
            name="revision",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="targets",
                to="feeds.revision",
            ),
        ),
        migrations.RunPython(targets_of_every_revision, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="posttarget",
            name="revision",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="targets",
                to="feeds.revision",
            ),
        ),
        migrations.AddConstraint(
            model_name="posttarget",
            constraint=models.UniqueConstraint(
                fields=("institution", "revision", "account"), name="crossposting_target_unique"
            ),
        ),
        # The new reference stays inside one institution, like the others (0003).
        migrations.RunPython(revision_in_same_institution, migrations.RunPython.noop),
    ]
