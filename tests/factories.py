"""factory-boy factories. Tenant-owned rows are created inside their institution's context."""

from __future__ import annotations

import factory
from django.utils import timezone

from accounts.models import Institution, Membership, Role, User
from accounts.tenancy import tenant_context

PASSWORD = "correct horse battery staple"


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"institution-{n}")
    name = factory.Sequence(lambda n: f"Institution {n}")
    kind = Institution.Kind.SCHOOL
    locale = "en"
    timezone = "Europe/Berlin"
    review_required = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TenantFactory(factory.django.DjangoModelFactory):
    """Creates the row inside its institution's tenant context (as the application would)."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        institution = kwargs["institution"]
        with tenant_context(institution.id):
            return model_class.objects.create(*args, **kwargs)


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    institution = factory.SubFactory(InstitutionFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.AUTHOR
    handle = factory.Sequence(lambda n: f"member{n}")
    display_name = factory.Faker("name")
    job_title = "Teacher"
    joined_at = factory.LazyFunction(timezone.now)
