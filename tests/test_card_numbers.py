"""The card-number gate: every text field of every form refuses a card number, and no full card
number reaches a table, a log line, a mail or a page."""

import copy
import io
import logging
import sys

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from dsar.cardnumbers import (
    MASK,
    CardNumberGuardMixin,
    CardNumberLogFilter,
    card_number_guard,
    card_number_refuse,
    card_numbers_find,
    card_numbers_redact,
)
from tests.forms_walk import project_form_classes

CARD = "4111 1111 1111 1111"
CARD_DIGITS = CARD.replace(" ", "")
FORM_CLASSES = project_form_classes()


@pytest.mark.parametrize(
    "text",
    [
        CARD,
        "4111-1111-1111-1111",
        "5555555555554444",
        "my card is 3782 822463 10005 thanks",
        "order 12 4111 1111 1111 1111",
    ],
)
def test_luhn_valid_numbers_are_found(text):
    assert card_numbers_find(text)
    assert CARD_DIGITS not in card_numbers_redact(text).replace(" ", "").replace("-", "")


@pytest.mark.parametrize(
    "text", ["4111 1111 1111 1112", "+44 20 7946 0958", "1234", "2026-11-25", "ref 123456789012"]
)
def test_other_numbers_pass(text):
    assert card_numbers_find(text) == []


def test_the_walk_finds_the_forms():
    names = set(FORM_CLASSES)
    assert {
        "accounts.forms.SignupForm",
        "accounts.forms.PaymentMethodForm",
        "consent.forms.SubmissionForm",
        "dsar.forms.RequestForm",
    } <= names


# The only fields without the gate: the card number the processor takes, and device tokens
# (machine-issued, format-checked per platform; random hex often holds a Luhn-valid run).
CARD_NUMBER_ALLOWED = {
    ("accounts.forms.PaymentMethodForm", "card_number"),
    ("notifications.forms.DeviceForm", "token"),
}


@pytest.mark.parametrize("path", sorted(FORM_CLASSES))
def test_every_form_has_the_gate_and_each_text_field_refuses_a_card_number(path):
    cls = FORM_CLASSES[path]
    assert issubclass(cls, CardNumberGuardMixin), f"{path} lacks CardNumberGuardMixin"
    mro = cls.__mro__
    assert mro.index(CardNumberGuardMixin) < mro.index(forms.BaseForm)

    class Holder:
        fields = copy.deepcopy(cls.base_fields)

    card_number_guard(Holder)
    for name, field in Holder.fields.items():
        if not isinstance(field, forms.CharField):
            continue
        if getattr(field, "card_number_allowed", False):
            assert (path, name) in CARD_NUMBER_ALLOWED, (path, name)
            continue
        assert card_number_refuse in field.validators, (path, name)
        with pytest.raises(forms.ValidationError):  # some (phone) refuse it even earlier
            field.clean(CARD)


@pytest.mark.django_db
def test_the_fields_each_kind_of_submission_form_adds_refuse_card_numbers():
    from consent.forms import SubmissionForm
    from consent.models import FormSubmission

    for kind in FormSubmission.Kind.values:
        form = SubmissionForm(kind=kind)
        card_number_guard(form)
        for name, field in form.fields.items():
            if isinstance(field, forms.CharField):
                with pytest.raises(forms.ValidationError):
                    field.clean(CARD)
                assert name


def _all_rows_text() -> str:
    chunks = []
    for model in apps.get_models():
        names = [f.attname for f in model._meta.concrete_fields]
        for row in model._default_manager.values_list(*names):
            chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def _contains_card(text: str) -> bool:
    return CARD_DIGITS in text.replace(" ", "").replace("-", "")


