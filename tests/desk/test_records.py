"""Records of processing (GDPR Art. 30) from the processing activities (issue 16, 3).

Judged as an officer reads them: the report's HTML page, its CSV and its PDF, fetched over HTTP,
each holding Art. 30(1)(a)-(g) for every activity, and the processor's view (Art. 30(2))."""

import csv
import html
import io
import re

import pytest
from pypdf import PdfReader

from dsar import registry
from dsar.models import ProcessingActivity

pytestmark = pytest.mark.django_db

URL = "/admin/desk/records-of-processing/"
ART_30_1_COLUMNS = [
    "(b) Purposes",
    "(b) Lawful basis (GDPR Art. 6)",
    "(c) Categories of data subjects",
    "(c) Categories of personal data",
    "(d) Recipients",
    "(e) Transfers to third countries and safeguards",
    "(f) Time limits for erasure",
    "(g) Technical and organisational measures",
]


@pytest.fixture
def controller(settings):
    settings.PRIVACY_CONTROLLER = {
        **settings.PRIVACY_CONTROLLER,
        "name": "Workpex GmbH",
        "address": {
            "streetAddress": "Beispielstraße 1",
            "postalCode": "10115",
            "addressLocality": "Berlin",
            "addressCountry": "DE",
        },
        "dpo": "Dana Officer",
        "dpo_email": "dpo@workpex.example",
        "representative": "Workpex EU Rep, Dublin",
    }


def _text(officer_client, output: str, query: str = "") -> str:
    """The report in one format, as flat text (whitespace runs made one space)."""
    response = officer_client.get(f"{URL}?{query}&format={output}" if output else f"{URL}?{query}")
    assert response.status_code == 200
    if output == "pdf":
        assert response["Content-Type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(response.content))
        text = " ".join(page.extract_text() for page in reader.pages)
    elif output == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        text = " ".join(cell for row in rows for cell in row)
    else:
        page = response.content.decode()
        body = page[page.index('id="content"') :] if 'id="content"' in page else page
        text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return " ".join(text.split())


def _present(text: str, words: str) -> bool:
    return " ".join(words.split()) in text


@pytest.mark.parametrize("output", ["", "csv", "pdf"])
def test_every_format_holds_article_30_1_a_to_g(officer_client, controller, output):
    text = _text(officer_client, output)
    # (a) the controller, its address, the DPO and the representative
    for words in [
        "Workpex GmbH",
        "Beispielstraße 1, 10115, Berlin, DE",
        "Dana Officer, dpo@workpex.example",
        "Workpex EU Rep, Dublin",
    ]:
        assert _present(text, words), words
    for column in ART_30_1_COLUMNS:
        assert _present(text, column), column
    for activity in ProcessingActivity.objects.filter(test_mode=False, as_processor=False):
        assert _present(text, activity.name), activity.name
    # (b) the lawful basis, with the legitimate interest in words for (f)
    assert _present(text, "Legitimate interests (GDPR Art. 6(1)(f))")
    assert _present(text, "Our interest in knowing which pages of the portal are used")
    assert _present(text, "A legal obligation (GDPR Art. 6(1)(c))")
    # (c) Fides categories and the registry's fields
    assert _present(text, "user.contact.email") and _present(text, "date of birth")
    # (e) a transfer with its safeguard, and plainly no transfer elsewhere
    assert _present(text, "Apple, Google and Microsoft may process device tokens")
    assert _present(text, "EU-US Data Privacy Framework")
    assert _present(text, "No transfer outside the EEA")
    assert "None outside the EEA; " not in text  # the old mixed cell
    # (g) per activity and for every activity
    assert _present(text, "Stored payment tokens are encrypted")
    assert _present(text, "(g) Measures for every activity")


@pytest.mark.parametrize("output", ["", "csv", "pdf"])
def test_test_mode_processing_is_left_out_unless_asked_for(officer_client, output):
    assert not _present(_text(officer_client, output), "Push notifications in test mode")
    assert _present(_text(officer_client, output, "test_mode=1"), "Push notifications in test mode")


@pytest.mark.parametrize("output", ["", "csv", "pdf"])
def test_the_processor_view_holds_the_service_data_only(officer_client, output):
    processor = _text(officer_client, output, "view=processor")
    controller = _text(officer_client, output)
    for activity in ProcessingActivity.objects.filter(as_processor=True):
        assert _present(processor, activity.name)
        assert not _present(controller, activity.name)
    assert not _present(processor, "Your privacy requests")
    assert _present(processor, "Controllers on whose behalf we process")
    assert _present(processor, "(d) Technical and organisational measures")


def test_an_officers_edit_shows_up_in_every_format(officer_client):
    ProcessingActivity.objects.filter(code="billing").update(
        retention="Eleven years, as the new tax law says."
    )
    for output in ["", "csv", "pdf"]:
        assert _present(_text(officer_client, output), "Eleven years, as the new tax law says.")


def test_registry_fields_show_under_the_activity_they_serve(officer_client):
    from desk import records

    report = records.records_of_processing()
    data = {row[0][0]: " ".join(row[4]) for row in report.rows}
    user = registry.entry_by_label("accounts.User")
    assert user.activity == "account" and user.field_activities["security_question"] == "sign_in"
    assert (
        "date of birth" in data["Your account"] and "security question" not in data["Your account"]
    )
    assert "security question" in data["Sign-in security"]
    assert "device token" in data["Push notifications"]
