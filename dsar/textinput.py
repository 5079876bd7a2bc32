"""The one check that text handed to a service can be stored and looked up at all.

Forms already refuse the NUL character (Django's ProhibitNullCharactersValidator), but services are
also reached from raw request parameters, the admin and other code. PostgreSQL cannot hold or even
compare a string with NUL in it, so without this check such text fails halfway through a service
with a database error instead of a plain refusal."""

import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def text_refuse_unstorable(*values) -> None:
    """Raise a ValidationError, before anything is written, when a value is not text or holds
    a character no column can store."""
    for value in values:
        if not isinstance(value, str):
            raise ValidationError(_("This must be text."), code="not_text")
        if "\x00" in value:
            raise ValidationError(
                _("Null characters are not allowed."), code="null_characters_not_allowed"
            )


# The largest id any of our tables can hold (a signed 64-bit integer) has 19 digits.
MAX_ID_DIGITS = 19


def id_from_text(value) -> int | None:
    """The row id written in `value`, or None for anything that is not one: only ASCII digits
    ("²".isdigit() is true), and few enough that the number fits a database column (Python
    refuses to read numbers of more than 4,300 digits at all)."""
    value = str(value or "").strip()
    if not value or len(value) > MAX_ID_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number < 2**63 else None


JSON_MAX_BYTES = 16 * 1024
JSON_MAX_DEPTH = 8


def json_object_parse(
    body: bytes, *, max_bytes: int = JSON_MAX_BYTES, max_depth: int = JSON_MAX_DEPTH
) -> dict:
    """A request body that must be a small, shallow JSON object, or a ValidationError whose
    message says what is wrong: the size is checked before parsing, nesting right after (a
    deeply nested document would otherwise exhaust the parser's recursion)."""
    if len(body) > max_bytes:
        raise ValidationError(
            _("The request body is too large (at most %(n)d bytes).") % {"n": max_bytes},
            code="too_large",
        )
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise ValidationError(_("The request body is not valid JSON."), code="invalid") from None
    if not isinstance(data, dict):
        raise ValidationError(_("The request body must be a JSON object."), code="not_object")
    level, depth = [data], 1
    while level:
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
        depth += bool(level)
        if depth > max_depth:
            raise ValidationError(
                _("The JSON is nested too deeply (at most %(n)d levels).") % {"n": max_depth},
                code="too_deep",
            )
    return data
