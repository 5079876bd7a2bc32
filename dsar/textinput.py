"""The one check that text handed to a service can be stored and looked up at all.

Forms already refuse the NUL character (Django's ProhibitNullCharactersValidator), but services are
also reached from raw request parameters, the admin and other code. PostgreSQL cannot hold or even
compare a string with NUL in it, so without this check such text fails halfway through a service
with a database error instead of a plain refusal."""

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
