"""Third-party integrations: the person enables one with an explicit grant of what it may read,
sees the grant on the privacy dashboard and revokes it there. Revocation is immediate (the
access check reads the row every time) and audited. Enabled integrations are recipients of the
person's data (GDPR Art. 19): `integration_recipients` lists them for the dsar app, and the person
may send their portability package straight to one of them (GDPR Art. 20(2)) through the adapter
named by ACCOUNTS_INTEGRATION_ADAPTER (the test-mode adapter below, without network, by default).
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dsar.recipients import Recipient, RecipientAdapter, recipient_source
from dsar.registry import Subject
from dsar.services import audit_record

from .app_settings import app_settings
from .models import IntegrationGrant, User, Workspace

SCOPES = {
    "profile": gettext_lazy("Your name and email address"),
    "workspace_records": gettext_lazy("The records in one workspace you choose"),
    "workspace_collaborators": gettext_lazy("The names of the collaborators in that workspace"),
}
WORKSPACE_SCOPES = {"workspace_records", "workspace_collaborators"}


@dataclass(frozen=True)
class Integration:
    code: str
    name: str
    privacy_url: str
    scopes: tuple[str, ...]  # what it can ask for; the person grants some or all


INTEGRATIONS = {
    i.code: i
    for i in (
        Integration(
            "calendar",
            "Calendar sync",
            "https://calendar.example/privacy",
            ("profile", "workspace_collaborators"),
        ),
        Integration(
            "accounting",
            "Accounting export",
            "https://accounting.example/privacy",
            ("profile", "workspace_records"),
        ),
    )
}


def integration_choices() -> list[tuple[str, str]]:
    return [(i.code, i.name) for i in INTEGRATIONS.values()]


def grants_active(*, user: User) -> QuerySet:
    return IntegrationGrant.objects.filter(user=user, revoked_at__isnull=True)


def integration_can_read(*, grant_id: int, scope: str) -> bool:
    """The access check every integration call goes through: read from the row each time, so a
    revocation takes effect at once."""
    scopes = (
        IntegrationGrant.objects.filter(pk=grant_id, revoked_at__isnull=True)
        .values_list("scopes", flat=True)
        .first()
    )
    return scopes is not None and scope in scopes


@transaction.atomic
def integration_grant_create(
    *, user: User, integration: str, scopes: list[str], workspace: Workspace | None = None
) -> IntegrationGrant:
    spec = INTEGRATIONS.get(integration)
    if spec is None:
        raise ValidationError(_("Unknown integration."))
    scopes = sorted(set(scopes))
    if not scopes:
        raise ValidationError(_("Choose at least one thing the integration may read."))
    if set(scopes) - set(spec.scopes):
        raise ValidationError(_("This integration cannot be given that access."))
    needs_workspace = bool(set(scopes) & WORKSPACE_SCOPES)
    if needs_workspace and (workspace is None or workspace.owner_id != user.pk):
        raise ValidationError(_("Choose one of your own workspaces for this access."))
    grant = IntegrationGrant(
        user=user,
        integration=integration,
        scopes=scopes,
        workspace=workspace if needs_workspace else None,
    )
    grant.full_clean(exclude=["user", "workspace"])
    try:
        with transaction.atomic():
            grant.save()
    except IntegrityError:
        raise ValidationError(
            _("This integration is already enabled. Revoke it first to change what it may read.")
        ) from None
    audit_record(
        action="integration_granted",
        actor=user,
        subject=Subject(user_id=user.pk),
        obj=grant,
        detail={"integration": integration, "scopes": scopes},
    )
    return grant


@transaction.atomic
def integration_grant_revoke(*, user: User, grant_id: int) -> IntegrationGrant:
    grant = (
        IntegrationGrant.objects.select_for_update()
        .filter(user=user, pk=grant_id, revoked_at__isnull=True)
        .first()
    )
    if grant is None:
        raise ValidationError(_("This integration is not enabled."))
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    audit_record(
        action="integration_revoked",
        actor=user,
        subject=Subject(user_id=user.pk),
        obj=grant,
        detail={"integration": grant.integration},
    )
    return grant


@recipient_source
def integration_recipients(subject: Subject) -> Iterator[Recipient]:
    """Integrations the person has enabled receive their data: they are told of changes too
    (by hand: they have no privacy API here), and can take the person's portability package."""
    if subject.user_id is None:
        return
    granted: dict[str, set[str]] = {}
    for code, scopes in IntegrationGrant.objects.filter(
        user_id=subject.user_id, revoked_at__isnull=True
    ).values_list("integration", "scopes"):
        granted.setdefault(code, set()).update(scopes or ())
    for code in sorted(granted):
        spec = INTEGRATIONS.get(code)
        yield Recipient(
            key=f"integration:{code}",
            name=spec.name if spec else code,
            package_adapter=app_settings.INTEGRATION_ADAPTER if spec else "",
            holds=_held_by(spec, granted[code]),
        )


# What each scope hands an integration, as the registry names it (for corrections, Art. 19).
SCOPE_HOLDS = {
    "profile": ("accounts.User.full_name", "accounts.User.email"),
    "workspace_collaborators": ("accounts.WorkspaceMember",),
    "workspace_records": ("accounts.WorkspaceRecord",),
}


def _held_by(spec: Integration | None, scopes: set[str]) -> tuple[str, ...] | None:
    """What the person let the integration read (their grants' scopes), as registry names."""
    if spec is None:
        return None  # an integration we no longer know: told of every correction
    return tuple(held for scope in sorted(scopes) for held in SCOPE_HOLDS.get(scope, ()))


class TestModeIntegrationAdapter(RecipientAdapter):
    """Stands in for the integrations' import APIs, without network: it reads the whole
    package, checks it is a ZIP with its manifest, and answers with a receipt made from the
    package's SHA-256 (so the receipt proves which bytes were handed over)."""

    def notify(self, *, kind: str, subject_email: str, reference: str, correction=None) -> None:
        raise NotImplementedError("Integrations are told of changes by hand.")

    def deliver_package(
        self, *, subject: Subject, reference: str, filename: str, content: BinaryIO
    ) -> str:
        digest = hashlib.sha256()
        for chunk in iter(lambda: content.read(64 * 1024), b""):
            digest.update(chunk)
        content.seek(0)
        with zipfile.ZipFile(content) as archive:
            if "manifest.json" not in archive.namelist():
                raise ValueError("The package has no manifest.")
        code = self.recipient.key.removeprefix("integration:")
        return f"test-{code}-{digest.hexdigest()[:16]}"
