"""Payment methods and invoices: the processor adapter, token encryption, and every write.

The card number goes from the form to the processor adapter and nowhere else: we keep the
cardholder's name, the billing address, the expiry and the last four digits. With the "stored
payment method" consent the processor's token is kept, encrypted with MultiFernet under the keys
in PAYMENT_TOKEN_KEYS (newest first); withdrawing the consent deletes it at once.

Key rotation: put a new key first in PAYMENT_TOKEN_KEYS and keep the old ones after it, deploy,
run `manage.py payment_tokens_rotate` (re-encrypts every token with the newest key), then remove
the old keys.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from dsar.cardnumbers import luhn_valid
from dsar.registry import Subject
from dsar.services import audit_record

from .app_settings import app_settings
from .models import Invoice, PaymentMethod, User

STORED_PAYMENT_PURPOSE = "stored_payment_method"

# --- The processor -------------------------------------------------------------------------------


class PaymentDeclined(Exception):
    """The processor refused the card; the message is safe to show (it never holds the number)."""


@dataclass(frozen=True)
class CardDetails:
    number: str  # digits only; lives only as long as the request that carries it
    expiry_month: int
    expiry_year: int
    cvc: str
    cardholder_name: str

    def __repr__(self) -> str:  # never the number or the CVC, even in a traceback
        expiry = f"{self.expiry_month}/{self.expiry_year}"
        return f"CardDetails(last4={self.number[-4:]!r}, expiry={expiry})"


@dataclass(frozen=True)
class CardToken:
    token: str
    last4: str
    brand: str


class PaymentProcessor:
    """The adapter a real processor (Stripe, Adyen, ...) implements."""

    def tokenize(self, card: CardDetails) -> CardToken:
        """Exchange the card for the processor's token, or raise PaymentDeclined."""
        raise NotImplementedError

    def charge(self, *, token: str, amount_cents: int, currency: str, description: str) -> str:
        """Charge a tokenised card; return the processor's charge reference."""
        raise NotImplementedError


def _brand(number: str) -> str:
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "Mastercard"
    if number[:2] in {"34", "37"}:
        return "American Express"
    return "Card"


class TestModeProcessor(PaymentProcessor):
    """A processor in the repository, without network, for development, demos and tests.

    Takes any Luhn-valid number except the decline test card 4000 0000 0000 0002 (the convention
    of the common processors' test modes), and issues random `tok_test_` tokens.
    """

    DECLINED = "4000000000000002"

    def tokenize(self, card: CardDetails) -> CardToken:
        if not luhn_valid(card.number) or card.number == self.DECLINED:
            raise PaymentDeclined(
                _("The card was declined. Check the details or use another card.")
            )
        return CardToken(
            token="tok_test_" + secrets.token_hex(16),
            last4=card.number[-4:],
            brand=_brand(card.number),
        )

    def charge(self, *, token: str, amount_cents: int, currency: str, description: str) -> str:
        if not token.startswith("tok_test_"):
            raise PaymentDeclined(_("The card was declined."))
        return "ch_test_" + secrets.token_hex(8)


def payment_processor() -> PaymentProcessor:
    return import_string(app_settings.PAYMENT_PROCESSOR)()


# --- Token encryption ----------------------------------------------------------------------------


def token_cipher(keys: list[str] | None = None) -> MultiFernet:
    keys = list(keys if keys is not None else getattr(settings, "PAYMENT_TOKEN_KEYS", []))
    if not keys:
        raise ImproperlyConfigured("PAYMENT_TOKEN_KEYS is empty: stored payment tokens need a key.")
    return MultiFernet([Fernet(key.strip().encode()) for key in keys])


def token_encrypt(token: str) -> str:
    return token_cipher().encrypt(token.encode()).decode()


def token_decrypt(ciphertext: str) -> str:
    """The processor's token; raises cryptography's InvalidToken without the right key."""
    return token_cipher().decrypt(ciphertext.encode()).decode()


