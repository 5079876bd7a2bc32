"""What needs a privacy officer's attention now, each item with a link straight to it."""

from dataclasses import dataclass
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.app_settings import app_settings as accounts_settings
from accounts.models import ChildDataReport
from consent.models import PolicyNotice
from dsar.models import (
    MAX_NOTIFY_ATTEMPTS,
    OPEN_STATES,
    DataSubjectRequest,
    ErasureSchedule,
    ExportFile,
    RecipientNotification,
    RequestState,
)
from dsar.services.erasure import resume_after


@dataclass
class Item:
    title: str
    count: int
    url: str
    urgent: bool = False


def _changelist(model: str, query: str = "") -> str:
    return reverse(f"admin:dsar_{model}_changelist") + (f"?{query}" if query else "")


def officer_attention(*, now=None) -> list[Item]:
    now = now or timezone.now()
    week = now + timedelta(days=7)
    working = DataSubjectRequest.objects.filter(state__in=OPEN_STATES).exclude(
        state=RequestState.AWAITING_CONFIRMATION
    )
    return [
        Item(
            _("Overdue requests"),
            working.filter(due_at__lt=now).count(),
            _changelist("datasubjectrequest", "due=overdue"),
            urgent=True,
        ),
        Item(
            _("Unassigned open requests"),
            working.filter(assignee__isnull=True).count(),
            _changelist("datasubjectrequest", "due=unassigned"),
            urgent=True,
        ),
        Item(
            _("Requests due within 7 days"),
            working.filter(due_at__gte=now, due_at__lt=week).count(),
            _changelist("datasubjectrequest", "due=week"),
        ),
        Item(
            _("Packages waiting for review"),
            ExportFile.objects.filter(state=ExportFile.State.READY).count(),
            _changelist("datasubjectrequest", "state__exact=in_progress"),
        ),
        Item(
            _("Erasures scheduled for the coming week"),
            ErasureSchedule.objects.filter(
                state=ErasureSchedule.State.SCHEDULED, due_at__lt=week
            ).count(),
            _changelist("datasubjectrequest", "kind__exact=erasure&state__exact=in_progress"),
        ),
        Item(
            _("Failed jobs (exports, recipient notices)"),
            ExportFile.objects.filter(state=ExportFile.State.FAILED).count()
            + RecipientNotification.objects.filter(
                state=RecipientNotification.State.FAILED, attempts__gte=MAX_NOTIFY_ATTEMPTS
            ).count(),
            _changelist("datasubjectrequest", "state__exact=in_progress"),
            urgent=True,
        ),
        Item(
            # Running past the time after which the sweep resumes them: resumed automatically,
            # but an officer should know if one keeps stopping.
            _("Erasures that stopped before they finished"),
            ErasureSchedule.objects.filter(
                state=ErasureSchedule.State.RUNNING, started_at__lt=now - resume_after()
            ).count(),
            _changelist("datasubjectrequest", "kind__exact=erasure&state__exact=in_progress"),
            urgent=True,
        ),
        Item(
            _("Removals of children's data that stopped before they finished"),
            ChildDataReport.objects.filter(
                state=ChildDataReport.State.REMOVING,
                started_at__lt=now - accounts_settings.CHILD_REMOVAL_STUCK_AFTER,
            ).count(),
            reverse("admin:accounts_childdatareport_changelist") + "?state__exact=removing",
            urgent=True,
        ),
        Item(
            _("Policy-change notices still to send"),
            PolicyNotice.objects.filter(
                state__in=[PolicyNotice.State.PENDING, PolicyNotice.State.SENDING]
            ).count(),
            reverse("admin:consent_policynotice_changelist"),
        ),
        Item(
            _("Policy-change notices that failed"),
            PolicyNotice.objects.filter(state=PolicyNotice.State.FAILED).count(),
            reverse("admin:consent_policynotice_changelist") + "?state__exact=failed",
            urgent=True,
        ),
        Item(
            _("Reports of children's data waiting for review"),
            ChildDataReport.objects.filter(state=ChildDataReport.State.RECEIVED).count(),
            reverse("admin:accounts_childdatareport_changelist") + "?state__exact=received",
            urgent=True,
        ),
        Item(
            _("Recipients to contact by hand"),
            RecipientNotification.objects.filter(
                adapter="", state=RecipientNotification.State.PENDING
            ).count(),
            _changelist("datasubjectrequest", "state__exact=in_progress"),
        ),
    ]
