"""Connected systems for the tests, registered through the services as an officer does."""

from datetime import timedelta

from django.utils import timezone

from datastores import services
from datastores.models import ConnectedSystem
from dsar import services as dsar_services
from tests.accounts.factories import UserFactory

from .shop import example_text


def sql_system(url: str, name: str = "Shop") -> ConnectedSystem:
    system = ConnectedSystem(name=name, kind=ConnectedSystem.Kind.SQL)
    services.system_url_set(system=system, url=url)
    system.save()
    services.dataset_upload(system=system, text=example_text(), actor=None)
    return system


def manual_system(name: str = "Paper archive") -> ConnectedSystem:
    return ConnectedSystem.objects.create(
        name=name,
        kind=ConnectedSystem.Kind.MANUAL,
        instructions="Shred the person's paper order forms.",
        team="Back office",
        due_days=5,
    )


def webhook_system(endpoint, name: str = "CRM") -> ConnectedSystem:
    """A system confirmed through the API, told by `endpoint` whom to erase."""
    return ConnectedSystem.objects.create(
        name=name, kind=ConnectedSystem.Kind.WEBHOOK, endpoint=endpoint, due_days=3
    )


LATER = timedelta(days=40)  # past the erasure's grace period


def erasure_run(request) -> None:
    """Apply an erasure request and run it past its grace period; an officer tells the
    recipients without an adapter (the payment processor), as in tests/dsar/test_jobs.py:
    what is left is the systems' parts."""
    dsar_services.dsar_request_apply(request=request, actor=None)
    assert dsar_services.erasure_run(schedule_id=request.erasure.pk, now=timezone.now() + LATER)
    for notification in request.recipient_notifications.filter(adapter=""):
        dsar_services.recipient_notification_mark_done(notification=notification, actor=None)


def alice():
    return UserFactory(email="alice@example.com", username="alice")


def in_progress(user, kind):
    request, _ = dsar_services.dsar_request_file(kind=kind, user=user)
    return dsar_services.dsar_request_transition(
        request=request, to_state="in_progress", actor=None
    )
