"""Network credentials at rest: encrypted, bound to their row and institution, and rotated to a
new key by a command, after which the old key can go."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.tenancy import tenant_context
from crossposting import credentials, services
from crossposting.models import NetworkAccount

SECRETS = {"access_token": "tok-of-a", "refresh_token": "refresh-of-a"}


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _connect(side, handle="school"):
    return services.connect_account(
        side.institution,
        network="mastodon",
        handle=handle,
        base_url="http://127.0.0.1:9",
        secrets=SECRETS,
    )


def _stored(account) -> bytes:
    with tenant_context(account.institution_id):
        return bytes(NetworkAccount.objects.get(id=account.id).credentials)


@pytest.mark.django_db
def test_credentials_are_never_stored_in_clear(cast):
    account = _connect(cast.a)
    blob = _stored(account)
    assert b"tok-of-a" not in blob and b"refresh" not in blob
    assert services.account_credentials(account) == SECRETS
    with connection.cursor() as cursor, tenant_context(cast.a.institution.id):
        cursor.execute("SELECT credentials FROM crossposting_networkaccount")
        assert all(b"tok-of-a" not in bytes(row[0]) for row in cursor.fetchall())


@pytest.mark.django_db
def test_a_ciphertext_copied_to_another_row_or_institution_does_not_open(cast):
    a = _connect(cast.a)
    other_row = _connect(cast.a, handle="second")
    b = _connect(cast.b)
    blob = _stored(a)
    for target in (other_row, b):
        with pytest.raises(credentials.CredentialsUnreadable):
            credentials.unseal(target.institution_id, target.id, blob)


@pytest.mark.django_db
def test_rotation_re_encrypts_every_row_and_the_old_key_can_then_go(cast, settings, capsys):
    old, new = _key(), _key()
    settings.PODIUM_CREDENTIALS_KEYS = [old]
    accounts = [_connect(cast.a), _connect(cast.a, "second"), _connect(cast.b)]
    settings.PODIUM_CREDENTIALS_KEYS = [new, old]  # the new key first: everything still opens
    assert all(services.account_credentials(a) == SECRETS for a in accounts)
    call_command("rotate_credentials")
    assert "3 of 3" in capsys.readouterr().out
    settings.PODIUM_CREDENTIALS_KEYS = [new]  # the old key removed
    for account in accounts:
        assert credentials.unseal(account.institution_id, account.id, _stored(account)) == SECRETS
    call_command("rotate_credentials")
    assert "0 of 3" in capsys.readouterr().out


@pytest.mark.django_db
def test_without_the_key_the_credentials_do_not_open(cast, settings):
    settings.PODIUM_CREDENTIALS_KEYS = [_key()]
    account = _connect(cast.a)
    settings.PODIUM_CREDENTIALS_KEYS = [_key()]
    with pytest.raises(credentials.CredentialsUnreadable):
        credentials.unseal(account.institution_id, account.id, _stored(account))
