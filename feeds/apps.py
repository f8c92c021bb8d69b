from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = _("Posts and feeds")

    def ready(self) -> None:
        from accounts.services import member_retired_handlers
        from feeds.services import hold_scheduled_posts

        # accounts cannot import feeds; it calls its handlers when a member leaves.
        if hold_scheduled_posts not in member_retired_handlers:
            member_retired_handlers.append(hold_scheduled_posts)
