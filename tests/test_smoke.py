import pytest

from accounts.models import Membership
from accounts.tenancy import NoInstitutionSelected, tenant_context


def test_membership_query_without_institution_fails_closed(cast):
    with pytest.raises(NoInstitutionSelected):
        list(Membership.objects.all())


def test_membership_query_sees_only_its_institution(cast):
    with tenant_context(cast.a.institution.id):
        handles = set(Membership.objects.values_list("handle", flat=True))
    assert cast.a.admin.handle in handles
    assert cast.b.admin.handle not in handles


@pytest.mark.postgres_only
def test_tests_run_as_the_application_role_that_owns_nothing(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        user, is_superuser, bypasses_rls = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        owned = cursor.fetchone()[0]
    assert (is_superuser, bypasses_rls, owned) == (False, False, 0), user
