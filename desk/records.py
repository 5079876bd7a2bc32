"""Records of processing activities (GDPR Art. 30), generated from the personal-data registry,
so a change in the registry shows up in the next report with no hand edits."""

from dataclasses import dataclass, field

from django.conf import settings

from dsar import registry

CONTROLLER = "Workpex (controller) — privacy@workpex.example"
SECURITY_MEASURES = (
    "Staff reach personal data only through the admin, after two-factor authentication, "
    "with permissions by role",
    "Every staff view, change and export of a person's data is written to an append-only audit log",
    "Passwords and security answers are stored only as salted hashes; stored payment tokens "
    "are encrypted",
    "Uploads are re-encoded and served only to the people allowed to see them",
    "Erasure and retention run through one registry, in batches, and are audited",
)


@dataclass
class Activity:
    """One processing activity: the models that share a category in the registry."""

    name: str
    purposes: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    data_subjects: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    transfers: list[str] = field(default_factory=list)
    retention: list[str] = field(default_factory=list)
    erasure: list[str] = field(default_factory=list)


def _add(values: list[str], *new: str) -> None:
    for value in new:
        if value and value not in values:
            values.append(value)


def _field_names(entry: registry.PersonalData) -> list[str]:
    meta = entry.model._meta
    return [str(meta.get_field(name).verbose_name) for name in entry.export_fields]


def records_of_processing() -> list[Activity]:
    """One entry per processing activity, in a stable order; every value comes from the registry
    (and the configured service providers), never typed in by hand."""
    activities: dict[str, Activity] = {}
    for entry in sorted(registry.entries(), key=lambda e: e.category):
        activity = activities.setdefault(entry.category, Activity(name=entry.category))
        _add(activity.purposes, entry.purpose)
        _add(
            activity.data,
            f"{entry.model._meta.verbose_name_plural}: " + ", ".join(_field_names(entry)),
        )
        _add(activity.data_subjects, *entry.data_subjects)
        _add(activity.sources, str(registry.Source(entry.source).label))
        _add(activity.recipients, *entry.recipients)
        _add(activity.transfers, entry.transfers)
        _add(activity.retention, entry.retention)
        erasure = str(registry.ErasureStrategy(entry.erasure).label)
        if entry.legal_hold_reason:
            erasure += f" ({entry.legal_hold_reason})"
        _add(activity.erasure, erasure)
    return list(activities.values())


def service_providers() -> list[str]:
    return [p["name"] for p in getattr(settings, "DSAR_SERVICE_PROVIDERS", [])]


COLUMNS = [
    ("name", "Processing activity"),
    ("purposes", "Purposes"),
    ("data", "Categories of personal data"),
    ("data_subjects", "Categories of data subjects"),
    ("sources", "Sources"),
    ("recipients", "Recipients"),
    ("transfers", "Transfers outside the EEA"),
    ("retention", "Retention"),
    ("erasure", "On erasure"),
]
