"""Tokens that end and accounts that lose access: LinkedIn owners are reminded before the 60-day
permission ends and told once when it has; Threads tokens are refreshed before they end; an
account that needs re-authorisation e-mails its owners once per transition, not per delivery."""

# The fixtures come from connect_support (imported below); using them as parameters is not a
# redefinition.
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tenancy import tenant_context
from crossposting import credentials
from crossposting import services as crossposting
from crossposting.connect import notices, services, tasks
from crossposting.models import NetworkAccount
from tests.crossposting.connect_support import (  # noqa: F401 (fixtures)
    audit_verbs,
    oauth,
    oauth_servers,
)


def _linkedin(cast, *, days: float, member=None) -> NetworkAccount:
    return crossposting.connect_account(
        cast.a.institution, network="linkedin", handle="Ada Lovelace",
        base_url="https://api.linkedin.example", secrets={"access_token": "t"},
        remote_user_id="urn:li:person:1", member=member,
        token_expires_at=timezone.now() + timedelta(days=days),
    )  # fmt: skip


def _reload(account: NetworkAccount) -> NetworkAccount:
    with tenant_context(account.institution_id):
        return NetworkAccount.objects.get(id=account.id)


def _care(institution) -> dict:
    return tasks.care_for_accounts_of(institution_id=institution.id)


def test_the_owner_is_reminded_once_before_the_linkedin_permission_ends(cast):
    account = _linkedin(cast, days=5, member=cast.a.author)
    assert _care(cast.a.institution)["linkedin_reminded"] == 1
    assert _care(cast.a.institution)["linkedin_reminded"] == 0
    [reminder] = mail.outbox
    assert reminder.to == [cast.a.author.user.email]
    assert "LinkedIn permission for Ada Lovelace ends soon" in reminder.subject
    assert "re-authorise" in reminder.body
    assert _reload(account).status == "active"


def test_no_reminder_while_the_end_is_far(cast):
    _linkedin(cast, days=30, member=cast.a.author)
    _care(cast.a.institution)
    assert mail.outbox == []


def test_every_administrator_hears_about_an_institution_account(cast):
    _linkedin(cast, days=2)
    _care(cast.a.institution)
    assert sorted(m.to[0] for m in mail.outbox) == [cast.a.admin.user.email]


def test_an_ended_linkedin_permission_marks_the_account_and_tells_the_owner_once(cast):
    account = _linkedin(cast, days=5, member=cast.a.author)
    _care(cast.a.institution)  # the reminder
    with tenant_context(cast.a.institution.id):
        NetworkAccount.objects.filter(id=account.id).update(
            token_expires_at=timezone.now() - timedelta(minutes=1)
        )
    result = _care(cast.a.institution)
    assert result["linkedin_expired"] == 1 and result["reauthorisation_notices"] == 1
    _care(cast.a.institution)
    assert len(mail.outbox) == 2
    assert "needs re-authorisation" in mail.outbox[1].subject
    assert "The LinkedIn permission ended" in mail.outbox[1].body
    account = _reload(account)
    assert account.status == "needs_reauthorisation"
    assert audit_verbs(cast.a.institution).count("network_account.needs_reauthorisation") == 1


@pytest.fixture
def threads(oauth):
    return oauth["threads"]


def _threads_account(cast, fake, *, ends_in_days: float, age_hours: float):
    user_id, token = fake.add_account("northside")
    now = timezone.now()
    fake.tokens[token]["issued"] = (now - timedelta(hours=age_hours)).timestamp()
    account = crossposting.connect_account(
        cast.a.institution, network="threads", handle="@northside", base_url=fake.base_url,
        secrets={"access_token": token}, remote_user_id=user_id, member=cast.a.author,
        token_expires_at=now + timedelta(days=ends_in_days),
        token_issued_at=now - timedelta(hours=age_hours),
    )  # fmt: skip
    return account, token


def _token(account) -> str:
    account = _reload(account)
    return credentials.unseal(account.institution_id, account.id, account.credentials)[
        "access_token"
    ]


