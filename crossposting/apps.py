from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrosspostingConfig(AppConfig):
    name = "crossposting"
    verbose_name = _("Cross-posting")
