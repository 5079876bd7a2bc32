"""The one gate that keeps full card numbers out of the portal (design.md: "a full card number is
never stored, logged or echoed").

It lives in the privacy kernel because every app's forms use it and `dsar` is the only app all
others may import. Three parts, one detector:

- `CardNumberGuardMixin`: every form of the portal inherits it; each text field (every
  `forms.CharField`, so email, slug, URL and phone fields too) refuses a Luhn-valid number of
  13-19 digits, with spaces or dashes, with a clear message. Only a field marked
  `card_number_allowed = True` (the payment form's card field, which goes to the processor and
  nowhere else) is exempt.
- `CardNumberLogFilter`: installed on every logging handler (settings LOGGING); it masks any card
  number in a log line, its arguments and its traceback.
- `CardNumberExceptionReporterFilter`: Django's error reports show POST values masked.
"""

from __future__ import annotations

import logging
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.debug import SafeExceptionReporterFilter

# 13 to 19 digits, each optionally followed by one space or dash, not inside a longer number.
_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
MASK = "[card number removed]"
CARD_NUMBER_MESSAGE = _(
    "This looks like a payment card number. Never type a card number here: we do not accept it "
    "in this field, so we have removed it. Check the field and try again."
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_numbers_find(text: str) -> list[str]:
    """The Luhn-valid card numbers in a text, as written (with their spaces or dashes).

    A run of digit groups is tried whole and group by group, so a card number written next to
    other digits ("order 12 4111 1111 1111 1111") is still found.
    """
    if not text or not isinstance(text, str):
        return []
    found = []
    for match in _CANDIDATE.finditer(text):
        groups = re.split(r"[ -]", match.group(0))
        hit = None
        for start in range(len(groups)):
            for end in range(len(groups), start, -1):
                digits = "".join(groups[start:end])
                if 13 <= len(digits) <= 19 and luhn_valid(digits):
                    hit = match.group(0)
                    break
            if hit:
                break
        if hit:
            found.append(hit)
    return found


def card_numbers_redact(text: str) -> str:
    if not text or not isinstance(text, str):
        return text
    for number in card_numbers_find(text):
        text = text.replace(number, MASK)
    return text


def card_number_refuse(value) -> None:
    """A validator: refuses any text holding a Luhn-valid card number."""
    if isinstance(value, str) and card_numbers_find(value):
        raise ValidationError(CARD_NUMBER_MESSAGE, code="card_number")


class CardNumberGuardMixin:
    """Put first in the bases of every form: its text fields refuse card numbers."""

    def full_clean(self):
        # At validation time, so fields a subclass adds in its __init__ are guarded too.
        card_number_guard(self)
        super().full_clean()
        card_numbers_unecho(self)


def card_numbers_unecho(form: forms.BaseForm) -> None:
    """A refused card number is never echoed back: the re-rendered form shows the text with
    the number masked (the field's error says why)."""
    refused = [
        name
        for name, errors in form.errors.as_data().items()
        if any(error.code == "card_number" for error in errors)
    ]
    if not refused:
        return
    form.data = form.data.copy()
    for name in refused:
        key = form.add_prefix(name)
        if hasattr(form.data, "setlist"):
            form.data.setlist(key, [card_numbers_redact(v) for v in form.data.getlist(key)])
        else:
            form.data[key] = card_numbers_redact(form.data[key])


def card_number_guard(form: forms.BaseForm) -> forms.BaseForm:
    """Add the refusal to each text field of a form instance (fields are copies per instance)."""
    for field in form.fields.values():
        guarded = isinstance(field, forms.CharField) and not getattr(
            field, "card_number_allowed", False
        )
        if guarded and card_number_refuse not in field.validators:
            field.validators.append(card_number_refuse)
    return form


class CardNumberLogFilter(logging.Filter):
    """Masks card numbers in every log record before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        redacted = card_numbers_redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = card_numbers_redact(record.exc_text)
            record.exc_info = None  # the handler prints exc_text, never the raw exception
        if record.stack_info:
            record.stack_info = card_numbers_redact(record.stack_info)
        return True


class CardNumberExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports (debug page, mailed reports) with card numbers masked."""

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if not params:
            return params
        params = params.copy()
        for key in list(params):
            values = params.getlist(key) if hasattr(params, "getlist") else [params[key]]
            cleaned = [card_numbers_redact(v) for v in values]
            if hasattr(params, "setlist"):
                params.setlist(key, cleaned)
            else:
                params[key] = cleaned[0]
        return params

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, card_numbers_redact(value) if isinstance(value, str) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
