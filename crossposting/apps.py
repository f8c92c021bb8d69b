from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrosspostingConfig(AppConfig):
    name = "crossposting"
    verbose_name = _("Cross-posting")

    def ready(self) -> None:
        from crossposting import services
        from feeds import hooks

        # The outbox: deliveries are written in the transaction that publishes, corrects or
        # retracts the post.
        hooks.revision_submitted.register(services.on_revision_submitted)
        hooks.post_published.register(services.on_post_published)
        hooks.post_corrected.register(services.on_post_corrected)
        hooks.post_retracted.register(services.on_post_retracted)
        # Connected accounts are rel="me" links on their member's public profile.
        from crossposting.connect.public import profile_links

        hooks.register_profile_links(profile_links)
