"""Recording consent, reading and changing preferences, unsubscribing: through the consent
services, so the ledger, the gate and the preference centre see the same thing."""

import pytest

from api.models import Scope
from consent import selectors
from consent.models import ConsentEvent
from dsar.models import AuditEvent
from dsar.registry import Subject
from dsar.services import processing_block_add
from tests.consent.conftest import grant

from .conftest import problem

pytestmark = pytest.mark.django_db


def record(call, token, subject, **fields):
    body = {
        "subject": subject,
        "purpose": "newsletter",
        "action": "granted",
        "source": "settings screen of the mobile app",
        **fields,
    }
    return call(token, "post", "/consents", json=body)


def test_a_grant_goes_into_the_ledger_with_its_source(call, make_client, user):
    client, token = make_client(Scope.CONSENT_WRITE, name="Mobile app")
    response = record(call, token, {"user_id": user.pk})
    assert response.status_code == 201, response.content
    event = ConsentEvent.objects.get(pk=response.json()["id"])
    assert (event.user_id, event.purpose.code, event.action, event.method) == (
        user.pk,
        "newsletter",
        "granted",
        "api",
    )
    assert event.reason == "Mobile app (API): settings screen of the mobile app"
    assert selectors.can_contact(Subject(user_id=user.pk), "newsletter")
    audited = AuditEvent.objects.get(action="api_consent_recorded")
    assert audited.subject_ref == f"user:{user.pk}"
    assert audited.detail["client"] == client.client_id
    assert audited.detail["scope"] == "consent:write"


def test_a_withdrawal_stops_the_purpose_at_once(call, writer, user):
    grant(Subject(user_id=user.pk), "newsletter")
    response = record(call, writer, {"user_id": user.pk}, action="withdrawn")
    assert response.status_code == 201
    assert not selectors.can_contact(Subject(user_id=user.pk), "newsletter")


def test_a_channel_and_an_email_only_subject(call, writer):
    subject = {"email": "Fan@Example.org"}
    assert record(call, writer, subject, purpose="product_updates").status_code == 201
    response = record(call, writer, subject, purpose="product_updates", channel="push")
    assert response.json()["channel"] == "push"
    person = Subject(email="fan@example.org")
    assert selectors.can_contact(person, "product_updates", channel="push")
    assert ConsentEvent.objects.filter(email="fan@example.org", user__isnull=True).count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"purpose": "account_security"},  # essential: cannot be switched
        {"purpose": "nosuchpurpose"},
        {"action": "maybe"},
        {"source": ""},
        {"source": "   "},
        {"source": "a\x00b"},
        {"source": "x" * 201},
        {"channel": "fax"},
        {"purpose": "newsletter", "partner": "northwind"},
    ],
)
def test_bad_consent_is_a_400_and_writes_nothing(call, writer, user, fields):
    problem(record(call, writer, {"user_id": user.pk}, **fields), 400)
    assert not ConsentEvent.objects.exists()
    # Refused by the schema (before the operation) or by the service (audited, no person).
    assert not AuditEvent.objects.exclude(action__in=["api_client_created", "api_call_refused"])


def test_an_unknown_account_is_a_404(call, writer):
    problem(record(call, writer, {"user_id": 10**12}), 404)
    assert not ConsentEvent.objects.exists()
    refused = AuditEvent.objects.get(action="api_call_refused")
    assert refused.detail["operation"] == "consent_recorded" and refused.detail["status"] == 404


def test_writing_needs_consent_write(call, reader, user):
    problem(record(call, reader, {"user_id": user.pk}), 403)
    assert not ConsentEvent.objects.exists()


# --- Preferences -------------------------------------------------------------------------------


def test_preferences_are_what_the_preference_centre_shows(call, reader, user):
    subject = Subject(user_id=user.pk)
    grant(subject, "newsletter")
    grant(subject, "events")
    processing_block_add(subject=subject, kind="objection", purpose="events")
    body = call(reader, "get", "/preferences", user_id=user.pk).json()
    by_code = {p["code"]: p for p in body["purposes"]}
    assert by_code["newsletter"]["granted"] is True
    assert by_code["newsletter"]["channels"] == {"email": True, "push": False}
    assert by_code["events"]["paused"] is True
    assert by_code["marketing"]["granted"] is False
    assert by_code["account_security"] == {
        **by_code["account_security"],
        "essential": True,
        "granted": True,
    }
    assert all(p["code"] != "essential_cookies" for p in body["purposes"])
    assert (
        AuditEvent.objects.filter(
            action="api_preferences_read", subject_ref=f"user:{user.pk}"
        ).count()
        == 1
    )


