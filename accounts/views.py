"""Web pages of accounts: signing in, the dashboard, invitations, profiles, members, tokens.

Views stay thin: they parse the request with a form, call a service of ``accounts.services``
and render. Domain errors become form errors or messages with the error's 4xx status.
Inside an institution the request already runs in ``tenant_context`` (TenantMiddleware), and
``request.membership`` is the signed-in member on members-only pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import audit, queries, second_factor, services
from accounts import webhooks as webhook_services
from accounts.errors import DomainError, InvitationInvalid, NotFound
from accounts.forms import (
    AccountSettingsForm,
    AuditFilterForm,
    InstitutionSettingsForm,
    InviteForm,
    JoinForm,
    LanguageForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    RegisterAndJoinForm,
    RoleForm,
    SecondFactorCodeForm,
    SetPasswordForm,
    SignInForm,
    TokenForm,
    WebhookEndpointForm,
    add_domain_error,
)
from accounts.models import (
    ApiToken,
    AuditEvent,
    Institution,
    Invitation,
    Membership,
    Role,
    User,
    WebhookEndpoint,
    WebhookEvent,
)
from accounts.numbers import parse_ascii_int
from accounts.permissions import Permission, has_permission
from accounts.websites import podium_page

# The status of a page that shows a form again because its input was not accepted.
INVALID_INPUT = 400


def _require(request: HttpRequest, permission: Permission) -> None:
    """Refuse (403) a member whose role lacks the permission."""
    if not has_permission(request.membership, permission):
        raise PermissionDenied(_("Your role does not allow this page."))


def _submitted(request: HttpRequest) -> tuple:
    """A form's data and files: bound on POST (even when empty), unbound otherwise."""
    if request.method == "POST":
        return request.POST, request.FILES
    return None, None


def _safe_next(request: HttpRequest, fallback: str) -> str:
    """``next`` when it is an address on this site starting with "/", else ``fallback``.

    Only a path: ``redirect()`` reads any other word (``next=home``, ``next=2031-05-17``) as
    the name of a view, and an unknown name raised NoReverseMatch, a 500 (issue 11)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


class InvalidFormStatusMixin:
    """Django's form views answer 200 to rejected input; ours answer 400."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = INVALID_INPUT
        return response


# Signing in, signing out, passwords -----------------------------------------------------------


class SignInView(InvalidFormStatusMixin, auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not second_factor.has_second_factor(user):
            return super().form_valid(form)
        # The password is right; the person is signed in only after the second factor.
        self.request.session.cycle_key()
        self.request.session[second_factor.PENDING_USER_SESSION_KEY] = user.pk
        self.request.session[second_factor.PENDING_BACKEND_SESSION_KEY] = user.backend
        return redirect(second_factor.verify_url(self.get_success_url()))

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "too_many_attempts"):
            response.status_code = 429
        return response


class SignOutView(auth_views.LogoutView):
    """Signs out on POST only (a link could be followed by a prefetcher)."""


class PasswordChangeView(
    InvalidFormStatusMixin, SuccessMessageMixin, auth_views.PasswordChangeView
):
    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:settings")
    success_message = gettext_lazy("Your password has been changed.")


