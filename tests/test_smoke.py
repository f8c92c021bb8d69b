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
