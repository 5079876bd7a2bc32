"""The consent ledger in the portability package: purposes, partners and policy versions in
words, and the channel of each row, in the JSON and the CSV of a built (and unzipped) package."""

import csv
import io
import json
import zipfile

from django.utils import translation

from consent import services
from dsar.exports import portability_package_write

from .conftest import grant


def unzip(subject) -> dict[str, bytes]:
    out = io.BytesIO()
    portability_package_write(subject=subject, zip_file=out)
    with zipfile.ZipFile(out) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_ledger_names_purposes_and_versions_in_words_and_keeps_the_channel(
    user_subject, partners
):
    grant(user_subject, "newsletter", method="signup")
    services.consent_record(
        subject=user_subject,
        purpose="newsletter",
        action="withdrawn",
        method="preference_centre",
        channel="push",
    )
    grant(user_subject, "partner_notifications", partner=partners[0])
    members = unzip(user_subject)

    ledger = json.loads(members["consents-and-marketing-preferences.json"])
    rows = [r["fields"] for r in ledger["records"] if r["model"] == "consent.ConsentEvent"]
    assert [(r["purpose"], r["channel"], r["action"]) for r in rows] == [
        ("Newsletter", "Every channel", "granted"),
        ("Newsletter", "Push notification", "withdrawn"),
        ("Notifications from reselling partners", "Every channel", "granted"),
    ]
    assert [r["partner"] for r in rows] == [None, None, "Northwind Resellers"]
    assert {r["policy_version"] for r in rows} == {"Privacy policy 1.0, in force from 2026-01-01"}

    table = members["consents-and-marketing-preferences.csv"].decode()
    cells = list(csv.DictReader(io.StringIO(table)))
    assert [(c["purpose"], c["channel"]) for c in cells] == [
        ("Newsletter", "Every channel"),
        ("Newsletter", "Push notification"),
        ("Notifications from reselling partners", "Every channel"),
    ]
    assert cells[2]["partner"] == "Northwind Resellers"
    assert cells[0]["policy_version"] == "Privacy policy 1.0, in force from 2026-01-01"


def test_policy_notices_and_acknowledgements_name_the_version(user, user_subject):
    from consent.models import PolicyAcknowledgement, PolicyVersion

    PolicyAcknowledgement.objects.create(
        user=user, version=PolicyVersion.objects.get(version="1.0"), method="signup"
    )
    notices = json.loads(unzip(user_subject)["privacy-policy-notices.json"])
    (ack,) = [r["fields"] for r in notices["records"]]
    assert ack["version"] == "Privacy policy 1.0, in force from 2026-01-01"


def test_the_words_follow_the_language_of_the_export(user_subject):
    grant(user_subject, "newsletter", method="signup")
    with translation.override("de"):
        members = unzip(user_subject)
    ledger = json.loads(members["consents-and-marketing-preferences.json"])
    (row,) = [r["fields"] for r in ledger["records"]]
    assert row["channel"] == "Jeder Kanal"
    assert row["policy_version"].startswith("Datenschutzerklärung 1.0")
