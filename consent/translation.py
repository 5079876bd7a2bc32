"""Which database texts people read are kept in every language (django-modeltranslation).

Each field below gets a column per language in settings.LANGUAGES (`name_en`, `name_de`, …);
reading `purpose.name` gives the active language's text. Officers must fill every language in
the admin; the seeded rows come with German (migration 0014).
"""

from modeltranslation.translator import TranslationOptions, register

from .models import Partner, Purpose


@register(Purpose)
class PurposeTranslation(TranslationOptions):
    fields = ("name", "description")
    required_languages = ("en", "de")


@register(Partner)
class PartnerTranslation(TranslationOptions):
    # A partner's name is its own; what it does is said in every language.
    fields = ("description",)
