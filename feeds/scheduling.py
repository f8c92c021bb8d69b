"""Publish times: chosen on the institution's wall clock, stored as UTC instants.

A local time that does not exist (the hour skipped when clocks go forward) or exists twice (the
hour repeated when they go back) is refused with a message instead of being guessed, so a
daylight-saving change can never shift a post.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.models import Institution

# A publish time may lie this far in the past (the time it takes to fill in a form).
PAST_TOLERANCE = timedelta(minutes=2)
MAX_AHEAD = timedelta(days=366)


class PublishTimeInvalid(DomainError):
    code = "publish_time_invalid"


def to_utc(institution: Institution, value: datetime) -> datetime:
    """The UTC instant of a publish time; a naive value is read on the institution's clock."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    zone = institution.zone
    first = value.replace(tzinfo=zone, fold=0)
    second = value.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # Either the wall time was skipped (a gap) or it happens twice (an overlap).
        round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if round_trip != value:
            raise PublishTimeInvalid(
                _(
                    "%(time)s does not exist in %(zone)s: the clocks skip this hour for "
                    "daylight saving time. Choose a time outside it."
                )
                % {"time": value.strftime("%Y-%m-%d %H:%M"), "zone": institution.timezone},
                field="publish_at",
            )
        raise PublishTimeInvalid(
            _(
                "%(time)s happens twice in %(zone)s when the clocks go back. Choose a time "
                "outside this hour."
            )
            % {"time": value.strftime("%Y-%m-%d %H:%M"), "zone": institution.timezone},
            field="publish_at",
        )
    return first.astimezone(UTC)


def check_publish_time(institution: Institution, value: datetime | None) -> datetime | None:
    """A publish time that is neither past nor too far ahead, in UTC (None: when approved)."""
    if value is None:
        return None
    instant = to_utc(institution, value)
    now = timezone.now()
    if instant < now - PAST_TOLERANCE:
        local = timezone.localtime(instant, institution.zone)
        raise PublishTimeInvalid(
            _("The publish time %(time)s has passed. Choose a time in the future.")
            % {"time": date_format(local, "DATETIME_FORMAT")},
            field="publish_at",
        )
    if instant > now + MAX_AHEAD:
        raise PublishTimeInvalid(
            _("Posts can be scheduled up to a year ahead."), field="publish_at"
        )
    return instant
