"""Connecting network accounts: token ends and instance limits on accounts, Mastodon apps per
instance, authorisations in progress, and notices to owners."""

import django.db.models.deletion
import django.db.models.manager
import django.utils.timezone
from django.db import migrations, models

from accounts.tenancy import EnableRowLevelSecurity, EnforceTenantReferences


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_former_handles_and_website_verification"),
        ("crossposting", "0003_tenant_references"),
    ]

    operations = [
        migrations.AddField(
            model_name="networkaccount",
            name="characters_reserved_per_url",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="networkaccount",
            name="max_characters",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="networkaccount",
            name="max_media_attachments",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="networkaccount",
            name="reauthorisation_noticed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="networkaccount",
            name="token_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="networkaccount",
            name="token_issued_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="MastodonApp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("instance_url", models.URLField(max_length=500)),
                ("redirect_uri", models.URLField(max_length=500)),
                ("scopes", models.CharField(max_length=200)),
                ("client_id", models.CharField(max_length=500)),
                ("secret", models.BinaryField(default=b"")),
                ("supports_pkce", models.BooleanField(default=False)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "institution",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.institution",
                    ),
                ),
            ],
            options={
                "abstract": False,
                "base_manager_name": "unscoped",
                "default_manager_name": "unscoped",
            },
            managers=[
                ("unscoped", django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name="ConnectAttempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "network",
                    models.CharField(
                        choices=[
                            ("mastodon", "Mastodon"),
                            ("bluesky", "Bluesky"),
                            ("x", "X"),
                            ("linkedin", "LinkedIn"),
                            ("threads", "Threads"),
                        ],
                        max_length=20,
                    ),
                ),
                ("for_institution", models.BooleanField(default=False)),
                ("base_url", models.URLField(max_length=500)),
                ("nonce_digest", models.CharField(max_length=64)),
                ("secret", models.BinaryField(default=b"")),
                ("session_digest", models.CharField(blank=True, max_length=64)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("expires_at", models.DateTimeField()),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "account",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="crossposting.networkaccount",
                    ),
                ),
                (
                    "institution",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.institution",
                    ),
                ),
                (
                    "member",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.membership",
                    ),
                ),
                (
                    "app",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="crossposting.mastodonapp",
                    ),
                ),
            ],
            options={
                "abstract": False,
                "base_manager_name": "unscoped",
                "default_manager_name": "unscoped",
            },
            managers=[
                ("unscoped", django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name="NetworkAccountNotice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=40)),
                ("key", models.CharField(max_length=200)),
                ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="crossposting.networkaccount",
                    ),
                ),
                (
                    "institution",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.institution",
                    ),
                ),
                (
                    "membership",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.membership",
                    ),
                ),
            ],
            options={
                "abstract": False,
                "base_manager_name": "unscoped",
                "default_manager_name": "unscoped",
            },
            managers=[
                ("unscoped", django.db.models.manager.Manager()),
            ],
        ),
        migrations.AddConstraint(
            model_name="mastodonapp",
            constraint=models.UniqueConstraint(
                fields=("institution", "instance_url", "redirect_uri", "scopes"),
                name="crossposting_mastodon_app_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="networkaccountnotice",
            constraint=models.UniqueConstraint(
                fields=("institution", "key"), name="crossposting_account_notice_once"
            ),
        ),
        EnableRowLevelSecurity("mastodonapp"),
        EnableRowLevelSecurity("connectattempt"),
        EnableRowLevelSecurity("networkaccountnotice"),
        EnforceTenantReferences("mastodonapp"),
        EnforceTenantReferences("connectattempt"),
        EnforceTenantReferences("networkaccountnotice"),
    ]
