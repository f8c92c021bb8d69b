"""Forms of the review pages: the queue's filters, the decisions, policy and lexicon."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError
from feeds.forms import WallClockDateTimeField
from feeds.models import POST_LANGUAGES
from moderation.models import (
    MAX_DEADLINE_HOURS,
    MAX_LEAD_MINUTES,
    MAX_TERM_LENGTH,
    ReviewMode,
    TermKind,
)


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's domain error on the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


class QueueFilterForm(forms.Form):
    author = forms.TypedChoiceField(label=_("Author"), required=False, coerce=int, empty_value=None)
    flag = forms.ChoiceField(label=_("Flag"), required=False)
    age = forms.ChoiceField(
        label=_("Waiting"),
        required=False,
        choices=[
            ("", _("Any time")),
            ("1d", _("More than a day")),
            ("3d", _("More than 3 days")),
            ("7d", _("More than a week")),
        ],
    )

    def __init__(self, *args, authors=(), categories=(), **kwargs) -> None:
        kwargs.setdefault("auto_id", "queue-%s")
        super().__init__(*args, **kwargs)
        self.fields["author"].choices = [("", _("Everyone"))] + [
            (str(m.id), f"{m.display_name} (@{m.handle})") for m in authors
        ]
        self.fields["flag"].choices = [("", _("Any"))] + [(c, c) for c in categories]


class ApproveForm(forms.Form):
    publish_at = WallClockDateTimeField(
        label=_("New publish time (optional)"),
        required=False,
        help_text=_("Only needed when the deadline or the publish time has passed."),
    )
    publish_now = forms.BooleanField(label=_("Publish as soon as approved"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "approve-%s")
        super().__init__(*args, **kwargs)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give the reason.")},
    )

    def __init__(self, *args, prefix_id: str = "reason", label=None, help_text="", **kwargs):
        kwargs.setdefault("auto_id", f"{prefix_id}-%s")
        super().__init__(*args, **kwargs)
        if label:
            self.fields["reason"].label = label
        self.fields["reason"].help_text = help_text


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("What should change"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The author sees this comment with the post."),
        error_messages={"required": _("Say what should change.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "changes-%s")
        super().__init__(*args, **kwargs)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class PolicyForm(forms.Form):
    review_mode = forms.ChoiceField(label=_("Review"), choices=ReviewMode.choices)
    approvals_required = forms.TypedChoiceField(
        label=_("Approvals needed"),
        coerce=int,
        choices=[(1, _("One reviewer")), (2, _("Two different reviewers"))],
    )
    approval_deadline_hours = forms.IntegerField(
        label=_("Approval deadline (hours before the publish time)"),
        min_value=0,
        max_value=MAX_DEADLINE_HOURS,
    )
    minimum_lead_minutes = forms.IntegerField(
        label=_("Minimum lead time (minutes between submission and publish time)"),
        min_value=0,
        max_value=MAX_LEAD_MINUTES,
    )
    allowed_domains = forms.CharField(
        label=_("Allowed link domains"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line. Links to other domains are flagged when this list is set."),
    )
    denied_domains = forms.CharField(
        label=_("Denied link domains"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line."),
    )
    own_contacts = forms.CharField(
        label=_("The institution's own contacts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: switchboard number, role address, IBAN, postal address. They are "
            "shown as the institution's own instead of as a risk."
        ),
    )
    api_decisions_need_code = forms.BooleanField(
        label=_("API decisions need a fresh second-factor code"),
        required=False,
        help_text=_(
            "Decisions through the API then carry the current code of the reviewer's "
            "authenticator app in the X-Podium-OTP header; a token alone decides nothing."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "policy-%s")
        super().__init__(*args, **kwargs)

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("allowed_domains", "denied_domains", "own_contacts"):
            data[name] = _lines(data[name])
        return data


class LexiconTermForm(forms.Form):
    term = forms.CharField(label=_("Term"), max_length=MAX_TERM_LENGTH)
    kind = forms.ChoiceField(label=_("Kind"), choices=TermKind.choices)
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Every language")), *POST_LANGUAGES]
    )
    category = forms.CharField(label=_("Category (optional)"), required=False, max_length=40)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "term-%s")
        super().__init__(*args, **kwargs)


class PauseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (shown to members)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "pause-%s")
        super().__init__(*args, **kwargs)


class PreferencesForm(forms.Form):
    on_submission = forms.BooleanField(label=_("New posts to review"), required=False)
    on_deadline = forms.BooleanField(label=_("Approaching and passed deadlines"), required=False)
    on_decision = forms.BooleanField(label=_("Decisions on my posts"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "notices-%s")
        super().__init__(*args, **kwargs)
