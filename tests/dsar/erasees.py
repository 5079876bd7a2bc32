"""A person about to be erased: data in many registered models (tests/dsar/people.py), a stored
card and an invoice billed to their name, and an approved erasure that is due now."""

from dataclasses import dataclass

from django.utils import timezone

from accounts import payments
from accounts.models import Invoice
from dsar import services
from dsar.models import DataSubjectRequest, ErasureSchedule, RequestKind
from dsar.registry import Subject
from tests.accounts.factories import UserFactory

from .people import Person, make_person

BILLING = {
    "billing_line1": "1 Main Street",
    "billing_line2": "",
    "billing_city": "Dublin",
    "billing_postal_code": "D01 F5P2",
    "billing_country": "IE",
}


@dataclass
class Erasee:
    person: Person
    request: DataSubjectRequest
    schedule: ErasureSchedule
    invoice: Invoice

    @property
    def needles(self) -> list[str]:
        return self.person.needles

    @property
    def subjects(self) -> list[Subject]:
        return [self.person.subject]


def erasee(name: str = "ada") -> Erasee:
    """A person with data in many registered models (tests/dsar/people.py), a stored card and
    an invoice billed to their name, and an approved erasure that is due now."""
    full_name = f"{name.title()} Lovelace-Byron"
    person = make_person(
        username=name,
        full_name=full_name,
        phone="+353861234567",
        staff=UserFactory(is_staff=True, full_name="Staff Member"),
    )
    card = payments.CardDetails(
        number="4242424242424242",
        expiry_month=12,
        expiry_year=2099,
        cvc="123",
        cardholder_name=full_name,
    )
    method = payments.payment_method_add(
        user=person.user, card=card, billing=BILLING, store_token=True
    )
    invoice = payments.invoice_issue(
        user=person.user, method=method, amount_cents=4900, description="Workpex Pro, one month"
    )
    request, _ = services.dsar_request_file(
        kind=RequestKind.ERASURE,
        user=person.user,
        details=f"I am {full_name}, phone +353861234567: erase me.",
    )
    services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    schedule = ErasureSchedule.objects.get(request=request)
    ErasureSchedule.objects.filter(pk=schedule.pk).update(due_at=timezone.now())
    return Erasee(person, request, schedule, invoice)
