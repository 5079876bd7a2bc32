"""The processing activities' words in every language (django-modeltranslation; see
locale/README.md). Officers give each required text in every language in the admin.

The history is registered here, after the translation, so that it keeps every language's text
(django-simple-history's documented way with modeltranslation)."""

import simple_history
from modeltranslation.translator import TranslationOptions, register

from .models import ProcessingActivity

WORDS = ("name", "description", "legitimate_interest", "recipients", "transfers", "retention")
REQUIRED = ("name", "description", "retention")
# The plain columns modeltranslation keeps beside each language's (a copy of the English).
TRANSLATED_TEXTS = (*WORDS, "measures")


@register(ProcessingActivity)
class ProcessingActivityTranslation(TranslationOptions):
    fields = TRANSLATED_TEXTS
    required_languages = {"en": REQUIRED, "de": REQUIRED}


simple_history.register(ProcessingActivity)