@pytest.fixture
def log_stream():
    """Every handler of the root logger, writing into one buffer for the test."""
    buffer = io.StringIO()
    root = logging.getLogger()
    ours = [h for h in root.handlers if any(isinstance(f, CardNumberLogFilter) for f in h.filters)]
    assert ours, "the LOGGING handlers are not installed"
    saved = [(h, h.setStream(buffer)) for h in ours]
    level = root.level
    root.setLevel(logging.DEBUG)
    yield buffer
    root.setLevel(level)
    for handler, stream in saved:
        handler.setStream(stream)


def test_every_configured_handler_carries_the_filter():
    assert settings.LOGGING["handlers"]
    for name, handler in settings.LOGGING["handlers"].items():
        assert "card_numbers" in handler.get("filters", []), name
    assert settings.LOGGING["filters"]["card_numbers"]["()"].endswith("CardNumberLogFilter")


def test_log_lines_arguments_and_tracebacks_are_masked(log_stream):
    logger = logging.getLogger("tests.cards")
    logger.warning("paid with %s", CARD)
    logger.warning(f"inline {CARD_DIGITS}")
    try:
        raise ValueError(f"bad card {CARD}")
    except ValueError:
        logger.exception("failed")
    written = log_stream.getvalue()
    assert "[card number removed]" in written and "ValueError" in written
    assert not _contains_card(written)


def test_error_reports_mask_card_numbers(rf: RequestFactory):
    request = rf.post("/accounts/profile/", {"full_name": CARD})
    try:
        full_name = CARD  # noqa: F841  (a local variable in the traceback)
        raise RuntimeError("boom")
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
        text = reporter.get_traceback_text()
    assert not _contains_card(text)


def assert_refused_not_echoed(response):
    """Refused with the message, and the re-rendered form holds the number masked, not as typed."""
    page = response.content.decode()
    assert response.status_code in (200, 400) and "payment card number" in page
    assert not _contains_card(page)
    assert MASK in page


@pytest.mark.django_db
def test_card_numbers_typed_into_the_portals_forms_reach_no_table_log_or_mail(
    client, user, log_stream
):
    """Type a card number into the free-text fields of the portal's forms: each is refused, the
    page does not echo it back, and afterwards no table, log line or mail holds it."""
    # Anonymous forms: signup, a contact form, a privacy request by email.
    response = client.post(
        "/accounts/signup/",
        {
            "full_name": CARD,
            "email": "new@example.com",
            "company_name": "Acme",
            "country": "IE",
            "date_of_birth": "1990-01-01",
            "username": "newperson",
            "password1": "a-long-passphrase-1",
            "password2": "a-long-passphrase-1",
        },
    )
    assert_refused_not_echoed(response)
    response = client.post(
        "/forms/contact_request/",
        {"name": "Pat", "email": "pat@example.com", "message": f"card {CARD}"},
    )
    assert_refused_not_echoed(response)
    response = client.post(
        "/privacy/requests/new/",
        {"kind": "access", "email": "pat@example.com", "details": CARD, "country": "IE"},
    )
    assert_refused_not_echoed(response)

    # Signed in: the profile, a privacy request, a card's name field.
    client.force_login(user)
    response = client.post(
        "/accounts/profile/",
        {"full_name": "Pat", "company_name": CARD, "country": "IE"},
    )
    assert_refused_not_echoed(response)
    response = client.post("/privacy/requests/new/", {"kind": "access", "details": CARD})
    assert_refused_not_echoed(response)
    response = client.post(
        "/accounts/payments/",
        {
            "cardholder_name": CARD,
            "card_number": "5555 5555 5555 4444",
            "expiry_month": 12,
            "expiry_year": 2099,
            "cvc": "123",
            "billing_line1": "1 Main St",
            "billing_city": "Dublin",
            "billing_country": "IE",
        },
    )
    assert_refused_not_echoed(response)
    assert b"5555" not in response.content

    assert not _contains_card(_all_rows_text())
    assert not any(_contains_card(m.body + m.subject) for m in mail.outbox)
    assert not _contains_card(log_stream.getvalue())