def test_changing_preferences_writes_only_what_differs(call, writer, user, partners):
    subject = Subject(user_id=user.pk)
    grant(subject, "newsletter")
    response = call(
        writer,
        "put",
        "/preferences",
        json={
            "subject": {"user_id": user.pk},
            "source": "account settings in the web app",
            "purposes": {"newsletter": True, "marketing": False},
            "channels": {"product_updates": {"email": True, "push": True}},
            "partners": {"northwind": True},
        },
    )
    assert response.status_code == 200, response.content
    rows = ConsentEvent.objects.filter(user=user, method="api")
    # product_updates granted, its push switched on, northwind granted: nothing for the
    # newsletter (already on) or marketing (already off).
    assert sorted((r.purpose.code, r.channel, r.partner_id is not None) for r in rows) == [
        ("partner_notifications", "", True),
        ("product_updates", "", False),
        ("product_updates", "push", False),
    ]
    assert all(r.reason.endswith("account settings in the web app") for r in rows)
    body = response.json()
    by_code = {p["code"]: p for p in body["purposes"]}
    assert by_code["product_updates"]["channels"] == {"email": True, "push": True}
    assert {p["code"]: p["granted"] for p in body["partners"]}["northwind"] is True
    assert selectors.can_contact(subject, "product_updates", channel="push")


@pytest.mark.parametrize(
    "change",
    [
        {"purposes": {"nosuchpurpose": True}},
        {"partners": {"nobody": True}},
        {"purposes": {"newsletter": "perhaps"}},
        {"channels": {"newsletter": {"fax": True}}},
        {"source": ""},
    ],
)
def test_bad_preferences_are_a_400_and_change_nothing(call, writer, user, change):
    body = {"subject": {"user_id": user.pk}, "source": "app", **change}
    problem(call(writer, "put", "/preferences", json=body), 400)
    assert not ConsentEvent.objects.exists()


def test_preferences_need_their_scopes_and_a_known_account(call, make_client, reader, user):
    _c, nothing = make_client(Scope.REQUESTS_READ)
    problem(call(nothing, "get", "/preferences", user_id=user.pk), 403)
    problem(
        call(
            reader, "put", "/preferences", json={"subject": {"user_id": user.pk}, "source": "app"}
        ),
        403,
    )
    problem(call(reader, "get", "/preferences", user_id=10**12), 404)
    problem(call(reader, "get", "/preferences"), 400)


# --- Unsubscribe -------------------------------------------------------------------------------


def test_unsubscribe_is_the_one_click_service(call, writer, user):
    subject = Subject(user_id=user.pk)
    grant(subject, "newsletter")
    grant(subject, "events")
    body = {"subject": {"user_id": user.pk}, "purpose": "newsletter"}
    assert call(writer, "post", "/unsubscribe", json=body).json() == {"withdrawn": ["newsletter"]}
    assert call(writer, "post", "/unsubscribe", json=body).json() == {"withdrawn": []}
    assert not selectors.can_contact(subject, "newsletter")
    assert selectors.can_contact(subject, "events")
    everything = call(writer, "post", "/unsubscribe", json={**body, "everything": True})
    assert everything.json() == {"withdrawn": ["events"]}
    assert selectors.can_contact(subject, "account_security")  # essential mail still goes
    assert AuditEvent.objects.filter(action="api_unsubscribed").count() == 3


def test_unsubscribe_refuses_bad_input(call, writer, reader, user):
    problem(call(writer, "post", "/unsubscribe", json={"subject": {"user_id": user.pk}}), 400)
    problem(
        call(
            writer,
            "post",
            "/unsubscribe",
            json={"subject": {"user_id": user.pk}, "purpose": "nosuchpurpose"},
        ),
        400,
    )
    problem(
        call(
            writer,
            "post",
            "/unsubscribe",
            json={"subject": {"user_id": 10**12}, "purpose": "newsletter"},
        ),
        404,
    )
    problem(
        call(
            reader,
            "post",
            "/unsubscribe",
            json={"subject": {"user_id": user.pk}, "purpose": "newsletter"},
        ),
        403,
    )
