"""The access report says why data is held, on which basis, how long and who receives it in the
words of the processing activities (one vocabulary, edited by officers, in every language), never
in words of its own; and it is written in the person's language."""

import json

import pytest
from django.utils import translation

from dsar import registry, services
from dsar.models import ProcessingActivity, RequestKind

from .test_exports import write_report

pytestmark = pytest.mark.django_db


def category(report, name):
    return next(c for c in report["categories"] if c["category"] == name)


def test_each_category_names_exactly_the_activities_its_data_serves(ada):
    _counts, report, _html = write_report(ada.subject)
    for entry_category in report["categories"]:
        entries = [e for e in registry.entries() if e.category == entry_category["category"]]
        codes = {code for e in entries for code in e.activity_codes}
        assert {a["code"] for a in entry_category["activities"]} == codes
        for model in entry_category["models"]:
            entry = next(e for e in entries if e.label == model["model"])
            assert model["activities"] == list(entry.activity_codes)
    account = category(report, "Account and profile")
    # The user's security question and last sign-in serve sign-in security, not the account.
    assert {a["code"] for a in account["activities"]} == {"account", "sign_in"}
    words = ProcessingActivity.objects.get(code="account")
    assert words.description in account["purpose"]
    assert words.retention in account["retention"]
    assert account["recipients"][:2] == words.recipients.splitlines()
    basis = next(a for a in account["activities"] if a["code"] == "account")["lawful_basis"]
    assert basis == "A contract with the person (GDPR Art. 6(1)(b))"


def test_an_officer_s_edit_of_an_activity_is_what_the_next_report_says(ada):
    activity = ProcessingActivity.objects.get(code="billing")
    activity.retention_en = "Eleven years, because the tax office says so."
    activity.recipients_en = "Our payment processor\nThe tax office"
    activity.save()

    _counts, report, html = write_report(ada.subject)

    payments = category(report, "Payments")
    assert "Eleven years, because the tax office says so." in payments["retention"]
    assert "The tax office" in payments["recipients"]
    assert "Eleven years, because the tax office says so." in html
    assert "Ten years after the end of the financial year" not in json.dumps(report)


def test_the_report_is_written_in_the_language_the_person_reads(ada):
    ada.user.language = "de"
    ada.user.save(update_fields=["language"])
    with translation.override("en"):  # the worker's language is not the person's
        request, _ = services.dsar_request_file(kind=RequestKind.ACCESS, user=ada.user)
    assert request.language == "de"
    [export] = services.exports_create(request=request)
    assert services.export_build(export_id=export.pk)
    export.refresh_from_db()

    with export.file.open("rb") as handle:
        html = handle.read().decode()
    with export.data_file.open("rb") as handle:
        report = json.loads(handle.read())
    account = ProcessingActivity.objects.get(code="account")
    assert '<html lang="de">' in html
    assert "Konto und Profil" in html  # the category's heading
    assert "Auf welcher Rechtsgrundlage" in html
    assert "Erstellt am <time" in html and "Wir speichern nichts dieser Art" in html
    assert account.retention_de in html
    assert account.retention_en not in html
    assert category(report, "Account and profile")["title"] == "Konto und Profil"


def test_someone_without_an_account_gets_the_language_they_filed_in():
    with translation.override("de"):
        request, _ = services.dsar_request_file(kind=RequestKind.ACCESS, email="eve@example.com")
    assert request.language == "de"
