"""Synthetic privacy requests for the demo, so the officers' queue has work in it.

Written directly (not through the services) so that seeding sends no mail; deterministic, and
seeding again adds nothing.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .deadlines import add_months
from .models import DataSubjectRequest, RequestEvent, RequestKind, RequestState

KINDS = [k for k in RequestKind.values if k != RequestKind.COMPLAINT]
STATES = [RequestState.VERIFIED, RequestState.IN_PROGRESS, RequestState.COMPLETED]


@transaction.atomic
def demo_requests_seed(*, users, every: int = 7) -> int:
    """One request for every `every`-th user, of varied kinds, ages and states."""
    now = timezone.now()
    have = set(DataSubjectRequest.objects.values_list("user_id", flat=True))
    requests = []
    for index, user in enumerate(users):
        if index % every or user.pk in have:
            continue
        received = now - timedelta(days=(index * 3) % 45, hours=index % 24)
        state = STATES[index % len(STATES)]
        due = add_months(received, 1)
        requests.append(
            DataSubjectRequest(
                kind=KINDS[index % len(KINDS)],
                state=state,
                user=user,
                email=user.email,
                details="Demo request.",
                received_at=received,
                verified_at=received,
                original_due_at=due,
                due_at=due,
                closed_at=received + timedelta(days=9) if state == RequestState.COMPLETED else None,
                outcome="Done." if state == RequestState.COMPLETED else "",
            )
        )
    created = DataSubjectRequest.objects.bulk_create(requests)
    RequestEvent.objects.bulk_create(
        RequestEvent(request=r, kind=RequestEvent.Kind.FILED, to_state=r.state) for r in created
    )
    return len(created)
