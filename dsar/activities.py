"""Reads of the processing activities (docs/activities.md).

The activities are rows (`ProcessingActivity`): officers edit their words in the admin, in every
language. Each text has a column per language (dsar/translation.py, django-modeltranslation), so
`activity.name` is already in the reader's language; nothing here translates them again."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from . import registry
from .models import (
    DIRECT_MARKETING,
    OBJECTIONABLE_BASES,
    LawfulBasis,
    ProcessingActivity,
    TransferSafeguard,
)
from .purposes import processing_uses
from .taxonomy import taxonomy_keys_invalid


def activities(*, include_test_mode: bool = False) -> QuerySet[ProcessingActivity]:
    """Every activity, in order; test-mode processing only when asked for."""
    rows = ProcessingActivity.objects.all()
    return rows if include_test_mode else rows.filter(test_mode=False)


def controller_activities(*, include_test_mode: bool = False) -> QuerySet[ProcessingActivity]:
    """What we do as controller (GDPR Art. 30(1))."""
    return activities(include_test_mode=include_test_mode).filter(as_processor=False)


def processor_activities(*, include_test_mode: bool = False) -> QuerySet[ProcessingActivity]:
    """What we do for our customers with their service data, as processor (Art. 30(2))."""
    return activities(include_test_mode=include_test_mode).filter(as_processor=True)


def objectionable_activities() -> QuerySet[ProcessingActivity]:
    """The activities a person may object to (GDPR Art. 21(1)): those based on (e) or (f) that
    we do as controller (an objection to a customer's processing goes to that customer)."""
    return controller_activities().filter(lawful_basis__in=OBJECTIONABLE_BASES)


def activity_problems() -> list[tuple[str, str]]:
    """Where the code and the rows disagree, as (what, problem) pairs, for the system check.

    Empty before the activities' table exists (the migration that seeds them has not run)."""
    if ProcessingActivity._meta.db_table not in connection.introspection.table_names():
        return []
    rows = {a.code: a for a in ProcessingActivity.objects.all()}
    problems = []
    for entry in registry.entries():
        if not entry.activity:
            problems.append((entry.label, "names no processing activity"))
        elif entry.activity not in rows:
            problems.append(
                (entry.label, f"serves the activity {entry.activity!r}, which has no row")
            )
        for name, code in entry.field_activities.items():
            if code not in rows:
                what = f"{entry.label}.{name}"
                problems.append((what, f"serves the activity {code!r}, which has no row"))
    for code, activity in rows.items():
        if not activity.lawful_basis:
            problems.append((f"activity {code!r}", "has no lawful basis"))
        for kind, keys in (
            ("data_category", activity.data_categories),
            ("data_use", activity.data_uses),
            ("data_subject", activity.data_subjects),
        ):
            # Rows written past the admin (a shell, a fixture) are checked too.
            for key in taxonomy_keys_invalid(kind, keys):
                problems.append((f"activity {code!r}", f"names {key}, no Fides {kind}"))
    uses = {use.code for use in processing_uses()}
    for code in sorted(uses - rows.keys() - {DIRECT_MARKETING}):
        problems.append((f"use {code!r}", "a person may restrict it, but it is no activity"))
    for code in objectionable_activities().values_list("code", flat=True):
        if code not in uses:
            # Art. 21(1): an objection offers it, so something must stop it.
            problems.append(
                (
                    f"activity {code!r}",
                    "is based on (e) or (f) but nothing honours an objection to it",
                )
            )
    return problems


# Which right a person has over an activity, by its lawful basis (GDPR Art. 7(3), 17, 20, 21).
# Access, correction and restriction (Art. 15, 16, 18) apply to every activity.
RIGHT_BY_BASIS = {
    "a": gettext_lazy("You can withdraw your consent at any time, as easily as you gave it."),
    "b": gettext_lazy("You can ask for a copy to take elsewhere (portability) and for erasure."),
    "c": gettext_lazy(
        "The law requires it: you can ask for access and correction; erasure waits until the "
        "law lets us delete it."
    ),
    "d": gettext_lazy("You can ask for access, correction and erasure."),
    "e": gettext_lazy("You can object to it at any time (GDPR Art. 21)."),
    "f": gettext_lazy("You can object to it at any time (GDPR Art. 21)."),
}


@dataclass(frozen=True)
class ActivityNotice:
    """One activity as the public page tells it (GDPR Art. 13/14), in the reader's language."""

    code: str
    name: str
    description: str
    basis: str
    legitimate_interest: str
    retention: str
    recipients: list[str]
    transfers: str
    safeguard: str
    right: str


def activity_notices(*, as_processor: bool = False) -> list[ActivityNotice]:
    """The activities people are told about: what, why, on which basis, how long, who
    receives it, and which right applies. Test-mode processing is never on the page."""
    rows = processor_activities() if as_processor else controller_activities()
    return [
        ActivityNotice(
            code=a.code,
            name=a.name,
            description=a.description,
            basis=str(LawfulBasis(a.lawful_basis).label) if a.lawful_basis else "",
            legitimate_interest=a.legitimate_interest or "",
            retention=a.retention,
            recipients=a.recipient_list,
            transfers=a.transfers or "",
            safeguard=str(TransferSafeguard(a.transfer_safeguard).label) if a.transfers else "",
            right=str(RIGHT_BY_BASIS.get(a.lawful_basis, "")),
        )
        for a in rows
    ]
