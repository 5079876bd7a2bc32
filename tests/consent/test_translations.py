"""Texts people read that live in the database are there in every language (issue 16, point 6)."""

import pytest
from django.conf import settings
from django.test import Client
from modeltranslation.translator import translator

from consent.models import Purpose
from tests.accounts.factories import UserFactory
from tests.consent.factories import PartnerFactory

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def empty_translations() -> list[str]:
    """Every (row, field, language) of a translated model with no text, as 'Model #pk field_xx'."""
    empty = []
    for model in translator.get_registered_models(abstract=False):
        fields = translator.get_options_for_model(model).fields
        for row in model._default_manager.all():
            for field in fields:
                if not getattr(row, f"{field}_en"):
                    continue  # nothing to say in any language (an optional text left empty)
                empty += [
                    f"{model.__name__} #{row.pk} {field}_{language}"
                    for language in LANGUAGES
                    if not getattr(row, f"{field}_{language}")
                ]
    return empty


def test_every_shipped_text_is_there_in_german():
    assert translator.get_registered_models(abstract=False)
    assert empty_translations() == []


def test_the_check_finds_a_missing_german_text():
    """The test above can fail: a row with only English is reported."""
    PartnerFactory(description_en="Sells Workpex in Austria.", description_de="")
    assert [e.split(" ", 2)[2] for e in empty_translations()] == ["description_de"]


def test_german_readers_see_german_purposes_and_cookie_categories(client):
    german = Client(headers={"accept-language": "de"})
    cookies = german.get("/cookies/").content.decode()
    assert "Notwendige Cookies" in cookies
    assert "Social-Media-Widgets" in cookies
    assert "Necessary cookies" not in cookies
    english = client.get("/cookies/").content.decode()
    assert "Necessary cookies" in english


def test_a_form_says_why_it_asks_in_the_readers_language():
    page = Client(headers={"accept-language": "de"}).get("/forms/newsletter_signup/")
    assert "Um Ihnen den Newsletter zu senden, den Sie bestellt haben." in page.content.decode()


def test_officers_must_give_every_language_when_they_edit_a_purpose(officer_client):
    newsletter = Purpose.objects.get(code="newsletter")
    url = f"/admin/consent/purpose/{newsletter.pk}/change/"
    form = {
        "name_en": "Monthly newsletter",
        "name_de": "",
        "description_en": "Our monthly news.",
        "description_de": "Unsere monatlichen Neuigkeiten.",
        "legal_basis": newsletter.legal_basis,
        "channel": newsletter.channel,
        "is_direct_marketing": "on",
        "is_active": "on",
        "position": newsletter.position,
    }
    refused = officer_client.post(url, form)
    assert refused.status_code == 200  # the form again, with the error
    newsletter.refresh_from_db()
    assert newsletter.name_en == "Newsletter"

    officer_client.post(url, form | {"name_de": "Monatlicher Newsletter"})
    newsletter.refresh_from_db()
    assert (newsletter.name_en, newsletter.name_de) == (
        "Monthly newsletter",
        "Monatlicher Newsletter",
    )
    reader = Client()
    reader.force_login(UserFactory(language="de"))
    page = reader.get("/preferences/").content.decode()
    assert "Monatlicher Newsletter" in page
    assert "Monthly newsletter" not in page
