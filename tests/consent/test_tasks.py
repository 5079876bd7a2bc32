import dataclasses
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from consent import services
from consent.models import FormSubmission
from dsar import registry
from dsar.models import AuditEvent
from dsar.retention import retention_sweep
from dsar.tasks import retention_sweep_task

pytestmark = pytest.mark.django_db


def submission(kind="contact_request", *, age_days=0, email="someone@example.org"):
    row = services.form_submission_create(kind=kind, email=email, name="Someone", message="Hello")
    if age_days:
        created = timezone.now() - timedelta(days=age_days)
        FormSubmission.objects.filter(pk=row.pk).update(
            created_at=created, retain_until=created + services.form_retention(kind)
        )
    return row


def test_sweep_erases_submissions_past_their_retention_and_keeps_the_rest():
    old_contact = submission("contact_request", age_days=366)  # kept 365 days
    young_contact = submission("contact_request", age_days=300)
    old_support = submission("support_request", age_days=400)  # kept 730 days
    counts = retention_sweep(batch_size=1)
    assert counts["consent.FormSubmission"] == 1
    remaining = set(FormSubmission.objects.values_list("pk", flat=True))
    assert remaining == {young_contact.pk, old_support.pk}
    assert old_contact.pk not in remaining
    audit = AuditEvent.objects.get(action="retention_sweep", detail__model="consent.FormSubmission")
    assert audit.detail["rows"] == 1 and audit.actor_kind == "system"
    assert "someone" not in str(audit.detail)


def test_sweep_works_in_bounded_batches():
    for i in range(7):
        submission(age_days=400, email=f"p{i}@example.org")
    assert retention_sweep(batch_size=3)["consent.FormSubmission"] == 7
    assert not FormSubmission.objects.exists()


def test_sweep_task_is_idempotent():
    submission(age_days=400)
    assert retention_sweep_task()["consent.FormSubmission"] == 1
    assert retention_sweep_task()["consent.FormSubmission"] == 0


def test_sweep_anonymises_and_skips_legal_holds(monkeypatch, user):
    entry = registry.entry_for(LogEntry)
    old = LogEntry.objects.create(
        user=user, object_repr="Alice Example", action_flag=CHANGE, change_message="[]"
    )
    LogEntry.objects.filter(pk=old.pk).update(action_time=timezone.now() - timedelta(days=10))
    recent = LogEntry.objects.create(
        user=user, object_repr="Bob Example", action_flag=CHANGE, change_message="[]"
    )
    swept = dataclasses.replace(
        entry, retention_field="action_time", retention_period=timedelta(days=5)
    )
    monkeypatch.setattr(registry, "entries", lambda: [swept])
    assert retention_sweep() == {"admin.LogEntry": 1}
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.object_repr == "[erased]" and recent.object_repr == "Bob Example"
    assert retention_sweep() == {"admin.LogEntry": 0}  # already anonymised: not counted again

    held = dataclasses.replace(
        swept, erasure=registry.ErasureStrategy.LEGAL_HOLD, legal_hold_reason="tax law"
    )
    monkeypatch.setattr(registry, "entries", lambda: [held])
    assert retention_sweep() == {}


def test_the_sweep_is_scheduled_daily():
    task = PeriodicTask.objects.get(task="dsar.tasks.retention_sweep_task")
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == (
        "15",
        "3",
        "UTC",
    )


def test_every_retention_entry_points_at_a_real_field():
    for entry in registry.entries():
        if entry.retention_field:
            entry.model._meta.get_field(entry.retention_field)
