"""The operators' admin at /ops/: institutions (with their members, read-only) and users.

Tenant-owned models (Membership, Invitation, ApiToken) are deliberately not registered on their
own: a plain ModelAdmin lists rows with no institution selected, which row-level security on
PostgreSQL answers with nothing (and the fail-closed manager with an error). They appear only
as read-only inlines of their institution, read inside its tenant context.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import queries, services
from accounts.errors import DomainError
from accounts.forms import add_domain_error, https_by_default, timezone_choices
from accounts.models import Institution, Invitation, Membership, Role, User
from accounts.tenancy import tenant_context

admin.site.site_header = gettext_lazy("Podium operations")
admin.site.site_title = gettext_lazy("Podium operations")
admin.site.index_title = gettext_lazy("Installation")
admin.site.site_url = reverse_lazy("accounts:home")


# Institutions ------------------------------------------------------------------------------


class InstitutionAdminForm(forms.ModelForm):
    timezone = forms.ChoiceField(label=gettext_lazy("time zone"), choices=timezone_choices)
    first_admin_email = forms.EmailField(
        label=gettext_lazy("Invite the first administrator"),
        required=False,
        help_text=gettext_lazy(
            "E-mail address of the person who will run the institution on Podium. They get an "
            "invitation link valid for 14 days."
        ),
    )

    class Meta:
        model = Institution
        formfield_callback = https_by_default
        # No logo: institution admins upload it on their settings page, which re-encodes it.
        fields = [
            "slug", "name", "kind", "locale", "timezone", "description", "contact_email",
            "contact_phone", "website", "address", "accent_color", "review_required",
            "search_indexing",
        ]  # fmt: skip


class InviteByOperatorForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"))
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices, initial=Role.ADMIN)


class NamedInlineFormSet(BaseInlineFormSet):
    """Tenant models point to their institution with related_name="+", which leaves Django
    without a form prefix; the inline names it instead."""

    prefix_name = "rows"

    @classmethod
    def get_default_prefix(cls) -> str:
        return cls.prefix_name


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(ReadOnlyInline):
    """Members, read through the unscoped manager inside the institution's tenant context."""

    model = Membership
    formset = type("MemberFormSet", (NamedInlineFormSet,), {"prefix_name": "members"})
    fields = ("display_name", "handle", "user", "role", "status", "joined_at", "left_at")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("members (read-only; institution admins manage them)")


class InvitationInline(ReadOnlyInline):
    model = Invitation
    formset = type("InvitationFormSet", (NamedInlineFormSet,), {"prefix_name": "invitations"})
    fields = ("email", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("invitations (read-only)")


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    form = InstitutionAdminForm
    change_form_template = "accounts/admin_institution_change_form.html"
    list_display = ("name", "slug", "kind", "locale", "review_required", "publishing_paused")
    list_filter = ("kind", "locale", "publishing_paused")
    search_fields = ("name", "slug")
    inlines = [MembershipInline, InvitationInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    _settings_fields = (
        "name", "kind", "locale", "timezone", "description", "contact_email", "contact_phone",
        "website", "address", "accent_color", "review_required", "search_indexing",
    )  # fmt: skip

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ("slug", *self._settings_fields)}),
                (_("First administrator"), {"fields": ("first_admin_email",)}),
            ]
        return [
            (None, {"fields": ("slug", *self._settings_fields)}),
            (_("State"), {"fields": ("publishing_paused", "created_at")}),
        ]

    def get_readonly_fields(self, request, obj=None):
        # The address is part of every public link; the emergency stop has its own audited
        # service in the feeds app.
        return ("slug", "publishing_paused", "created_at") if obj else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        # An institution's posts are a public record, and its tenant rows are invisible to
        # the admin's deletion collector under row-level security: no deleting here.
        return False

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if change:
            changed = [name for name in form.changed_data if name in self._settings_fields]
            # The form already wrote its values onto obj: change a fresh row, so the audit log
            # sees what was there before.
            fresh = Institution.objects.get(pk=obj.pk)
            services.update_institution(fresh, **{name: data[name] for name in changed})
            return
        created = services.create_institution(
            slug=data["slug"], name=data["name"], **{
                name: data[name] for name in self._settings_fields if name != "name"
            }
        )  # fmt: skip
        # The admin goes on with the object it built (to log and redirect): make it the row.
        obj.pk = created.pk
        obj.created_at = created.created_at
        obj._state.adding = False
        obj._state.db = created._state.db
        if data.get("first_admin_email"):
            invitation, _secret = services.invite_member(
                created, email=data["first_admin_email"], role=Role.ADMIN, invited_by=None
            )
            self.message_user(
                request,
                _("An invitation to become administrator has been sent to %(email)s.")
                % {"email": invitation.email},
                messages.SUCCESS,
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The inlines list tenant-owned rows (members, invitations). They may be read only
        # inside the institution's tenant context (row-level security on PostgreSQL), and a
        # TemplateResponse renders lazily, after this method returns: so open the context here
        # and render before leaving it.
        try:
            institution_id = int(object_id)
        except (TypeError, ValueError):
            return super().change_view(request, object_id, form_url, extra_context)
        with tenant_context(institution_id):
            response = super().change_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    def get_urls(self):
        return [
            path(
                "<path:object_id>/invite/",
                self.admin_site.admin_view(self.invite_view),
                name="accounts_institution_invite",
            ),
            *super().get_urls(),
        ]

    def invite_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Invite someone (usually an administrator) to an existing institution."""
        institution = self.get_object(request, object_id)
        if institution is None:
            raise Http404(_("There is no such institution."))
        if not self.has_change_permission(request, institution):
            raise PermissionDenied
        form = InviteByOperatorForm(request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    invitation, _secret = services.invite_member(
                        institution,
                        email=form.cleaned_data["email"],
                        role=form.cleaned_data["role"],
                        invited_by=None,
                    )
                except DomainError as error:
                    add_domain_error(form, error)
                    status = error.status
                else:
                    self.message_user(
                        request,
                        _("An invitation has been sent to %(email)s.")
                        % {"email": invitation.email},
                        messages.SUCCESS,
                    )
                    return redirect(
                        reverse("admin:accounts_institution_change", args=[institution.pk])
                    )
            else:
                status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": institution,
            "title": _("Invite someone to %(name)s") % {"name": institution.name},
            "form": form,
        }
        return TemplateResponse(request, "accounts/admin_invite.html", context, status=status)


# Users -------------------------------------------------------------------------------------


class OperatorUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("A user with this e-mail address already exists."))
        return email


class OperatorUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("A user with this e-mail address already exists."))
        return email


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """People who sign in with an e-mail address (there is no username)."""

    form = OperatorUserChangeForm
    add_form = OperatorUserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("name", "language")}),
        (gettext_lazy("Memberships"), {"fields": ("memberships",)}),
        (
            gettext_lazy("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("memberships", "last_login", "date_joined")
    list_display = ("email", "name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "name")
    ordering = ("email",)

    @admin.display(description=gettext_lazy("active memberships"))
    def memberships(self, user: User) -> str:
        if user.pk is None:
            return "—"
        rows = queries.memberships_of(user)
        if not rows:
            return _("none")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} · {} · @{}</li>",
                ((m.institution.name, m.get_role_display(), m.handle) for m in rows),
            ),
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        # Memberships keep people on the public record (PROTECT); deactivate accounts instead.
        return False
