"""Who receives a person's data, for telling them about rectification, erasure and restriction
(GDPR Art. 19). Service providers come from the DSAR_SERVICE_PROVIDERS setting; other apps add
their own recipients (reselling partners, enabled integrations) with `recipient_source`.

A recipient with a `package_adapter` can also take a person's portability package straight from
us (GDPR Art. 20(2)): `portability_destinations` lists those a person may choose."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.utils.module_loading import import_string

from .registry import Subject


@dataclass(frozen=True)
class Recipient:
    key: str
    name: str
    adapter: str = ""  # dotted path of a RecipientAdapter; empty means an officer does it by hand
    contact: str = ""  # an address the adapter may use
    # Dotted path of a RecipientAdapter whose deliver_package takes portability packages; empty
    # means the person cannot send their package to this recipient.
    package_adapter: str = ""
    # What the recipient received, as registry targets ("accounts.User.email") or whole models
    # ("accounts.Invoice"): a correction is passed on only to recipients that hold the field.
    # None: not declared, so told of every correction.
    holds: tuple[str, ...] | None = None

    def holds_field(self, target: str) -> bool:
        if self.holds is None:
            return True
        return target in self.holds or target.rpartition(".")[0] in self.holds


@dataclass(frozen=True)
class Correction:
    """What an Art. 19 notice of a rectification says changed: the field, in words and as the
    registry names it, and the corrected value."""

    field: str
    target: str
    value: str


_sources: list[Callable[[Subject], Iterable[Recipient]]] = []


def recipient_source(func: Callable[[Subject], Iterable[Recipient]]):
    """Register a function that lists the recipients of a subject's data (a decorator)."""
    _sources.append(func)
    return func


@recipient_source
def service_providers(subject: Subject) -> Iterable[Recipient]:
    for provider in getattr(settings, "DSAR_SERVICE_PROVIDERS", []):
        holds = provider.get("holds")
        yield Recipient(**{**provider, "holds": None if holds is None else tuple(holds)})


def recipients_for(subject: Subject) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for source in _sources:
        for recipient in source(subject):
            seen.setdefault(recipient.key, recipient)
    return list(seen.values())


def portability_destinations(subject: Subject) -> list[Recipient]:
    """The recipients a person may send their portability package to (their enabled
    integrations): the one list the form, the service and the delivery all check against."""
    return [recipient for recipient in recipients_for(subject) if recipient.package_adapter]


class RecipientAdapter:
    """Tells one recipient about a change. Raise to signal a failure worth retrying."""

    def __init__(self, recipient: Recipient):
        self.recipient = recipient

    def notify(
        self, *, kind: str, subject_email: str, reference: str, correction: Correction | None = None
    ) -> None:
        """`correction`: for a rectification, the field and its corrected value."""
        raise NotImplementedError

    def deliver_package(
        self, *, subject: Subject, reference: str, filename: str, content: BinaryIO
    ) -> str:
        """Hand a person's portability package (a ZIP, `content` open for reading) to the
        recipient at the person's request (GDPR Art. 20(2)); return the recipient's reference
        for the delivery. Raise to signal a failure worth retrying."""
        raise NotImplementedError


class MailAdapter(RecipientAdapter):
    """For a recipient whose privacy desk takes requests by mail."""

    def notify(
        self, *, kind: str, subject_email: str, reference: str, correction: Correction | None = None
    ) -> None:
        from .mail import recipient_mail_send

        recipient_mail_send(
            to=self.recipient.contact,
            context={
                "kind": kind,
                "subject_email": subject_email,
                "reference": reference,
                "correction": correction,
            },
        )


def adapter_for(path: str, recipient: Recipient) -> RecipientAdapter:
    return import_string(path)(recipient)
