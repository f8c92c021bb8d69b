"""The Celery base task for work inside one institution.

Tasks take ids plus ``institution_id`` (a keyword argument, never a model instance); the base
task runs the body inside ``tenant_context(institution_id)``, so the fail-closed managers and
row-level security apply to background work exactly as to requests.
"""

from __future__ import annotations

from celery import Task


class TenantTask(Task):
    """Runs the task inside the institution given as the keyword argument ``institution_id``."""

    abstract = True

    def __call__(self, *args, **kwargs):
        from accounts.tenancy import tenant_context

        institution_id = kwargs.get("institution_id")
        if not isinstance(institution_id, int) or isinstance(institution_id, bool):
            raise TypeError(
                f"Task {self.name} needs institution_id=<int> as a keyword argument, "
                f"got {institution_id!r}"
            )
        with tenant_context(institution_id):
            return self.run(*args, **kwargs)
