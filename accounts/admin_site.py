"""The admin site for privacy officers and support staff: reached only after MFA.

Staff sign in through allauth (so its MFA stage and rate limits apply), never through the admin's
own login form. A staff member without TOTP is sent to set it up; one whose session was not
authenticated with MFA is asked for a code before the admin opens.
"""

from functools import wraps

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import REDIRECT_FIELD_NAME as REDIRECT_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, router
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dsar.admin_gate import NeedToKnowAdminMixin

# Set when allauth reports a completed MFA step (its public `authentication_step_completed`
# signal), to the id of the account that passed it; the session ends with logout.
MFA_SESSION_KEY = "workpex_mfa_user"


def mfa_step_completed(sender, *, request, user, method, **kwargs) -> None:
    if method == "mfa" and request is not None and hasattr(request, "session"):
        request.session[MFA_SESSION_KEY] = str(user.pk)


def session_used_mfa(request) -> bool:
    user = request.user
    return user.is_authenticated and request.session.get(MFA_SESSION_KEY) == str(user.pk)


def staff_mfa_satisfied(request) -> bool:
    user = request.user
    return bool(
        user.is_active and user.is_staff and is_mfa_enabled(user) and session_used_mfa(request)
    )


def _selection_checked(view, model):
    """Refuse a changelist action whose selected ids are not ids of `model`: Django's admin would
    pass them to the database and fail with a server error."""

    pk = model._meta.pk

    @wraps(view)
    def checked(request, *args, **kwargs):
        if request.method == "POST" and ACTION_CHECKBOX_NAME in request.POST:
            try:
                values = [
                    pk.get_prep_value(pk.to_python(value))
                    for value in request.POST.getlist(ACTION_CHECKBOX_NAME)
                ]
            except (ValidationError, ValueError, TypeError):
                messages.error(request, _("Choose the items from the list."))
                return HttpResponseRedirect(request.get_full_path())
            # A number past the database's integer range is no row's id; SQLite would fail on
            # it (PostgreSQL finds nothing), so it is dropped before the query.
            low, high = connections[router.db_for_read(model)].ops.integer_field_range(
                pk.get_internal_type()
            )
            in_range = [
                value
                for value in values
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
            if len(in_range) != len(values):
                request.POST = request.POST.copy()
                request.POST.setlist(ACTION_CHECKBOX_NAME, [str(v) for v in in_range])
        return view(request, *args, **kwargs)

    return checked


class PortalAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Workpex Privacy Portal — staff")
    site_title = gettext_lazy("Workpex privacy admin")
    index_title = gettext_lazy("Privacy operations")

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every ModelAdmin gets the need-to-know gate (it acts on personal-data models only),
        whoever wrote it: ours, Django's, allauth's."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, NeedToKnowAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (NeedToKnowAdminMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        return super().register(model_or_iterable, admin_class, **options)

    def admin_view(self, view, cacheable=False):
        model_admin = getattr(view, "__self__", None)
        if isinstance(model_admin, admin.ModelAdmin):
            view = _selection_checked(view, model_admin.model)
        return super().admin_view(view, cacheable)

    def has_permission(self, request):
        return super().has_permission(request) and staff_mfa_satisfied(request)

    def login(self, request, extra_context=None):
        next_url = request.GET.get(REDIRECT_NAME) or request.get_full_path()
        if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}
        ):
            next_url = reverse("admin:index")
        user = request.user
        if not user.is_authenticated:
            login_url = resolve_url("account_login")
            return redirect(f"{login_url}?{REDIRECT_NAME}={next_url}")
        if not (user.is_active and user.is_staff):
            raise PermissionDenied(_("This area is for Workpex staff only."))
        if not is_mfa_enabled(user):
            messages.warning(
                request,
                _(
                    "Staff must use two-factor authentication. Set up an authenticator app, "
                    "then open the admin again."
                ),
            )
            return redirect(f"{resolve_url('mfa_activate_totp')}?{REDIRECT_NAME}={next_url}")
        if not session_used_mfa(request):
            messages.info(request, _("Enter a code from your authenticator app to continue."))
            return redirect(f"{resolve_url('mfa_reauthenticate')}?{REDIRECT_NAME}={next_url}")
        return redirect(next_url)
