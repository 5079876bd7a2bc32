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


@checks.register(checks.Tags.database)
def check_processing_activities(app_configs=None, databases=None, **kwargs):
    """The code (registry entries, the uses people may stop) and the activities' rows agree."""
    if not databases:
        return []
    from .activities import activity_problems

    return [
        checks.Error(
            f"{what} {problem}.",
            hint="Add or fix the processing activity in the admin, or point the code at an "
            "existing one (docs/activities.md).",
            id="dsar.E004",
            obj=what,
        )
        for what, problem in activity_problems()
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


# Canned ACLs that let someone other than the bucket's owner read an object.
READABLE_BY_OTHERS_ACLS = {"public-read", "public-read-write", "authenticated-read"}


@checks.register(checks.Tags.security, deploy=True)
def check_files_in_shared_private_storage(app_configs=None, **kwargs):
    """Exports, photos and scans: any web server must serve what any worker built (shared storage),
    and only through the views that check who is asking (private objects, no public URL)."""
    from django.core.files.storage import FileSystemStorage, storages

    storage = storages["default"]
    problems = []
    if isinstance(storage, FileSystemStorage):
        problems.append(
            checks.Warning(
                "Exports, photos and scans are stored on this machine's disk: a file built by a "
                "worker on another machine cannot be downloaded here.",
                hint="Use the production settings with STORAGE_BUCKET set (docs/storage.md).",
                id="dsar.W001",
            )
        )
    public_acl = getattr(storage, "default_acl", None) in READABLE_BY_OTHERS_ACLS
    if public_acl or getattr(storage, "querystring_auth", True) is False:
        problems.append(
            checks.Error(
                "Stored files would be readable at an address that no view checks.",
                hint="Keep STORAGE_DEFAULT_ACL private (or empty) and signed URLs on.",
                id="dsar.E003",
            )
        )
    return problems


@checks.register(checks.Tags.database)
def check_sqlite_claims_take_turns(app_configs=None, **kwargs):
    from django.conf import settings

    return [
        checks.Error(
            f"The SQLite database {alias!r} does not open transactions with BEGIN IMMEDIATE: "
            "two workers could claim the same job rows.",
            hint='Set OPTIONS["transaction_mode"] = "IMMEDIATE" (workpex_portal/settings/base.py).',
            id="dsar.E005",
        )
        for alias in sqlite_without_begin_immediate(settings.DATABASES)
    ]


def sqlite_without_begin_immediate(databases: dict) -> list[str]:
    """On SQLite the job claims (dsar/claims.py) rely on `BEGIN IMMEDIATE`: select_for_update
    is a no-op there, and a deferred transaction would let two workers read the same due rows
    (and one of them fail on its write) instead of taking turns."""
    return [
        alias
        for alias, database in databases.items()
        if database["ENGINE"] == "django.db.backends.sqlite3"
        and str(database.get("OPTIONS", {}).get("transaction_mode", "")).upper() != "IMMEDIATE"
    ]