def test_a_threads_token_near_its_end_is_refreshed(cast, threads):
    account, old = _threads_account(cast, threads, ends_in_days=3, age_hours=48)
    assert services.refresh_threads_tokens(cast.a.institution.id) == 1
    new = _token(account)
    assert new != old and new in threads.tokens
    account = _reload(account)
    assert account.token_expires_at - timezone.now() > timedelta(days=59)
    assert account.credentials_version == 2
    assert "network_account.refresh_token" in audit_verbs(cast.a.institution)


def test_a_threads_token_younger_than_a_day_or_far_from_its_end_is_left(cast, threads):
    young, young_token = _threads_account(cast, threads, ends_in_days=3, age_hours=2)
    assert services.refresh_threads_tokens(cast.a.institution.id) == 0
    assert _token(young) == young_token


def test_a_refused_threads_refresh_needs_re_authorisation_and_mails_the_owner(cast, threads):
    account, token = _threads_account(cast, threads, ends_in_days=3, age_hours=48)
    threads.tokens.pop(token)
    result = _care(cast.a.institution)
    assert result["threads_refreshed"] == 0 and result["reauthorisation_notices"] == 1
    account = _reload(account)
    assert account.status == "needs_reauthorisation"
    assert "Threads refused" in account.status_reason
    assert [m.to for m in mail.outbox] == [[cast.a.author.user.email]]


def test_one_email_per_transition_not_per_failed_delivery(stage):
    """The delivery engine marks the account when the network refuses its token; however many
    deliveries fail, the owners hear once; after reconnecting, a new loss is a new e-mail."""
    mastodon = stage.fakes["mastodon"]
    account = stage.accounts["mastodon"]
    institution = stage.institution
    mastodon.revoke(credentials.unseal(institution.id, account.id, account.credentials)[
        "access_token"
    ])  # fmt: skip
    for body in ("First concert", "Second concert"):
        stage.publish(body, networks=["mastodon"])
        stage.run()
        notices.notify_reauthorisation(institution.id)
    assert _reload(account).status == "needs_reauthorisation"
    admins = [m for m in mail.outbox if "needs re-authorisation" in m.subject]
    assert [m.to for m in admins] == [[stage.cast.a.admin.user.email]]
    _user_id, token = mastodon.add_account("podium-again")
    crossposting.connect_account(
        institution, network="mastodon", handle="@podium", base_url=mastodon.base_url,
        secrets={"access_token": token}, remote_user_id=account.remote_user_id,
    )  # fmt: skip
    mastodon.revoke(token)
    stage.publish("Third concert", networks=["mastodon"])
    stage.run()
    notices.notify_reauthorisation(institution.id)
    notices.notify_reauthorisation(institution.id)
    assert len([m for m in mail.outbox if "needs re-authorisation" in m.subject]) == 2


def test_a_mastodon_app_secret_is_bound_to_its_row_and_rotated_with_the_accounts(
    cast, oauth, settings, capsys
):
    import base64
    import os

    from django.core.management import call_command

    from crossposting.connect import flows
    from crossposting.models import MastodonApp

    def key() -> str:
        return base64.urlsafe_b64encode(os.urandom(32)).decode()

    old, new = key(), key()
    settings.PODIUM_CREDENTIALS_KEYS = [old]
    app = flows.mastodon_app(cast.a.institution, oauth["mastodon"].base_url)
    secret = flows.mastodon_app_secret(app)
    assert secret == oauth["mastodon"].apps[app.client_id]["client_secret"]
    assert secret.encode() not in bytes(app.secret)
    with pytest.raises(credentials.CredentialsUnreadable):  # not as an account's credentials
        credentials.unseal(app.institution_id, app.id, app.secret)
    settings.PODIUM_CREDENTIALS_KEYS = [new, old]
    call_command("rotate_credentials")
    assert "1 Mastodon app secrets re-encrypted" in capsys.readouterr().out
    settings.PODIUM_CREDENTIALS_KEYS = [new]
    with tenant_context(cast.a.institution.id):
        assert flows.mastodon_app_secret(MastodonApp.objects.get(id=app.id)) == secret
