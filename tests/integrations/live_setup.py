"""Prepare the live server's database: an institution, an author and an administrator with
tokens. Prints them as JSON."""

import json

import django

django.setup()

from django.db import transaction  # noqa: E402

from accounts import services  # noqa: E402
from accounts.models import Role, User  # noqa: E402

with transaction.atomic():
    institution = services.create_institution(slug="northside-school", name="Northside School")
    people = {}
    for role in (Role.AUTHOR, Role.ADMIN):
        user = User.objects.create_user(f"{role}@example.org", "x")
        member = services.add_member(
            institution, user, role=role, handle=role, display_name=role.title()
        )
        scopes = ["read", "write"] if role == Role.AUTHOR else ["read", "review", "admin"]
        _token, people[role] = services.create_token(member, name="example", scopes=scopes)
print(json.dumps({"institution": institution.slug, **people}))
