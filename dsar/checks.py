from django.core import checks

from . import registry


@checks.register(checks.Tags.models)
def check_personal_data_registry(app_configs=None, **kwargs):
    return [
        checks.Error(
            f"{label} is not in the personal-data registry.",
            hint=(
                "Register it with dsar.registry.personal_data(...) in its app's "
                "personal_data.py, or mark it with dsar.registry.no_personal_data(..., reason=...)."
            ),
            id="dsar.E001",
            obj=label,
        )
        for label in registry.unaccounted_models()
    ]


def _names_registered_data(held: str) -> bool:
    if registry.entry_by_label(held) is not None:
        return True
    label, _dot, field = held.rpartition(".")
    entry = registry.entry_by_label(label)
    return entry is not None and field in {f.name for f in entry.model._meta.get_fields()}


@checks.register()
def check_service_providers_holds(app_configs=None, **kwargs):
    """A misspelt `holds` entry would silently keep a provider from hearing of a correction."""
    from django.conf import settings

    return [
        checks.Error(
            f"DSAR_SERVICE_PROVIDERS[{provider.get('key')!r}] holds {held!r}, which is neither a "
            "registered model nor a field of one.",
            hint='Name a registry model ("accounts.Invoice") or field ("accounts.User.email").',
            id="dsar.E002",
        )
        for provider in getattr(settings, "DSAR_SERVICE_PROVIDERS", [])
        for held in provider.get("holds") or ()
        if not _names_registered_data(held)
    ]
