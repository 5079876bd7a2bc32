"""Connected systems for the tests, registered through the services as an officer does."""

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


def alice():
    return UserFactory(email="alice@example.com", username="alice")


def in_progress(user, kind):
    request, _ = dsar_services.dsar_request_file(kind=kind, user=user)
    return dsar_services.dsar_request_transition(
        request=request, to_state="in_progress", actor=None
    )
