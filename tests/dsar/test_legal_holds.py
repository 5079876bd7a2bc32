"""A legal hold says what it keeps (issue 14, point 3): the registry declares the fields the law
requires and for how long, erasure blanks everything else, kept rows carry their hold-until date
and the retention sweep deletes them after it; the person's mails and request page list exactly
what is kept, why and until when."""

import re
from datetime import date, timedelta

import pytest
from django.db import models
from django.test import Client
from django.test.utils import isolate_apps
from django.utils import timezone

from accounts import payments
from accounts.models import Invoice, PaymentMethod, User
from dsar import registry, services
from dsar.erasure import erasure_erase_subject, personal_data_leftovers
from dsar.models import DataSubjectRequest, ErasureSchedule, RequestKind
from dsar.registry import ErasureStrategy, RegistryError, Source, Subject
from dsar.retention import retention_sweep
from tests.accounts.factories import UserFactory

from .erasees import BILLING, erasee

pytestmark = pytest.mark.django_db

FINAL = "We are erasing your data now"


def hold_until_of(invoice) -> str:
    return date(invoice.issued_at.year + 10, 12, 31).isoformat()


def body_of(mailoutbox, subject_starts: str) -> str:
    (mail,) = [m for m in mailoutbox if m.subject.startswith(subject_starts)]
    return mail.body


def assert_lists_the_invoice_hold(text: str, invoice) -> None:
    assert "Invoices (1): we keep invoice number, issued, description, amount (cents), " in text
    assert "currency, billed to, billing address; everything else in them is erased." in text
    assert "HGB §257" in text and "AO §147" in text
    assert f"Kept until: {hold_until_of(invoice)} (Ten years after the end" in text
    assert "Ten years after the end of the calendar year" in text


