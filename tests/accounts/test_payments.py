import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts import payments
from accounts.checks import check_payment_token_keys
from accounts.models import Invoice, PaymentMethod
from consent import selectors as consent_selectors
from consent import services as consent_services
from dsar.erasure import erasure_erase_subject
from dsar.models import AuditEvent
from dsar.registry import Subject

pytestmark = pytest.mark.django_db

CARD = "4242 4242 4242 4242"
BILLING = {
    "billing_line1": "1 Main Street",
    "billing_line2": "",
    "billing_city": "Dublin",
    "billing_postal_code": "D01 F5P2",
    "billing_country": "IE",
}


def card(number=CARD, month=12, year=2099):
    return payments.CardDetails(
        number=number.replace(" ", ""),
        expiry_month=month,
        expiry_year=year,
        cvc="123",
        cardholder_name="Pat Murphy",
    )


def form_data(**changes):
    data = {
        "cardholder_name": "Pat Murphy",
        "card_number": CARD,
        "expiry_month": "12",
        "expiry_year": "2099",
        "cvc": "123",
        **BILLING,
    }
    data.update(changes)
    return data


def test_adding_a_card_keeps_only_the_allowed_details_and_shows_the_last_four(user_client, user):
    response = user_client.post("/accounts/payments/", form_data(), follow=True)
    assert response.status_code == 200
    method = PaymentMethod.objects.get(user=user)
    assert (method.last4, method.brand, method.cardholder_name) == ("4242", "Visa", "Pat Murphy")
    assert method.token_encrypted == ""  # no consent, no token
    page = response.content.decode()
    assert "•••• 4242" in page
    assert "4242424242424242" not in page and CARD not in page
    assert AuditEvent.objects.filter(action="payment_method_added", subject_ref=f"user:{user.pk}")


def test_a_declined_or_invalid_card_stores_nothing_and_is_not_echoed(user_client, user):
    response = user_client.post("/accounts/payments/", form_data(card_number="4000000000000002"))
    assert b"declined" in response.content
    assert b"4000000000000002" not in response.content
    response = user_client.post("/accounts/payments/", form_data(card_number="4242424242424241"))
    assert b"not a valid card number" in response.content
    assert b"4242424242424241" not in response.content
    response = user_client.post("/accounts/payments/", form_data(expiry_year="2001"))
    assert b"expired" in response.content
    assert not PaymentMethod.objects.exists()


def test_with_consent_the_token_is_stored_encrypted(user_client, user):
    user_client.post("/accounts/payments/", form_data(store_for_future="on"))
    method = PaymentMethod.objects.get(user=user)
    assert method.token_encrypted and "tok_test_" not in method.token_encrypted
    assert payments.token_decrypt(method.token_encrypted).startswith("tok_test_")
    assert consent_selectors.consent_is_granted(
        subject=Subject(user_id=user.pk), purpose="stored_payment_method"
    )


def test_the_token_is_unreadable_without_the_key_and_readable_after_a_rotation(settings, user):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PAYMENT_TOKEN_KEYS = [old_key]
    method = payments.payment_method_add(user=user, card=card(), billing=BILLING, store_token=True)
    token = payments.token_decrypt(method.token_encrypted)

    settings.PAYMENT_TOKEN_KEYS = [new_key]  # without the old key: unreadable
    with pytest.raises(InvalidToken):
        payments.token_decrypt(method.token_encrypted)

    settings.PAYMENT_TOKEN_KEYS = [new_key, old_key]  # rotation: new first, old kept
    call_command("payment_tokens_rotate", stdout=io.StringIO())
    method.refresh_from_db()
    settings.PAYMENT_TOKEN_KEYS = [new_key]  # old key removed: still readable
    assert payments.token_decrypt(method.token_encrypted) == token


def test_withdrawing_the_consent_deletes_the_token_at_once(user):
    method = payments.payment_method_add(user=user, card=card(), billing=BILLING, store_token=True)
    assert method.has_stored_token
    consent_services.consent_withdraw(
        subject=Subject(user_id=user.pk),
        purpose="stored_payment_method",
        method=consent_services.Method.PREFERENCE_CENTRE,
    )
    method.refresh_from_db()
    assert method.token_encrypted == "" and method.last4 == "4242"
    assert AuditEvent.objects.filter(action="payment_tokens_deleted").exists()
    with pytest.raises(ValidationError):
        payments.invoice_issue(user=user, method=method, amount_cents=1000, description="Plan")


def test_withdrawing_another_consent_keeps_the_token(user):
    method = payments.payment_method_add(user=user, card=card(), billing=BILLING, store_token=True)
    consent_services.consent_grant(
        subject=Subject(user_id=user.pk), purpose="newsletter", method="preference_centre"
    )
    consent_services.consent_withdraw(
        subject=Subject(user_id=user.pk), purpose="newsletter", method="preference_centre"
    )
    method.refresh_from_db()
    assert method.has_stored_token


def test_invoices_are_kept_under_a_legal_hold_and_cards_are_deleted_on_erasure(user):
    method = payments.payment_method_add(user=user, card=card(), billing=BILLING, store_token=True)
    invoice = payments.invoice_issue(
        user=user, method=method, amount_cents=4900, description="Workpex Pro, one month"
    )
    assert invoice.amount == "49.00 EUR" and invoice.card_last4 == "4242"
    erasure_erase_subject(subject=Subject(user_id=user.pk, email=user.email))
    assert not PaymentMethod.objects.exists()
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.user_id is None and invoice.number


def test_removing_a_card(user_client, user, django_user_model):
    method = payments.payment_method_add(user=user, card=card(), billing=BILLING, store_token=False)
    other = django_user_model.objects.create(username="other", email="o@example.com")
    other_method = payments.payment_method_add(
        user=other, card=card(), billing=BILLING, store_token=False
    )
    user_client.post(f"/accounts/payments/{other_method.pk}/remove/")
    assert PaymentMethod.objects.filter(pk=other_method.pk).exists()
    user_client.post(f"/accounts/payments/{method.pk}/remove/")
    assert not PaymentMethod.objects.filter(pk=method.pk).exists()


def test_production_needs_valid_payment_token_keys(settings):
    settings.PAYMENT_TOKEN_KEYS = []
    assert [e.id for e in check_payment_token_keys()] == ["accounts.E001"]
    settings.PAYMENT_TOKEN_KEYS = ["not-a-key"]
    assert [e.id for e in check_payment_token_keys()] == ["accounts.E002"]
    settings.PAYMENT_TOKEN_KEYS = [Fernet.generate_key().decode()]
    assert check_payment_token_keys() == []
