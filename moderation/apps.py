from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from feeds import hooks
        from moderation import services

        hooks.set_review_gate(services.review_gate)
        hooks.revision_submitted.register(services.on_revision_submitted)