def test_the_mails_and_the_request_page_say_what_is_kept_why_and_until_when(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        who = erasee()
    scheduled = body_of(mailoutbox, "Your data will be erased")
    assert_lists_the_invoice_hold(scheduled, who.invoice)
    assert "detached" not in scheduled

    with django_capture_on_commit_callbacks(execute=True):
        assert services.erasure_run(schedule_id=who.schedule.pk)
    final = body_of(mailoutbox, FINAL)
    assert_lists_the_invoice_hold(final, who.invoice)
    # The Art. 19 address and the request record are listed too, each for what it is.
    assert "we keep email address; nothing else in them identifies you." in final
    assert "How long: Only until that recipient has been told" in final
    assert "kept without anything that identifies you." in final
    assert "detached" not in final

    # The account is gone: the mail's signed link opens the request page without one.
    link = re.search(r"http://\S+/privacy/requests/\S+\?t=\S+", final).group(0)
    path = link.split("://", 1)[1]
    page = Client().get(path[path.index("/") :])
    assert page.status_code == 200
    html = page.content.decode()
    assert "What we kept because the law requires it" in html
    assert "invoice number, issued, description, amount (cents), currency, billed to" in html
    assert f'<time datetime="{hold_until_of(who.invoice)}">' in html
    assert "HGB §257" in html
    assert "detached" not in html
    # What the page and the mail say is exactly what the scan of the database finds.
    leftovers = {
        (label, field) for label, field, _n in personal_data_leftovers(needles=who.needles)
    }
    assert leftovers <= {
        ("accounts.Invoice", "billing_name"),
        ("accounts.Invoice", "billing_address"),
        ("dsar.RecipientNotification", "subject_email"),
    }
    assert ("accounts.Invoice", "billing_name") in leftovers


def test_the_page_shows_what_will_be_kept_during_the_grace_period(client):
    who = erasee()
    client.force_login(who.person.user)
    html = client.get(f"/privacy/requests/{who.request.public_id}/").content.decode()
    assert "What we will keep because the law requires it" in html
    assert "billed to, billing address" in html
    assert hold_until_of(who.invoice) in html


def test_a_kept_invoice_keeps_only_what_the_law_requires_with_its_hold_until_date(user):
    method = payments.payment_method_add(
        user=user, card=_card(user.full_name), billing=BILLING, store_token=True
    )
    invoice = payments.invoice_issue(
        user=user, method=method, amount_cents=4900, description="Workpex Pro, one month"
    )
    assert invoice.hold_until == date(timezone.localdate().year + 10, 12, 31)
    entry = registry.entry_for(Invoice)
    assert set(entry.blanked_fields()) == {"user", "card_last4"}  # everything not declared

    counts = erasure_erase_subject(subject=Subject(user_id=user.pk, email=user.email))
    assert counts["accounts.Invoice"] == 1
    kept = Invoice.objects.get(pk=invoice.pk)
    assert (kept.user_id, kept.card_last4) == (None, "")
    assert (kept.number, kept.amount_cents, kept.billing_name, kept.hold_until) == (
        invoice.number,
        4900,
        invoice.billing_name,
        invoice.hold_until,
    )
    assert "Dublin" in kept.billing_address
    # Excluded from every other processing: no payment method left to show or charge, and a
    # new account with the same name and address finds none of it in its own data.
    assert not PaymentMethod.objects.filter(user_id=user.pk).exists()
    newcomer = UserFactory(email=user.email, full_name=user.full_name)
    assert not newcomer.invoices.exists()
    assert not entry.rows_for(Subject(user_id=newcomer.pk, email=newcomer.email)).exists()
    # A second run changes nothing.
    assert erasure_erase_subject(subject=Subject(user_id=user.pk))["accounts.Invoice"] == 0


def _card(name):
    return payments.CardDetails(
        number="4242424242424242",
        expiry_month=12,
        expiry_year=2099,
        cvc="123",
        cardholder_name=name,
    )


def test_the_retention_sweep_deletes_held_invoices_once_their_hold_has_passed(user):
    method = payments.payment_method_add(
        user=user, card=_card("Pat Murphy"), billing=BILLING, store_token=True
    )
    old, current = (
        payments.invoice_issue(user=user, method=method, amount_cents=100, description="Plan")
        for _ in range(2)
    )
    erasure_erase_subject(subject=Subject(user_id=user.pk, email=user.email))
    Invoice.objects.filter(pk=old.pk).update(hold_until=timezone.localdate() - timedelta(days=1))

    counts = retention_sweep()
    assert counts["accounts.Invoice"] == 1
    assert not Invoice.objects.filter(pk=old.pk).exists()
    assert Invoice.objects.filter(pk=current.pk).exists()
    # On its last day it is still kept.
    Invoice.objects.filter(pk=current.pk).update(hold_until=timezone.localdate())
    assert retention_sweep()["accounts.Invoice"] == 0


@isolate_apps("dsar")
def test_a_statutory_hold_must_declare_every_field_it_cannot_blank():
    class Receipt(models.Model):
        user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
        holder = models.CharField(max_length=100)
        amount = models.IntegerField()
        kept_until = models.DateField(null=True)

        class Meta:
            app_label = "dsar"

    base = {
        "category": "Payments",
        "source": Source.PROVIDED,
        "export_fields": (),
        "user_field": "user",
        "erasure": ErasureStrategy.LEGAL_HOLD,
        "legal_hold_reason": "Tax law",
        "hold_until_field": "kept_until",
    }
    with pytest.raises(RegistryError, match="says how long"):
        registry.personal_data(Receipt, hold_fields=("amount",), **base)
    with pytest.raises(RegistryError, match="amount cannot be detached"):
        registry.personal_data(Receipt, hold_fields=("holder",), hold_period="10 years", **base)
    with pytest.raises(RegistryError, match="declares no detach_fields"):
        registry.personal_data(
            Receipt,
            hold_fields=("amount",),
            hold_period="10 years",
            detach_fields=("user",),
            **base,
        )
    assert "dsar.Receipt" not in {e.label for e in registry.entries()}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_resume_reads_whom_to_erase_from_the_schedule_not_from_the_blanked_request(mailoutbox):
    """The issue's crash, in-process: the request row is blanked (step 90), the account is not
    (step 100), the worker is gone. The resume finishes from the schedule's own record."""
    who = erasee("alan")
    # What the first run left: it fixed whom it erases on the schedule when it started, sent
    # the final mail, blanked the request, and died before the account's step.
    ErasureSchedule.objects.filter(pk=who.schedule.pk).update(
        state="running",
        started_at=timezone.now() - timedelta(hours=1),
        final_mail_sent_at=timezone.now(),
        erase_user_id=who.person.user.pk,
        erase_email=who.person.user.email,
    )
    DataSubjectRequest.objects.filter(pk=who.request.pk).update(user=None, email="", details="")

    assert services.erasure_run(schedule_id=who.schedule.pk)
    assert not User.objects.filter(pk=who.person.user.pk).exists()
    assert not [m for m in mailoutbox if m.subject == FINAL]


def test_an_erasure_that_cannot_say_whom_it_erases_stops_without_crashing(caplog):
    who = erasee("olga")
    DataSubjectRequest.objects.filter(pk=who.request.pk).update(user=None, email="")
    ErasureSchedule.objects.filter(pk=who.schedule.pk).update(
        state="running", started_at=timezone.now() - timedelta(hours=1)
    )
    assert not services.erasure_run(schedule_id=who.schedule.pk)
    assert "cannot resume" in caplog.text
    assert ErasureSchedule.objects.get(pk=who.schedule.pk).state == "running"
    assert User.objects.filter(pk=who.person.user.pk).exists()


def test_the_schedule_names_the_person_only_while_the_erasure_runs(user):
    request, _ = services.dsar_request_file(kind=RequestKind.ERASURE, user=user)
    services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    schedule = request.erasure
    assert (schedule.erase_user_id, schedule.erase_email) == (None, "")  # not yet started
    ErasureSchedule.objects.filter(pk=schedule.pk).update(due_at=timezone.now())
    assert services.erasure_run(schedule_id=schedule.pk)
    schedule.refresh_from_db()
    assert (schedule.erase_user_id, schedule.erase_email, schedule.state) == (None, "", "done")