class PasswordResetView(InvalidFormStatusMixin, auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-sent")


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class PasswordResetConfirmView(InvalidFormStatusMixin, auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# The signed-in person ----------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: every institution the person belongs to, with what they may do there."""
    memberships = queries.memberships_of(request.user)
    return render(request, "accounts/home.html", {"memberships": memberships})


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = AccountSettingsForm(
        _submitted(request)[0], initial={"name": user.name, "language": user.language}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_account(user, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                # The next page is already in the newly chosen language.
                messages.success(request, _("Your settings have been saved."))
                return redirect("accounts:settings")
        else:
            status = INVALID_INPUT
    return render(request, "accounts/account_settings.html", {"form": form}, status=status)


@login_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switch in the navigation: saves the choice on the account."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose English or German."))
        return redirect(_safe_next(request, reverse("accounts:home")))
    services.update_account(request.user, language=form.cleaned_data["language"])
    return redirect(_safe_next(request, reverse("accounts:home")))


# Invitations -------------------------------------------------------------------------------


def _invitation_gone(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/invitation_invalid.html",
        {"institution": request.institution},
        status=InvitationInvalid.status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, institution_slug: str, secret: str) -> HttpResponse:
    """Join an institution through the link of an invitation e-mail.

    Signed in as the invited address: choose a profile and join. Not signed in and no account
    for the address yet: create one at the same time. An account exists: sign in first.
    """
    institution = request.institution
    try:
        invitation = services.find_invitation(institution, secret)
    except NotFound as error:
        raise Http404(error.message) from error
    except InvitationInvalid:
        return _invitation_gone(request)
    context = {"institution": institution, "invitation": invitation}
    user = request.user

    if user.is_authenticated and user.email.lower() != invitation.email.lower():
        return render(request, "accounts/invitation_wrong_user.html", context, status=403)
    if not user.is_authenticated and User.objects.filter(email__iexact=invitation.email).exists():
        return render(request, "accounts/invitation_sign_in.html", context)

    data = request.POST if request.method == "POST" else None
    if user.is_authenticated:
        form = JoinForm(data, initial={"display_name": user.name})
    else:
        form = RegisterAndJoinForm(data, email=invitation.email)
    context["form"] = form
    if request.method != "POST":
        return render(request, "accounts/invitation.html", context)
    if not form.is_valid():
        return render(request, "accounts/invitation.html", context, status=INVALID_INPUT)

    profile = {name: form.cleaned_data[name] for name in ("handle", "display_name", "job_title")}
    try:
        # One unit: an account is only created together with its membership.
        with transaction.atomic():
            if not user.is_authenticated:
                user = services.register_user(
                    email=invitation.email,
                    password=form.cleaned_data["password1"],
                    name=form.cleaned_data["name"],
                )
            services.accept_invitation(institution, secret, user=user, **profile)
    except InvitationInvalid:
        return _invitation_gone(request)
    except DomainError as error:
        add_domain_error(form, error)
        return render(request, "accounts/invitation.html", context, status=error.status)

    if not request.user.is_authenticated:
        login(request, user, backend="accounts.auth.EmailBackend")
    messages.success(
        request,
        _(
            "Welcome to %(institution)s. This is your public profile: add a photo and a few "
            "words about your work."
        )
        % {"institution": institution.name},
    )
    return redirect("accounts:profile", institution_slug=institution.slug)


accept_invitation.tenant_access = "open"


# The member's own profile ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Edit one's own public profile in this institution."""
    _require(request, Permission.EDIT_OWN_PROFILE)
    membership = request.membership
    form = ProfileForm(*_submitted(request), initial=ProfileForm.initial_for(membership))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                # A fresh row: a rejected change must not linger on the one the page shows.
                services.update_profile(
                    Membership.objects.get(id=membership.id), **form.profile_changes()
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Your profile has been saved."))
                return redirect("accounts:profile", institution_slug=institution_slug)
        else:
            status = INVALID_INPUT
    return render(
        request, "accounts/profile.html", {"form": form, "membership": membership}, status=status
    )


profile.tenant_access = "member"


# Administration of the institution ---------------------------------------------------------


def _render_members(
    request: HttpRequest, *, invite_form: InviteForm | None = None, status: int = 200
) -> HttpResponse:
    people = list(Membership.objects.select_related("user").order_by("display_name", "id"))
    invitations = Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")
    context = {
        "active_members": [m for m in people if m.is_active],
        "former_members": [m for m in people if m.is_former],
        "invitations": invitations,
        "invite_form": invite_form or InviteForm(),
        "roles": Role.choices,
    }
    return render(request, "accounts/members.html", context, status=status)


def _member_or_404(membership_id: int) -> Membership:
    # Objects.filter is scoped to the institution in the URL: another's member is "missing".
    membership = Membership.objects.select_related("user").filter(id=membership_id).first()
    if membership is None:
        raise Http404(_("There is no such member."))
    return membership


@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Members, former staff and pending invitations; POST invites someone."""
    _require(request, Permission.MANAGE_MEMBERS)
    if request.method == "GET":
        return _render_members(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _render_members(request, invite_form=form, status=INVALID_INPUT)
    try:
        invitation, _secret = services.invite_member(
            request.institution,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.membership,
        )
    except DomainError as error:
        add_domain_error(form, error)
        return _render_members(request, invite_form=form, status=error.status)
    messages.success(
        request,
        _("An invitation has been sent to %(email)s. It is valid for 14 days.")
        % {"email": invitation.email},
    )
    return redirect("accounts:members", institution_slug=institution_slug)


members.tenant_access = "member"


@require_POST
def change_role(request: HttpRequest, institution_slug: str, membership_id: int) -> HttpResponse:
    _require(request, Permission.MANAGE_MEMBERS)
    membership = _member_or_404(membership_id)
    try:
        # A role change asks for a fresh second-factor code (then the form is sent again).
        second_factor.require_recent(
            request, reverse("accounts:members", kwargs={"institution_slug": institution_slug})
        )
    except second_factor.StepUpRequired as step_up:
        return step_up.response
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the roles in the list."))
        return _render_members(request, status=INVALID_INPUT)
    try:
        membership = services.change_role(membership, form.cleaned_data["role"])
    except DomainError as error:
        messages.error(request, error.message)
        return _render_members(request, status=error.status)
    messages.success(
        request,
        _("%(name)s is now %(role)s.")
        % {"name": membership.display_name, "role": membership.get_role_display()},
    )
    gave_up_own_admin_role = membership.id == request.membership.id and not has_permission(
        membership, Permission.MANAGE_MEMBERS
    )
    if gave_up_own_admin_role:
        return redirect("accounts:home")
    return redirect("accounts:members", institution_slug=institution_slug)


change_role.tenant_access = "member"


@require_http_methods(["GET", "POST"])
def retire_member(request: HttpRequest, institution_slug: str, membership_id: int) -> HttpResponse:
    """Ask for confirmation (GET), then turn the member into former staff (POST)."""
    _require(request, Permission.MANAGE_MEMBERS)
    membership = _member_or_404(membership_id)
    if request.method == "GET":
        if not membership.is_active:
            raise Http404(_("This member is already former staff."))
        return render(request, "accounts/retire_member.html", {"member": membership})
    try:
        services.retire_member(membership)
    except DomainError as error:
        messages.error(request, error.message)
        return _render_members(request, status=error.status)
    messages.success(
        request,
        _("%(name)s is now listed as former staff. Their profile stays as a public record.")
        % {"name": membership.display_name},
    )
    if membership.id == request.membership.id:
        return redirect("accounts:home")
    return redirect("accounts:members", institution_slug=institution_slug)


retire_member.tenant_access = "member"


@require_POST
def revoke_invitation(
    request: HttpRequest, institution_slug: str, invitation_id: int
) -> HttpResponse:
    _require(request, Permission.MANAGE_MEMBERS)
    invitation = Invitation.objects.filter(id=invitation_id).first()
    if invitation is None:
        raise Http404(_("There is no such invitation."))
    try:
        services.revoke_invitation(invitation)
    except DomainError as error:
        messages.error(request, error.message)
        return _render_members(request, status=error.status)
    messages.success(
        request,
        _("The invitation to %(email)s has been withdrawn.") % {"email": invitation.email},
    )
    return redirect("accounts:members", institution_slug=institution_slug)


revoke_invitation.tenant_access = "member"


@require_http_methods(["GET", "POST"])
def institution_settings(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Name, contact, branding and policies of the institution."""
    _require(request, Permission.EDIT_INSTITUTION)
    institution = request.institution
    form = InstitutionSettingsForm(
        *_submitted(request),
        initial=InstitutionSettingsForm.initial_for(institution),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                # A fresh row: a rejected change must not linger on the one the page shows.
                fresh = Institution.objects.get(id=institution.id)
                services.update_institution(fresh, **form.institution_changes())
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("The settings have been saved."))
                return redirect("accounts:institution-settings", institution_slug=institution_slug)
        else:
            status = INVALID_INPUT
    return render(
        request,
        "accounts/institution_settings.html",
        {"form": form, "institution": institution, "podium_page": podium_page(institution)},
        status=status,
    )


institution_settings.tenant_access = "member"


@require_http_methods(["POST"])
def check_website(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """Have the institution's website checked for a rel="me" link back to its Podium page."""
    _require(request, Permission.EDIT_INSTITUTION)
    try:
        services.request_website_check(request.institution, by=request.membership)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The website is being checked. Reload this page in a moment."))
    return redirect(
        reverse("accounts:institution-settings", args=[institution_slug]) + "#website-check"
    )


check_website.tenant_access = "member"


# API tokens --------------------------------------------------------------------------------


@never_cache  # the page that shows a new secret must not be kept by any cache
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """The member's own API tokens; POST creates one and shows its secret this once."""
    _require(request, Permission.MANAGE_OWN_TOKENS)
    membership = request.membership
    zone = request.institution.zone
    form = TokenForm(_submitted(request)[0], membership=membership, zone=zone)
    new_token = secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if second_factor.grants_decisions(form.cleaned_data["scopes"]):
                # A token that can decide is made after a fresh second-factor check, as a role
                # change is (then the form is sent again).
                try:
                    second_factor.require_recent(
                        request, reverse("accounts:tokens", args=[institution_slug])
                    )
                except second_factor.StepUpRequired as step_up:
                    return step_up.response
            try:
                new_token, secret = services.create_token(
                    membership,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.expires_at(),
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                form = TokenForm(membership=membership, zone=zone)
        else:
            status = INVALID_INPUT
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(membership=membership),
        "new_token": new_token,
        "secret": secret,
        "now": timezone.now(),
    }
    return render(request, "accounts/tokens.html", context, status=status)


tokens.tenant_access = "member"


@require_POST
def revoke_token(request: HttpRequest, institution_slug: str, token_id: int) -> HttpResponse:
    _require(request, Permission.MANAGE_OWN_TOKENS)
    token = ApiToken.objects.filter(id=token_id, membership=request.membership).first()
    if token is None:
        raise Http404(_("There is no such token."))
    services.revoke_token(token)
    messages.success(request, _("The token “%(name)s” has been revoked.") % {"name": token.name})
    return redirect("accounts:tokens", institution_slug=institution_slug)


revoke_token.tenant_access = "member"


# The audit log -----------------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


@never_cache
@require_GET
def audit_log(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """The institution's audit events, newest first, with filters, verification and export."""
    _require(request, Permission.VIEW_AUDIT_LOG)
    institution = request.institution
    form = AuditFilterForm(request.GET or None)
    filters = form.filters(institution.zone) if form.is_bound and form.is_valid() else {}
    events = AuditEvent.objects.filter(**filters).order_by("-sequence")
    before = parse_ascii_int(request.GET.get("before", ""), minimum=1)
    if before is not None:
        events = events.filter(sequence__lt=before)
    page = list(events[: AUDIT_PAGE_SIZE + 1])
    verification = audit.verify(institution.id) if request.GET.get("verify") == "1" else None
    query = request.GET.copy()
    query.pop("before", None)
    query.pop("verify", None)
    return render(
        request,
        "accounts/audit_log.html",
        {
            "form": form,
            "events": page[:AUDIT_PAGE_SIZE],
            "next_before": page[AUDIT_PAGE_SIZE - 1].sequence
            if len(page) > AUDIT_PAGE_SIZE
            else None,
            "query": query.urlencode(),
            "verification": verification,
        },
        status=200 if not form.is_bound or form.is_valid() else INVALID_INPUT,
    )


audit_log.tenant_access = "member"

AUDIT_EXPORTS = {
    "jsonl": (audit.export_json_lines, "application/jsonl; charset=utf-8"),
    "csv": (audit.export_csv, "text/csv; charset=utf-8"),
}


@require_GET
def export_audit_log(
    request: HttpRequest, institution_slug: str, export_format: str
) -> HttpResponse:
    """The audit log (filtered like the page) as JSON Lines or CSV, streamed in chain order."""
    _require(request, Permission.VIEW_AUDIT_LOG)
    if export_format not in AUDIT_EXPORTS:
        raise Http404
    institution = request.institution
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponse(_("The filters are not valid."), status=INVALID_INPUT)
    filters = form.filters(institution.zone) if form.is_bound else {}
    writer, content_type = AUDIT_EXPORTS[export_format]
    response = StreamingHttpResponse(writer(institution.id, **filters), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{institution.slug}-{stamp}.{export_format}"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


export_audit_log.tenant_access = "member"


# The second factor -------------------------------------------------------------------------------


def _pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(second_factor.PENDING_USER_SESSION_KEY)
    return User.objects.filter(pk=user_id, is_active=True).first() if user_id else None


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    """Enter a code: to finish signing in, or to confirm a decision with a fresh code."""
    pending = _pending_user(request)
    user = pending or (request.user if request.user.is_authenticated else None)
    if user is None:
        return redirect("accounts:login")
    next_url = _safe_next(request, reverse("accounts:home"))
    form = SecondFactorCodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        device = (
            second_factor.check_code(user, form.data.get("code", "")) if form.is_valid() else None
        )
        if device is not None:
            if pending is not None:
                backend = request.session.pop(second_factor.PENDING_BACKEND_SESSION_KEY, None)
                request.session.pop(second_factor.PENDING_USER_SESSION_KEY, None)
                login(request, user, backend=backend)
            second_factor.mark_verified(request, device)
            return redirect(next_url)
        form.add_error(
            "code", _("This code is not right, or it was used already. Try the current one.")
        )
        status = INVALID_INPUT
    return render(
        request,
        "accounts/second_factor_verify.html",
        {"form": form, "next": next_url, "signing_in": pending is not None},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def second_factor_settings(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app, see recovery codes once, renew them or remove the factor."""
    user = request.user
    next_url = _safe_next(request, "")
    context: dict = {
        "next": next_url,
        "has_factor": second_factor.has_second_factor(user),
        "has_app": second_factor.has_app(user),
        "passkey_count": second_factor.passkey_count(user),
    }
    status = 200
    action = request.POST.get("action") if request.method == "POST" else None
    if action in ("renew", "remove") and not second_factor.is_recent(request):
        return redirect(second_factor.verify_url(request.get_full_path()))
    if action == "start":
        second_factor.start_totp(user)
    elif action == "confirm":
        device = second_factor.pending_totp(user)
        form = SecondFactorCodeForm(request.POST)
        codes = (
            second_factor.confirm_totp(user, device, form.data.get("code", ""))
            if device is not None and form.is_valid()
            else None
        )
        if codes is None:
            form.add_error("code", _("This code is not right. Enter the code the app shows now."))
            context["form"] = form
            status = INVALID_INPUT
        else:
            second_factor.mark_verified(request, device)
            context.update(has_factor=True, has_app=True, recovery_codes=codes)
    elif action == "renew":
        context["recovery_codes"] = second_factor.new_recovery_codes(user)
    elif action == "remove":
        second_factor.remove_second_factor(user)
        messages.success(request, _("The second factor has been removed."))
        return redirect("accounts:second-factor")
    pending = None if context["has_app"] else second_factor.pending_totp(user)
    if pending is not None:
        import segno

        uri = second_factor.provisioning_uri(pending)
        context.update(
            pending=pending,
            secret=second_factor.secret_for_typing(pending),
            qr_svg=segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff"),
            form=context.get("form") or SecondFactorCodeForm(),
        )
    return render(request, "accounts/second_factor.html", context, status=status)


# Webhooks ----------------------------------------------------------------------------------------

WEBHOOK_EVENTS_SHOWN = 50


def _webhook_endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(id=endpoint_id).first()
    if endpoint is None:
        raise Http404(_("There is no such webhook endpoint."))
    return endpoint


def _render_webhook(
    request: HttpRequest, endpoint, form, *, secret: str = "", status: int = 200
) -> HttpResponse:
    events = (
        WebhookEvent.objects.filter(endpoint=endpoint)
        .prefetch_related("attempt_rows")
        .order_by("-created_at", "-id")[:WEBHOOK_EVENTS_SHOWN]
    )
    context = {"endpoint": endpoint, "form": form, "events": events, "secret": secret}
    return render(request, "accounts/webhook_endpoint.html", context, status=status)


@never_cache  # the page that shows a new secret must not be kept by any cache
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """The institution's webhook endpoints; POST registers one and shows its secret this once."""
    _require(request, Permission.EDIT_INSTITUTION)
    form = WebhookEndpointForm(_submitted(request)[0])
    new_endpoint, secret, status = None, "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                new_endpoint, secret = webhook_services.create_endpoint(
                    request.institution, request.membership, **form.cleaned_data
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                form = WebhookEndpointForm()
        else:
            status = INVALID_INPUT
    context = {
        "form": form,
        "endpoints": WebhookEndpoint.objects.order_by("created_at", "id"),
        "new_endpoint": new_endpoint,
        "secret": secret,
    }
    return render(request, "accounts/webhooks.html", context, status=status)


webhooks.tenant_access = "member"


@never_cache
@require_http_methods(["GET", "POST"])
def webhook_endpoint(request: HttpRequest, institution_slug: str, endpoint_id: int) -> HttpResponse:
    """One endpoint: change it, and see its recent events with every attempt."""
    _require(request, Permission.EDIT_INSTITUTION)
    endpoint = _webhook_endpoint_or_404(endpoint_id)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
    }
    form = WebhookEndpointForm(_submitted(request)[0], initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                webhook_services.update_endpoint(endpoint, request.membership, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("The webhook endpoint has been saved."))
                return redirect(
                    "accounts:webhook-endpoint",
                    institution_slug=institution_slug,
                    endpoint_id=endpoint.id,
                )
        else:
            status = INVALID_INPUT
    return _render_webhook(request, endpoint, form, status=status)


webhook_endpoint.tenant_access = "member"


@never_cache
@require_POST
def rotate_webhook_secret(
    request: HttpRequest, institution_slug: str, endpoint_id: int
) -> HttpResponse:
    """A new secret, shown this once; the old one keeps signing for a day."""
    _require(request, Permission.EDIT_INSTITUTION)
    endpoint = _webhook_endpoint_or_404(endpoint_id)
    secret = webhook_services.rotate_secret(endpoint, request.membership)
    endpoint.refresh_from_db()
    form = WebhookEndpointForm(
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
            "is_active": endpoint.is_active,
        }
    )
    return _render_webhook(request, endpoint, form, secret=secret)


rotate_webhook_secret.tenant_access = "member"


@require_POST
def delete_webhook_endpoint(
    request: HttpRequest, institution_slug: str, endpoint_id: int
) -> HttpResponse:
    _require(request, Permission.EDIT_INSTITUTION)
    endpoint = _webhook_endpoint_or_404(endpoint_id)
    webhook_services.delete_endpoint(endpoint, request.membership)
    messages.success(request, _("The webhook endpoint has been removed."))
    return redirect("accounts:webhooks", institution_slug=institution_slug)


delete_webhook_endpoint.tenant_access = "member"


@require_POST
def send_webhook_event_again(
    request: HttpRequest, institution_slug: str, event_id: int
) -> HttpResponse:
    _require(request, Permission.EDIT_INSTITUTION)
    event = WebhookEvent.objects.filter(id=event_id).first()
    if event is None:
        raise Http404(_("There is no such webhook event."))
    try:
        webhook_services.send_again(event, request.membership)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The event will be sent again in a moment."))
    return redirect(
        "accounts:webhook-endpoint",
        institution_slug=institution_slug,
        endpoint_id=event.endpoint_id,
    )


send_webhook_event_again.tenant_access = "member"
