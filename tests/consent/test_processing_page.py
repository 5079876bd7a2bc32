"""The public page "What we do with your data" (issue 16, 4): generated from the processing
activities in the reader's language (GDPR Art. 13/14), linked from /policy/ and every page's
footer, always in step with the rows officers edit."""

import html
import re

import pytest

from dsar.models import ProcessingActivity

pytestmark = pytest.mark.django_db

URL = "/policy/processing/"


def _text(client, url=URL, language="en") -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    page = response.content.decode()
    main = page[page.index("<main") : page.index("</main>")] if "<main" in page else page
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def _section(text: str, name: str, next_name: str) -> str:
    return text[text.index(name) : text.index(next_name)]


def test_every_activity_is_told_with_what_why_basis_how_long_who_and_the_right(client):
    text = _text(client)
    for activity in ProcessingActivity.objects.filter(test_mode=False):
        assert activity.name in text, activity.name
        assert " ".join(activity.description.split()) in text
    analytics = _section(text, "Analysing how the portal is used", "Trends in consent choices")
    assert "Legitimate interests (GDPR Art. 6(1)(f))" in analytics
    assert "Our interest in knowing which pages of the portal are used" in analytics
    assert "You can object to it at any time (GDPR Art. 21)." in analytics
    newsletter = _section(text, "Newsletter", "Product and service updates")
    assert "Consent (GDPR Art. 6(1)(a))" in newsletter and "withdraw your consent" in newsletter
    assert "Our email delivery provider" in newsletter
    billing = _section(text, "Invoices and accounting", "Reports about children")
    assert "Ten years after the end of the financial year" in billing
    push = _section(text, "To send push notifications to the devices", "Analysing how")
    assert "in the USA" in push and "EU-US Data Privacy Framework" in push


def test_test_mode_processing_is_never_on_the_page(client):
    assert "Push notifications in test mode" not in _text(client)


def test_service_data_is_told_as_processed_for_the_customer(client):
    text = _text(client)
    service = text[text.index("Service data we process for our customers") :]
    assert "Manual spam checks" in service and "belong to that customer" in service


def test_the_page_is_in_german_for_a_german_reader(client):
    text = _text(client, language="de")
    assert "Was wir mit Ihren Daten tun" in text
    assert "Rechnungen und Buchhaltung" in text
    assert "Zehn Jahre nach Ende des Geschäftsjahres (Handels- und Steuerrecht)." in text
    assert "Berechtigte Interessen (DSGVO Art. 6 Abs. 1 lit. f)" in text
    assert "Sie können jederzeit widersprechen (DSGVO Art. 21)." in text
    assert "Invoices and accounting" not in text and "Ten years after" not in text


def test_an_officers_edit_shows_at_once_as_written_in_each_language(client):
    ProcessingActivity.objects.filter(code="billing").update(
        retention_en="Eleven years, as the new tax law says.",
        retention_de="Elf Jahre, wie das neue Steuergesetz sagt.",
    )
    assert "Eleven years, as the new tax law says." in _text(client)
    german = _text(client, language="de")
    assert "Elf Jahre, wie das neue Steuergesetz sagt." in german
    assert "Eleven years" not in german


@pytest.mark.parametrize("page", ["/policy/", "/", "/privacy/requests/new/"])
def test_the_page_is_linked_from_the_policy_and_every_footer(client, page):
    assert f'href="{URL}"' in client.get(page).content.decode()
