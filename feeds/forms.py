"""Forms of the composer. They parse and check what an author typed; feeds.services makes changes.

The composer form carries up to four attached images as numbered rows
(``attachment-<n>-media``, ``attachment-<n>-alt``, ``attachment-<n>-remove``) so that the page
works with a plain form post and composer.js can add rows after an upload without a formset
management form. A file chosen in the form's own file input (no JavaScript) arrives as
``new_image`` with its description in ``new_image_alt``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError
from accounts.models import Institution
from accounts.numbers import time_in_range
from feeds.images import MAX_UPLOAD_BYTES
from feeds.models import (
    MAX_ALT_TEXT_LENGTH,
    MAX_ATTACHMENTS,
    MAX_BODY_LENGTH,
    POST_LANGUAGES,
    BodyFormat,
    Media,
    Post,
    PostState,
    Revision,
)
from feeds.services import AttachmentInput, PostContent

# What the buttons of the composer ask for. Anything else is treated as a preview: it saves nothing.
SAVE, SUBMIT, PREVIEW, ATTACH = "save", "submit", "preview", "attach"
INTENTS = frozenset({SAVE, SUBMIT, PREVIEW, ATTACH})
ACCEPTED_IMAGE_TYPES = "image/jpeg,image/png,image/webp,image/gif"
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_ROW_KEY = re.compile(r"^attachment-(\d{1,3})-media$")
# More rows than this in one request is not a person using the page.
_MAX_ROWS = MAX_ATTACHMENTS * 4


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's domain error on the field it names, or above the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class LanguageSelect(forms.Select):
    """Each language named in itself, marked with its language for screen readers."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value:
            option["attrs"]["lang"] = value
        return option


class WallClockDateTimeField(forms.Field):
    """A ``datetime-local`` value, kept naive: feeds.scheduling reads it on the institution's
    clock and explains daylight-saving gaps and overlaps instead of guessing."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT)
    default_error_messages = {
        "invalid": _("Enter the date and time like 2031-05-17 09:30."),
        "out_of_range": _("Give a time between 1970 and 2999."),
    }

    def to_python(self, value: object) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        text = str(value).strip().replace(" ", "T", 1)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as error:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from error
        if parsed.tzinfo is not None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if not time_in_range(parsed):
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return parsed.replace(second=0, microsecond=0)


def local_input_value(institution: Institution, instant: datetime | None) -> str:
    """A stored UTC instant as the ``datetime-local`` value on the institution's clock."""
    if instant is None:
        return ""
    return timezone.localtime(instant, institution.zone).strftime(DATETIME_LOCAL_FORMAT)


@dataclass
class AttachmentRow:
    """One image in the form: its upload, its description and whether to drop it."""

    index: int
    media_id: int
    alt_text: str = ""
    remove: bool = False
    media: Media | None = None
    error: str = ""

    @property
    def prefix(self) -> str:
        return f"attachment-{self.index}"

    @property
    def alt_id(self) -> str:
        return f"composer-{self.prefix}-alt"

    @property
    def error_id(self) -> str:
        return f"{self.alt_id}_error"

    @property
    def remove_id(self) -> str:
        return f"composer-{self.prefix}-remove"

    @property
    def thumbnail_url(self) -> str:
        if self.media is None:
            return ""
        return (self.media.small or self.media.image).url


