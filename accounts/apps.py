from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from . import personal_data  # noqa: F401  (registers this app's models)


class PortalAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "accounts.admin_site.PortalAdminSite"