def payment_tokens_rotate(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored token with the newest key; return how many were rotated."""
    cipher = token_cipher()
    rotated, last_pk = 0, 0
    while True:
        with transaction.atomic():
            rows = list(
                PaymentMethod.objects.select_for_update()
                .exclude(token_encrypted="")
                .filter(pk__gt=last_pk)
                .order_by("pk")[:batch_size]
            )
            if not rows:
                return rotated
            for row in rows:
                row.token_encrypted = cipher.rotate(row.token_encrypted.encode()).decode()
            PaymentMethod.objects.bulk_update(rows, ["token_encrypted"])
            rotated += len(rows)
            last_pk = rows[-1].pk


# --- Writes --------------------------------------------------------------------------------------


def _expiry_check(month: int, year: int) -> None:
    today = timezone.localdate()
    if not 1 <= month <= 12:
        raise ValidationError(_("The expiry month must be between 1 and 12."))
    if (year, month) < (today.year, today.month):
        raise ValidationError(_("This card has expired."))


@transaction.atomic
def payment_method_add(
    *, user: User, card: CardDetails, billing: dict, store_token: bool
) -> PaymentMethod:
    """Tokenise a card with the processor and keep only what the policy allows.

    `billing` holds billing_line1, billing_line2, billing_city, billing_postal_code and
    billing_country. With `store_token`, the "stored payment method" consent is recorded and
    the token kept encrypted; without it, the token is dropped here.
    """
    from consent import services as consent_services  # consent may be imported by accounts

    _expiry_check(card.expiry_month, card.expiry_year)
    result = payment_processor().tokenize(card)
    method = PaymentMethod(
        user=user,
        cardholder_name=card.cardholder_name,
        expiry_month=card.expiry_month,
        expiry_year=card.expiry_year,
        last4=result.last4,
        brand=result.brand,
        **{name: billing.get(name) or "" for name in BILLING_FIELDS},
    )
    method.full_clean()
    if store_token:
        consent_services.consent_grant(
            subject=Subject(user_id=user.pk),
            purpose=STORED_PAYMENT_PURPOSE,
            method=consent_services.Method.FORM_SUBMISSION,
        )
        method.token_encrypted = token_encrypt(result.token)
    method.save()
    audit_record(
        action="payment_method_added",
        actor=user,
        subject=Subject(user_id=user.pk),
        obj=method,
        detail={"token_stored": store_token},
    )
    return method


BILLING_FIELDS = (
    "billing_line1",
    "billing_line2",
    "billing_city",
    "billing_postal_code",
    "billing_country",
)


@transaction.atomic
def payment_method_delete(*, user: User, method_id: int) -> None:
    deleted, _rows = PaymentMethod.objects.filter(user=user, pk=method_id).delete()
    if not deleted:
        raise ValidationError(_("This card is not one of yours, or it was already removed."))
    audit_record(
        action="payment_method_deleted",
        actor=user,
        subject=Subject(user_id=user.pk),
        detail={"payment_method": method_id},
    )


def payment_tokens_delete(*, user_id: int) -> int:
    """Delete every stored token of a person (the consent was withdrawn); cards stay listed with
    their last four digits, without a way to charge them again."""
    count = (
        PaymentMethod.objects.filter(user_id=user_id)
        .exclude(token_encrypted="")
        .update(token_encrypted="")
    )
    if count:
        audit_record(
            action="payment_tokens_deleted",
            subject=Subject(user_id=user_id),
            detail={"tokens": count, "why": "stored_payment_method consent withdrawn"},
        )
    return count


def on_consent_withdrawn(sender, *, subject: Subject, purpose: str, **kwargs) -> None:
    """consent.signals.consent_withdrawn: react at once, inside the withdrawal's transaction."""
    if purpose == STORED_PAYMENT_PURPOSE and subject.user_id is not None:
        payment_tokens_delete(user_id=subject.user_id)


INVOICE_HOLD_YEARS = 10  # HGB §257(4), AO §147(3)


def invoice_hold_until(issued: date) -> date:
    """The last day the law requires an invoice issued on `issued` to be kept: the period starts
    at the end of the calendar year it was issued in (HGB §257(5), AO §147(4))."""
    return date(issued.year + INVOICE_HOLD_YEARS, 12, 31)


def _invoice_number() -> str:
    return f"WPX-{timezone.now():%Y%m}-{secrets.token_hex(4).upper()}"


@transaction.atomic
def invoice_issue(
    *, user: User, method: PaymentMethod, amount_cents: int, description: str, currency: str = "EUR"
) -> Invoice:
    """Charge a stored card and issue the invoice (kept under a legal hold)."""
    if method.user_id != user.pk:
        raise ValidationError(_("This card is not one of yours."))
    if not method.has_stored_token:
        raise ValidationError(
            _("This card is not stored for future payments: add it again to pay with it.")
        )
    if amount_cents <= 0:
        raise ValidationError(_("The amount must be more than zero."))
    from consent import selectors as consent_selectors  # consent may be imported by accounts

    if not consent_selectors.data_use_allowed(
        subject=Subject(user_id=user.pk), purpose=STORED_PAYMENT_PURPOSE
    ):
        raise ValidationError(
            _("You restricted the use of your stored card: enter the card again to pay with it.")
        )
    try:
        token = token_decrypt(method.token_encrypted)
    except InvalidToken:
        raise ValidationError(_("The stored card cannot be used: add it again.")) from None
    reference = payment_processor().charge(
        token=token, amount_cents=amount_cents, currency=currency, description=description
    )
    address = "\n".join(
        str(v)
        for v in (
            method.billing_line1,
            method.billing_line2,
            f"{method.billing_postal_code} {method.billing_city}".strip(),
            method.billing_country.name,
        )
        if v
    )
    invoice = Invoice(
        user=user,
        number=_invoice_number(),
        description=description,
        amount_cents=amount_cents,
        currency=currency,
        billing_name=method.cardholder_name,
        billing_address=address,
        card_last4=method.last4,
        hold_until=invoice_hold_until(timezone.localdate()),
    )
    invoice.full_clean()
    invoice.save()
    audit_record(
        action="invoice_issued",
        actor=user,
        subject=Subject(user_id=user.pk),
        obj=invoice,
        detail={"charge": reference},
    )
    return invoice
