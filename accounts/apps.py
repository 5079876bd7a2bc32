from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from allauth.account.signals import authentication_step_completed
        from django.contrib.auth.signals import user_logged_in

        from consent.signals import consent_withdrawn
        from dsar.staff import staff_limited_to_assigned, staff_window_source

        from . import (  # noqa: F401  (registers them)
            checks,
            dashboard,
            integrations,
            mobile,
            payments,
            personal_data,
            testimonials,
        )
        from .admin_site import mfa_step_completed
        from .middleware import session_login_started
        from .staff_access import staff_access_open_reasons, staff_needs_window

        # Need to know: support staff see only the privacy requests assigned to them, and in
        # the admin only the people they opened an access window for.
        staff_limited_to_assigned(staff_needs_window)
        staff_window_source(staff_access_open_reasons)

        user_logged_in.connect(session_login_started, dispatch_uid="accounts.session_login_started")
        authentication_step_completed.connect(
            mfa_step_completed, dispatch_uid="accounts.mfa_step_completed"
        )
        consent_withdrawn.connect(payments.on_consent_withdrawn, dispatch_uid="accounts.payments")
        consent_withdrawn.connect(
            testimonials.on_consent_withdrawn, dispatch_uid="accounts.testimonials"
        )


class PortalAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "accounts.admin_site.PortalAdminSite"
