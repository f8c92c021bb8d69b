"""Template tags of cross-posting for member pages (the navigation's re-authorisation count)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def reauthorisation_count() -> int:
    """Accounts of the current institution waiting to be authorised again."""
    from crossposting.connect.queries import reauthorisation_count as count

    return count()
