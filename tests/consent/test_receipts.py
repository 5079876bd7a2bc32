"""Consent receipts from outside: downloaded over HTTP, checked against the published Kantara
v1.1 JSON schema, and verified with an independent JOSE library (PyJWT; the portal signs with
joserfc) using the keys fetched from /.well-known/jwks.json."""

import json
from pathlib import Path

import jsonschema
import jwt
import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from consent.models import ConsentEvent

from .conftest import grant, withdraw

SCHEMA_PATH = Path(__file__).parent / "standards" / "kantara-consent-receipt-v1_1-schema.json"


def kantara_schema() -> dict:
    lines = SCHEMA_PATH.read_text(encoding="utf-8").splitlines()
    return json.loads("\n".join(line for line in lines if not line.strip().startswith("//")))


def download(client) -> dict:
    response = client.get("/preferences/receipt.json")
    assert response.status_code == 200
    return json.loads(response.content)


def verified_payload(receipt: dict) -> dict:
    """What the receipt's JWS says, checked with the public key fetched from the JWKS URL."""
    jwks = Client().get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    assert all("d" not in key for key in jwks.json()["keys"])  # public keys only
    key_set = jwt.PyJWKSet.from_dict(jwks.json())
    kid = jwt.get_unverified_header(receipt["jws"])["kid"]
    key = next(k for k in key_set.keys if k.key_id == kid)
    return jwt.decode(receipt["jws"], key=key, algorithms=["ES256"])


def test_a_downloaded_receipt_passes_the_kantara_schema(user_client, user_subject, partners):
    grant(user_subject, "newsletter", method="signup")
    grant(user_subject, "partner_notifications", partner=partners[0])
    grant(user_subject, "stored_payment_method")
    receipt = download(user_client)
    jsonschema.Draft4Validator(kantara_schema()).validate(receipt)
    controller = receipt["piiControllers"][0]
    assert controller["address"]["addressCountry"] and controller["phone"]


def test_a_receipt_with_no_consent_in_force_still_passes(user_client):
    receipt = download(user_client)
    jsonschema.Draft4Validator(kantara_schema()).validate(receipt)
    assert isinstance(receipt["consentTimestamp"], int)
    assert receipt["services"][0]["purposes"] == []


def test_the_policy_url_is_the_version_in_force_on_this_portal(user_client, settings):
    receipt = download(user_client)
    version = receipt["policyVersion"]
    assert version
    path = f"/policy/{version}/"
    assert receipt["policyUrl"] == settings.SITE_URL.rstrip("/") + path
    page = Client().get(path)
    assert page.status_code == 200
    assert version in page.content.decode()


def test_the_jws_verifies_with_the_published_key_and_says_what_the_file_says(
    user_client, user_subject
):
    grant(user_subject, "newsletter", method="signup")
    receipt = download(user_client)
    payload = verified_payload(receipt)
    assert payload == {k: v for k, v in receipt.items() if k != "jws"}
    jsonschema.Draft4Validator(kantara_schema()).validate(payload)


def test_a_tampered_receipt_fails_verification(user_client, user_subject):
    grant(user_subject, "newsletter", method="signup")
    receipt = download(user_client)
    header, payload, signature = receipt["jws"].split(".")
    other = json.loads(jwt.utils.base64url_decode(payload))
    other["services"] = []
    forged = ".".join(
        [header, jwt.utils.base64url_encode(json.dumps(other).encode()).decode(), signature]
    )
    with pytest.raises(jwt.InvalidSignatureError):
        verified_payload({**receipt, "jws": forged})


@override_settings(CONSENT_RECEIPT_SIGNING_KEY="")
def test_the_embedded_key_is_the_same_in_every_process():
    from consent.receipt_signing import _derived_pem

    assert _derived_pem() == _derived_pem()


def test_each_purpose_has_its_own_categories(user_client, user_subject):
    grant(user_subject, "newsletter", method="signup")
    grant(user_subject, "stored_payment_method")
    grant(user_subject, "testimonial")
    receipt = download(user_client)
    categories = {
        p["purposeCategory"][0]: p["piiCategory"] for p in receipt["services"][0]["purposes"]
    }
    assert "Email address" in categories["newsletter"]
    assert "Cardholder name" in categories["stored_payment_method"]
    assert not any("Email" in c for c in categories["stored_payment_method"])
    assert any("testimonial" in c for c in categories["testimonial"])
    assert len({tuple(c) for c in categories.values()}) == 3


def test_time_and_method_are_those_of_the_grant_in_force(user_client, user_subject):
    signed_up = grant(user_subject, "newsletter", method="signup")
    grant(user_subject, "marketing", method="preference_centre")
    withdraw(user_subject, "marketing", method="unsubscribe_link")  # the latest row of all
    receipt = download(user_client)
    (newsletter,) = receipt["services"][0]["purposes"]
    in_force = ConsentEvent.objects.get(pk=signed_up.pk)
    latest = ConsentEvent.objects.latest("at", "id")
    assert latest.action == "withdrawn" and latest.pk != in_force.pk
    assert newsletter["consentTimestamp"] == int(in_force.at.timestamp())
    assert newsletter["collectionMethod"] == "Sign-up form"
    assert receipt["consentTimestamp"] == int(in_force.at.timestamp())
    assert receipt["collectionMethod"] == "Sign-up form"
    records = {r["dpv:hasPurpose"]: r for r in receipt["iso27560"]["records"]}
    assert records["marketing"]["dpv:hasConsentStatus"] == "dpv:ConsentWithdrawn"
    assert records["newsletter"]["dpv:hasConsentStatus"] == "dpv:ConsentGiven"


def test_the_receipt_carries_the_iso_27560_fields(user_client, user, user_subject):
    grant(user_subject, "newsletter", method="signup")
    iso = download(user_client)["iso27560"]
    assert iso["dct:identifier"]
    assert iso["dpv:hasDataSubject"] == {"@id": user.email, "@type": "dpv:User"}
    controller = iso["dpv:hasDataController"]
    assert controller["@id"] and controller["phone"] and controller["address"]
    assert iso["dpv:hasStorageCondition"][0]["dpv:hasLocation"]
    record = next(r for r in iso["records"] if r["dpv:hasPurpose"] == "newsletter")
    for field in (
        "dct:identifier",
        "dpv:hasPersonalData",
        "dpv:hasLegalBasis",
        "withdrawalMethod",
        "dpv:hasDuration",
        "dpv:hasStorageCondition",
        "dct:date",
        "dpv:hasMethod",
    ):
        assert record[field], field
    # The record id is stable: the same consent record in the next receipt.
    again = next(
        r
        for r in download(user_client)["iso27560"]["records"]
        if r["dpv:hasPurpose"] == "newsletter"
    )
    assert again["dct:identifier"] == record["dct:identifier"]


def test_production_refuses_to_start_without_a_signing_key(capsys):
    from django.core.management.base import SystemCheckError

    with (
        override_settings(DEBUG=False, CONSENT_RECEIPT_SIGNING_KEY=""),
        pytest.raises(SystemCheckError, match="consent.E005"),
    ):
        call_command("check", "--deploy", "--tag", "security")


def test_the_preference_centre_says_where_the_key_is(user_client):
    page = user_client.get("/preferences/").content.decode()
    assert 'href="/.well-known/jwks.json"' in page