class PostForm(forms.Form):
    """The composer: text, format, language, publish time and images with descriptions."""

    body = forms.CharField(
        label=_("Text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "true"}),
    )
    body_format = forms.ChoiceField(
        label=_("Format"),
        choices=BodyFormat.choices,
        initial=BodyFormat.TEXT,
        widget=forms.RadioSelect,
        help_text=_(
            "Markdown allows *emphasis*, **bold**, [links](https://example.org), lists, "
            "quotes and `code`; no headings, images or HTML."
        ),
    )
    language = forms.ChoiceField(
        label=_("Language of the post"), choices=POST_LANGUAGES, widget=LanguageSelect
    )
    publish_at = WallClockDateTimeField(label=_("Publish at"), required=False)
    new_image = forms.FileField(
        label=_("Add an image"),
        required=False,
        allow_empty_file=False,
        widget=forms.FileInput(attrs={"accept": ACCEPTED_IMAGE_TYPES}),
    )
    new_image_alt = forms.CharField(
        label=_("Description of the added image (alt text)"),
        required=False,
        max_length=MAX_ALT_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the image shows, for people who cannot see it."),
    )

    def __init__(
        self,
        data=None,
        files=None,
        *,
        institution: Institution,
        intent: str = PREVIEW,
        rows: list[AttachmentRow] | None = None,
        show_publish_at: bool = True,
        **kwargs,
    ) -> None:
        kwargs.setdefault("auto_id", "composer-%s")
        kwargs.setdefault("label_suffix", "")  # labels read as names, as elsewhere in Podium
        super().__init__(data, files, **kwargs)
        self.institution = institution
        self.intent = intent if intent in INTENTS else PREVIEW
        self.fields["language"].initial = institution.locale
        self.fields["new_image"].help_text = _(
            "JPEG, PNG, WebP or GIF, up to %(mb)d MB. Location and camera data are removed."
        ) % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        self.fields["body"].help_text = _("Up to %(limit)d characters.") % {
            "limit": MAX_BODY_LENGTH
        }
        if show_publish_at:
            when_empty = (
                _("Leave empty to publish as soon as it is approved.")
                if institution.review_required
                else _("Leave empty to publish right away.")
            )
            self.fields["publish_at"].help_text = _("Date and time in %(zone)s. %(when_empty)s") % {
                "zone": institution.timezone,
                "when_empty": when_empty,
            }
        else:
            # A published post keeps its publication date; a correction has no publish time.
            del self.fields["publish_at"]
        if data is not None:
            self.rows = rows_from_data(data)
        else:
            self.rows = rows or []
        # Errors of the images as a whole (from feeds.services), shown at the images.
        self.attachment_errors: list[str] = []

    # Attachment rows ----------------------------------------------------------------------

    @property
    def kept_rows(self) -> list[AttachmentRow]:
        return [row for row in self.rows if not row.remove]

    def media_ids(self) -> list[int]:
        return [row.media_id for row in self.rows]

    def attach_media(self, media: dict[int, Media]) -> None:
        """Give each row its uploaded image; rows naming no upload of this author are dropped."""
        self.rows = [row for row in self.rows if row.media_id in media]
        for row in self.rows:
            row.media = media[row.media_id]

    def add_row(self, media: Media, alt_text: str) -> AttachmentRow:
        index = max((row.index for row in self.rows), default=-1) + 1
        row = AttachmentRow(index=index, media_id=media.id, alt_text=alt_text, media=media)
        self.rows.append(row)
        return row

    def drop_row(self, row: AttachmentRow) -> None:
        self.rows.remove(row)

    @property
    def new_row_index(self) -> int:
        """The number composer.js gives the next row it adds."""
        return max((row.index for row in self.rows), default=-1) + 1

    @property
    def can_add_image(self) -> bool:
        return len(self.kept_rows) < MAX_ATTACHMENTS

    @property
    def has_row_errors(self) -> bool:
        return any(row.error for row in self.rows)

    @property
    def template_row(self) -> AttachmentRow:
        """The row composer.js copies after an upload (it fills in the placeholders)."""
        return AttachmentRow(index="__index__", media_id="__media__")  # type: ignore[arg-type]

    def add_service_error(self, error: DomainError) -> None:
        """Show a domain error of feeds.services where the author will look for it."""
        if error.field == "attachments":
            self.attachment_errors.append(error.message)
        else:
            add_domain_error(self, error)

    # Validation ---------------------------------------------------------------------------

    def clean_new_image(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("new_image")
        if upload and upload.size > MAX_UPLOAD_BYTES:
            # Checked again (by bytes) in feeds.images; this spares reading a huge file.
            raise ValidationError(
                _("The image is larger than %(mb)d MB.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
                code="too_large",
            )
        return upload

    def clean(self) -> dict:
        cleaned = super().clean()
        saving = self.intent in (SAVE, SUBMIT)
        upload = cleaned.get("new_image")
        if upload and len(self.kept_rows) >= MAX_ATTACHMENTS:
            self.add_error(
                "new_image",
                _("A post can have at most %(count)d images. Remove one first.")
                % {"count": MAX_ATTACHMENTS},
            )
        if saving and upload and not (cleaned.get("new_image_alt") or "").strip():
            self.add_error(
                "new_image_alt",
                _(
                    "Describe the added image for people who cannot see it. Then choose the "
                    "file again: it was not kept."
                ),
            )
        if saving:
            for number, row in enumerate(self.rows, start=1):
                if row.remove:
                    continue
                if not row.alt_text.strip():
                    row.error = gettext(
                        "Image %(number)d needs a description (alt text) for people who "
                        "cannot see it."
                    ) % {"number": number}
                elif len(row.alt_text) > MAX_ALT_TEXT_LENGTH:
                    row.error = gettext(
                        "The description of image %(number)d is longer than %(limit)d characters."
                    ) % {"number": number, "limit": MAX_ALT_TEXT_LENGTH}
        return cleaned

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return valid and not self.has_row_errors

    def error_summary(self) -> list[tuple[str, str]]:
        """Every error with the id of the control it belongs to (for the summary's links)."""
        summary: list[tuple[str, str]] = []
        if not self.is_bound:
            return summary
        for message in self.non_field_errors():
            summary.append(("composer-body", message))
        for name, field in self.fields.items():
            bound = self[name]
            anchor = bound.id_for_label or bound.auto_id
            if isinstance(field.widget, forms.RadioSelect):
                anchor = f"{bound.auto_id}_0"
            for message in bound.errors:
                summary.append((anchor, message))
        for row in self.rows:
            if row.error:
                summary.append((row.alt_id, row.error))
        for message in self.attachment_errors:
            summary.append(("composer-images", message))
        return summary

    # Output -------------------------------------------------------------------------------

    def content(self) -> PostContent:
        """What the author wrote, for feeds.services (which checks it again)."""
        data = self.cleaned_data
        return PostContent(
            body=data.get("body") or "",
            language=data.get("language") or self.institution.locale,
            body_format=data.get("body_format") or BodyFormat.TEXT,
            attachments=tuple(
                AttachmentInput(row.media_id, row.alt_text) for row in self.kept_rows
            ),
        )

    def publish_at_value(self) -> datetime | None:
        return self.cleaned_data.get("publish_at") if "publish_at" in self.fields else None


def rows_from_data(data) -> list[AttachmentRow]:
    """The attachment rows of a submitted composer, in the order of their numbers."""
    rows = []
    for key in data:
        match = _ROW_KEY.match(key)
        if not match:
            continue
        index = int(match.group(1))
        try:
            media_id = int(data.get(key, ""))
        except (TypeError, ValueError):
            continue
        if media_id <= 0:
            continue
        rows.append(
            AttachmentRow(
                index=index,
                media_id=media_id,
                alt_text=(data.get(f"attachment-{index}-alt") or "")[: MAX_ALT_TEXT_LENGTH * 2],
                remove=bool(data.get(f"attachment-{index}-remove")),
            )
        )
    rows.sort(key=lambda row: row.index)
    seen: set[int] = set()
    unique = []
    for row in rows[:_MAX_ROWS]:
        if row.media_id not in seen:
            seen.add(row.media_id)
            unique.append(row)
    return unique


def form_for_post(post: Post, revision: Revision, *, intent: str = PREVIEW) -> PostForm:
    """The composer filled with a post's latest revision, to continue editing it."""
    institution = post.institution
    rows = [
        AttachmentRow(
            index=attachment.position,
            media_id=attachment.media_id,
            alt_text=attachment.alt_text,
            media=attachment.media,
        )
        for attachment in revision.attachments.all()
    ]
    return PostForm(
        institution=institution,
        intent=intent,
        rows=rows,
        show_publish_at=post.published_at is None,
        initial={
            "body": revision.body,
            "body_format": revision.body_format,
            "language": revision.language,
            "publish_at": local_input_value(institution, post.publish_at),
        },
    )


class RetractForm(forms.Form):
    """A reviewer takes a published post down; readers see the reason."""

    reason = forms.CharField(
        label=_("Reason for the retraction"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Readers see this reason in place of the post."),
        error_messages={"required": _("Give the reason that readers will see.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "retract-%s")
        super().__init__(*args, **kwargs)


class MyPostsFilter(forms.Form):
    state = forms.ChoiceField(label=_("Show"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "my-posts-%s")
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All posts")), *PostState.choices]
