from django.core import checks
from django.utils.module_loading import import_string

from .app_settings import app_settings


@checks.register(checks.Tags.compatibility)
def push_provider_check(app_configs, **kwargs):
    """A misconfigured provider fails at start, not at the first notification."""
    from .providers import PushProvider

    try:
        provider = import_string(app_settings.PUSH_PROVIDER)
    except ImportError as error:
        return [
            checks.Error(
                f"NOTIFICATIONS_PUSH_PROVIDER cannot be imported: {error}",
                id="notifications.E001",
            )
        ]
    if not (isinstance(provider, type) and issubclass(provider, PushProvider)):
        return [
            checks.Error(
                "NOTIFICATIONS_PUSH_PROVIDER must name a notifications.providers.PushProvider",
                id="notifications.E002",
            )
        ]
    return []
