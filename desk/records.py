"""Records of processing activities (GDPR Art. 30), generated from the processing activities
(their words, edited by officers in every language: dsar/translation.py) and the personal-data
registry (which models and fields serve each one, how they are erased), so that nothing is typed
in twice.

One `Records` holds a report as HTML, CSV and PDF show it: the same header lines, columns and
cells in all three (desk/views.py, desk/pdf.py)."""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from consent.app_settings import app_settings as consent_settings
from dsar import activities as activity_reads
from dsar import registry
from dsar.models import LawfulBasis, ProcessingActivity, TransferSafeguard
from dsar.taxonomy import taxonomy_labels

# Art. 30(1)(g): what holds for every activity; each activity adds its own measures. These and
# the column names are translated when the report is built (their German is in locale/de).
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
class Records:
    """One report: header lines (who is responsible), then one row per activity."""

    title: str
    header: list[tuple[str, str]]
    columns: list[str]
    rows: list[list[list[str]]] = field(default_factory=list)
    measures_title: str = ""
    measures: list[str] = field(default_factory=list)


def _taxonomy(kind: str, keys: list[str]) -> list[str]:
    labels = taxonomy_labels(kind)
    return [f"{labels.get(key, key)} ({key})" for key in keys]


def _registry_data(code: str) -> list[str]:
    return [
        f"{entry.model._meta.verbose_name_plural}: "
        + ", ".join(str(entry.model._meta.get_field(n).verbose_name) for n in names)
        for entry, names in registry.fields_for_activity(code)
    ]


def _erasure(code: str) -> list[str]:
    lines: list[str] = []
    for entry in registry.entries_for_activity(code):
        strategy = registry.ErasureStrategy(entry.erasure).label
        line = f"{entry.model._meta.verbose_name_plural}: {strategy}"
        if entry.legal_hold_reason:
            line += f" ({entry.legal_hold_reason})"
        lines.append(line)
    return lines


def _sources(code: str) -> list[str]:
    sources = {str(registry.Source(e.source).label) for e in registry.entries_for_activity(code)}
    return sorted(sources)


def lawful_basis_words(activity: ProcessingActivity) -> list[str]:
    if not activity.lawful_basis:
        return [_("None recorded")]
    lines = [str(LawfulBasis(activity.lawful_basis).label)]
    if activity.legitimate_interest:
        lines.append(activity.legitimate_interest)
    return lines


def transfer_words(activity: ProcessingActivity) -> list[str]:
    """Art. 30(1)(e): the transfer and its safeguard, or plainly none."""
    if not activity.transfers:
        return [str(TransferSafeguard.NONE.label)]
    return [
        activity.transfers,
        _("Safeguard: %(safeguard)s")
        % {"safeguard": TransferSafeguard(activity.transfer_safeguard).label},
    ]


def _address(controller: dict) -> str:
    address = controller.get("address", {})
    parts = ("streetAddress", "postalCode", "addressLocality", "addressRegion", "addressCountry")
    return ", ".join(address[p] for p in parts if address.get(p))


def _responsible() -> list[tuple[str, str]]:
    controller = consent_settings.CONTROLLER
    dpo = ", ".join(v for v in (controller.get("dpo"), controller.get("dpo_email")) if v)
    return [
        (_("Name"), controller["name"]),
        (_("Address"), _address(controller)),
        (_("Contact"), f"{controller['contact']}, {controller['email']}, {controller['phone']}"),
        (_("Data protection officer"), dpo or _("None designated")),
        (
            _("Representative in the Union (GDPR Art. 27)"),
            controller.get("representative") or _("None designated"),
        ),
    ]


CONTROLLER_COLUMNS = (
    "Processing activity",
    "(b) Purposes",
    "(b) Lawful basis (GDPR Art. 6)",
    "(c) Categories of data subjects",
    "(c) Categories of personal data",
    "Uses (Fides)",
    "Sources",
    "(d) Recipients",
    "(e) Transfers to third countries and safeguards",
    "(f) Time limits for erasure",
    "On erasure",
    "(g) Technical and organisational measures",
)


def records_of_processing(*, include_test_mode: bool = False) -> Records:
    """GDPR Art. 30(1): what we do as controller, (a) to (g); test-mode processing only when
    asked for (it happens on no real person's data in production)."""
    rows = []
    for activity in activity_reads.controller_activities(include_test_mode=include_test_mode):
        rows.append(
            [
                [activity.name],
                [activity.description],
                lawful_basis_words(activity),
                _taxonomy("data_subject", activity.data_subjects),
                _taxonomy("data_category", activity.data_categories)
                + _registry_data(activity.code),
                _taxonomy("data_use", activity.data_uses),
                _sources(activity.code),
                activity.recipient_list,
                transfer_words(activity),
                [activity.retention],
                _erasure(activity.code),
                activity.measure_list,
            ]
        )
    return Records(
        title=_("Records of processing activities (GDPR Art. 30(1))"),
        header=[(_("(a) Controller: %(what)s") % {"what": k}, v) for k, v in _responsible()],
        columns=[_(c) for c in CONTROLLER_COLUMNS],
        rows=rows,
        measures_title=_("(g) Measures for every activity"),
        measures=[_(m) for m in SECURITY_MEASURES] + service_providers_line(),
    )


PROCESSOR_COLUMNS = (
    "(b) Categories of processing",
    "Categories of data subjects",
    "Categories of personal data",
    "Recipients (sub-processors and staff)",
    "(c) Transfers to third countries and safeguards",
    "Time limits for erasure",
    "(d) Technical and organisational measures",
)


def processor_records(*, include_test_mode: bool = False) -> Records:
    """GDPR Art. 30(2): what we do as processor, on our customers' service data (policy
    Part II): each customer with a workspace is the controller of what it keeps there."""
    rows = []
    for activity in activity_reads.processor_activities(include_test_mode=include_test_mode):
        rows.append(
            [
                [activity.name, activity.description],
                _taxonomy("data_subject", activity.data_subjects),
                _taxonomy("data_category", activity.data_categories)
                + _registry_data(activity.code),
                activity.recipient_list,
                transfer_words(activity),
                [activity.retention],
                activity.measure_list,
            ]
        )
    header = [(_("(a) Processor: %(what)s") % {"what": k}, v) for k, v in _responsible()]
    header.append(
        (
            _("(a) Controllers on whose behalf we process"),
            _("Each customer, for the service data kept in its workspaces (policy Part II)"),
        )
    )
    return Records(
        title=_("Records of processing as processor (GDPR Art. 30(2))"),
        header=header,
        columns=[_(c) for c in PROCESSOR_COLUMNS],
        rows=rows,
        measures_title=_("(d) Measures for every activity"),
        measures=[_(m) for m in SECURITY_MEASURES] + service_providers_line(),
    )


def service_providers() -> list[str]:
    return [p["name"] for p in getattr(settings, "DSAR_SERVICE_PROVIDERS", [])]


def service_providers_line() -> list[str]:
    providers = service_providers()
    if not providers:
        return []
    return [_("Service providers bound by contract: %(names)s") % {"names": ", ".join(providers)}]


def records_csv_rows(records: Records) -> list[list[str]]:
    """The report as CSV rows: the header lines, a blank row, the table, a blank row, the
    measures for every activity; cells with several lines joined by "; "."""
    rows: list[list[str]] = [[label, value] for label, value in records.header]
    rows += [[], list(records.columns)]
    rows += [["; ".join(cell) for cell in row] for row in records.rows]
    rows += [[], [records.measures_title]] + [[m] for m in records.measures]
    return rows
