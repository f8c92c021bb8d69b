from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from accounts.services import institution_changed_handlers
        from feeds import hooks
        from moderation import services

        hooks.set_review_gate(services.review_gate)
        hooks.revision_submitted.register(services.on_revision_submitted)
        hooks.revision_approved.register(services.on_revision_approved)
        if services.follow_institution_settings not in institution_changed_handlers:
            institution_changed_handlers.append(services.follow_institution_settings)
