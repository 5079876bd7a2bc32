"""The processing activities' texts are there in every language (issue 16, point 6): each is a
column per language (dsar/translation.py), filled for the seeded rows by migration 0022 and by
officers in the admin, and read in the reader's language on the public page and in the records."""

import html
import re

import pytest
from django.conf import settings
from django.test import Client
from modeltranslation.translator import translator

from dsar.models import ProcessingActivity

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]
TEXTS = translator.get_options_for_model(ProcessingActivity).fields


def _page_text(response) -> str:
    assert response.status_code == 200
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_every_seeded_activity_has_each_text_in_every_language():
    assert set(TEXTS) == {
        "name",
        "description",
        "legitimate_interest",
        "recipients",
        "transfers",
        "retention",
        "measures",
    }
    missing = [
        f"{activity.code} {name}_{language}"
        for activity in ProcessingActivity.objects.all()
        for name in TEXTS
        if getattr(activity, f"{name}_en")
        for language in LANGUAGES
        if not getattr(activity, f"{name}_{language}")
    ]
    assert missing == []
    newsletter = ProcessingActivity.objects.get(code="newsletter")
    assert newsletter.name_de == "Newsletter"  # the same word in German, still given


def test_a_one_per_line_text_has_as_many_lines_in_every_language():
    for activity in ProcessingActivity.objects.all():
        for name in ("recipients", "measures"):
            counts = {len((getattr(activity, f"{name}_{c}") or "").splitlines()) for c in LANGUAGES}
            assert len(counts) == 1, (activity.code, name)


def test_the_public_page_shows_the_german_texts_from_the_database():
    billing = ProcessingActivity.objects.get(code="billing")
    billing.name_de = "Rechnungen (aus der Datenbank)"
    billing.retention_de = "Zehn Jahre, so steht es in der Datenbank."
    billing.save()
    by_header = _page_text(Client(headers={"accept-language": "de"}).get("/policy/processing/"))
    cookie = Client()
    cookie.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    by_cookie = _page_text(cookie.get("/policy/processing/"))
    for text in (by_header, by_cookie):
        assert "Rechnungen (aus der Datenbank)" in text
        assert "Zehn Jahre, so steht es in der Datenbank." in text
        assert "Invoices and accounting" not in text
        assert "Ihr Konto" in text and "Your account" not in text  # seeded German, migration 0022
    english = _page_text(Client().get("/policy/processing/"))
    assert "Invoices and accounting" in english and "Rechnungen (aus" not in english


def test_the_records_of_processing_read_the_german_texts(officer_client):
    officer_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    text = _page_text(officer_client.get("/admin/desk/records-of-processing/"))
    assert "Rechnungen und Buchhaltung" in text
    assert "Invoices and accounting" not in text


def _admin_form(activity: ProcessingActivity, **changes) -> dict:
    data = {
        "lawful_basis": activity.lawful_basis,
        "data_categories": activity.data_categories,
        "data_uses": activity.data_uses,
        "data_subjects": activity.data_subjects,
        "transfer_safeguard": activity.transfer_safeguard,
        "position": activity.position,
    }
    for name in TEXTS:
        for language in LANGUAGES:
            data[f"{name}_{language}"] = getattr(activity, f"{name}_{language}") or ""
    return data | changes


def test_the_admin_shows_each_text_once_per_language(officer_client):
    billing = ProcessingActivity.objects.get(code="billing")
    page = officer_client.get(f"/admin/dsar/processingactivity/{billing.pk}/change/")
    content = page.content.decode()
    for name in TEXTS:
        for language in LANGUAGES:
            assert f'name="{name}_{language}"' in content, f"{name}_{language}"
        assert f'name="{name}"' not in content
    assert "accounts.Invoice" in content  # the registry entries, read-only
    add = officer_client.get("/admin/dsar/processingactivity/add/")
    assert add.status_code == 200 and 'name="name_de"' in add.content.decode()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name_de": ""}, "name_de"),
        ({"retention_de": ""}, "retention_de"),
        ({"recipients_de": ""}, "recipients_de"),  # English has recipients: German must too
        ({"measures_en": "", "measures_de": "Nur Deutsch"}, "measures_en"),
    ],
)
def test_officers_must_give_german_where_there_is_english(officer_client, changes, field):
    billing = ProcessingActivity.objects.get(code="billing")
    url = f"/admin/dsar/processingactivity/{billing.pk}/change/"
    before = billing.history.count()
    refused = officer_client.post(url, _admin_form(billing, **changes))
    assert refused.status_code == 200  # the form again, with the error
    assert field in refused.context["adminform"].form.errors
    assert billing.history.count() == before


def test_an_officers_german_edit_is_kept_with_its_history(officer_client):
    billing = ProcessingActivity.objects.get(code="billing")
    url = f"/admin/dsar/processingactivity/{billing.pk}/change/"
    response = officer_client.post(
        url, _admin_form(billing, retention_de="Elf Jahre, wie das neue Steuergesetz sagt.")
    )
    assert response.status_code == 302
    billing.refresh_from_db()
    assert billing.retention_de == "Elf Jahre, wie das neue Steuergesetz sagt."
    assert billing.retention_en.startswith("Ten years")
    new, old = billing.history.all()[:2]
    assert old.retention_de.startswith("Zehn Jahre")
    assert new.retention_de == "Elf Jahre, wie das neue Steuergesetz sagt."
