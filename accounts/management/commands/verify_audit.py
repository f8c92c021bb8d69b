"""``manage.py verify_audit <institution>``: check an institution's audit chain, name the first
event that does not fit, and exit 1 when the chain is broken."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts import audit
from accounts.models import Institution


class Command(BaseCommand):
    help = "Verify the hash chain of an institution's audit log (by slug or id)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("institution", help="the institution's slug or numeric id")

    def handle(self, *args, institution: str, **options) -> None:
        found = Institution.objects.filter(slug=institution).first()
        if found is None and institution.isascii() and institution.isdigit():
            found = Institution.objects.filter(id=int(institution)).first()
        if found is None:
            raise CommandError(f"No institution “{institution}”.")
        result = audit.verify(found.id)
        if result.ok:
            self.stdout.write(f"{found.slug}: the audit log is intact ({result.checked} events).")
            return
        self.stderr.write(
            f"{found.slug}: the audit log is NOT intact. First bad event: sequence "
            f"{result.first_bad_sequence} (id {result.first_bad_event_id}). {result.problem} "
            f"({result.checked} events before it verified.)"
        )
        raise SystemExit(1)
