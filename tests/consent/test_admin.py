import csv
import io

import pytest
from django.contrib.auth.models import Group

from consent import services
from consent.models import ConsentEvent, Purpose
from dsar.models import AuditEvent
from dsar.registry import Subject
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp

from .conftest import grant, withdraw

pytestmark = pytest.mark.django_db
LEDGER = "/admin/consent/consentevent/"


@pytest.fixture
def ledger(user, partners):
    other = UserFactory(username="zed")
    grant(Subject(user_id=user.pk), "newsletter", method="signup")
    withdraw(Subject(user_id=user.pk), "newsletter", method="unsubscribe_link")
    grant(Subject(user_id=other.pk), "partner_notifications", partner=partners[0])
    grant(Subject(email="reader@example.org"), "events", method="form_submission")
    return user, other


def test_roles_have_their_consent_permissions():
    officer = set(
        Group.objects.get(name="Privacy officer").permissions.values_list("codename", flat=True)
    )
    assert {
        "view_consentevent",
        "view_purpose",
        "add_purpose",
        "change_purpose",
        "view_partner",
        "add_partner",
        "change_partner",
        "record_on_request",
    } <= officer
    assert not {"change_consentevent", "delete_consentevent", "add_consentevent"} & officer


def test_ledger_is_read_only_with_filters(officer_client, ledger):
    user, other = ledger
    page = officer_client.get(LEDGER)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Record a change on a written request" in html
    assert "Add consent ledger entry" not in html
    for query, expected in [
        ("purpose__id__exact=" + str(Purpose.objects.get(code="newsletter").pk), 2),
        (
            "partner__id__exact="
            + str(ConsentEvent.objects.exclude(partner=None).get().partner_id),
            1,
        ),
        ("subject=" + user.username, 2),
        ("subject=READER@example.org", 1),
        ("subject_kind=email", 1),
        ("method__exact=unsubscribe_link", 1),
    ]:
        response = officer_client.get(f"{LEDGER}?{query}")
        assert response.status_code == 200, query
        assert response.context["cl"].result_count == expected, query
    event = ConsentEvent.objects.first()
    detail = officer_client.get(f"{LEDGER}{event.pk}/change/")
    assert detail.status_code == 200
    assert (
        officer_client.post(f"{LEDGER}{event.pk}/change/", {"action": "granted"}).status_code == 403
    )
    assert officer_client.post(f"{LEDGER}{event.pk}/delete/").status_code == 403
    assert AuditEvent.objects.filter(action="consent_event_viewed").count() == 1


def test_ledger_date_filter(officer_client, ledger):
    from django.utils import timezone

    today = timezone.now().date()
    response = officer_client.get(f"{LEDGER}?at__year={today.year}&at__month={today.month}")
    assert response.context["cl"].result_count == 4


def test_csv_export_is_audited_without_personal_data(officer_client, ledger):
    ids = list(ConsentEvent.objects.values_list("pk", flat=True))
    response = officer_client.post(LEDGER, {"action": "export_csv", "_selected_action": ids})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("id,time,user_id,email,purpose,partner,action,method")
    assert len(lines) == 5 and "reader@example.org" in body
    audit = AuditEvent.objects.get(action="consent_ledger_exported")
    assert audit.detail == {"rows": 4, "format": "csv"} and audit.actor == officer_client.officer


def test_officer_records_a_change_on_written_request(officer_client, user):
    url = f"{LEDGER}record/"
    assert officer_client.get(url).status_code == 200
    newsletter = Purpose.objects.get(code="newsletter")
    missing_reason = officer_client.post(
        url, {"subject": user.username, "purpose": newsletter.pk, "action": "granted", "reason": ""}
    )
    assert missing_reason.status_code == 200 and not ConsentEvent.objects.exists()
    unknown = officer_client.post(
        url,
        {"subject": "nobody-at-all", "purpose": newsletter.pk, "action": "granted", "reason": "x"},
    )
    assert "No account has this username" in unknown.content.decode()
    response = officer_client.post(
        url,
        {
            "subject": user.email.upper(),
            "purpose": newsletter.pk,
            "action": "withdrawn",
            "reason": "Email of 2 November 2026 asking to stop the newsletter",
        },
    )
    assert response.status_code == 302
    event = ConsentEvent.objects.get()
    assert (event.user, event.method, event.action) == (user, "admin_request", "withdrawn")
    assert event.recorded_by == officer_client.officer and "2 November" in event.reason
    assert AuditEvent.objects.filter(action="consent_recorded_on_request").exists()


def test_officer_edits_purposes_but_not_their_codes_and_cannot_delete(officer_client):
    purpose = Purpose.objects.get(code="events")
    url = f"/admin/consent/purpose/{purpose.pk}/change/"
    data = {
        "code": "renamed",
        "name_en": "Events, webinars and seminars",
        "name_de": "Veranstaltungen, Webinare und Seminare",
        "description_en": "Invitations to our events.",
        "description_de": "Einladungen zu unseren Veranstaltungen.",
        "legal_basis": "consent",
        "channel": "email",
        "is_direct_marketing": "on",
        "is_active": "on",
        "position": 70,
    }
    assert officer_client.post(url, data).status_code == 302
    purpose.refresh_from_db()
    assert purpose.name == "Events, webinars and seminars" and purpose.code == "events"
    assert officer_client.post(f"/admin/consent/purpose/{purpose.pk}/delete/").status_code == 403


def test_an_essential_purpose_cannot_be_made_optional_marketing(officer_client):
    purpose = Purpose.objects.get(code="payment")
    response = officer_client.post(
        f"/admin/consent/purpose/{purpose.pk}/change/",
        {
            "name_en": "Payment",
            "name_de": "Zahlung",
            "description_en": "x",
            "description_de": "x",
            "legal_basis": "contract",
            "channel": "email",
            "is_essential": "on",
            "is_direct_marketing": "on",
            "is_active": "on",
            "position": 20,
        },
    )
    assert response.status_code == 200  # the form shows the constraint's error
    purpose.refresh_from_db()
    assert not purpose.is_direct_marketing


def test_support_sees_purposes_but_not_the_ledger(client, make_staff, ledger):
    staff, secret = make_staff("Support")
    login_with_totp(client, staff, secret)
    assert client.get("/admin/consent/purpose/").status_code == 200
    assert client.get(LEDGER).status_code == 403
    assert client.get(f"{LEDGER}record/").status_code == 403


def test_csv_export_never_hands_a_spreadsheet_a_formula(officer_client, user):
    event = services.consent_record(
        subject=Subject(user_id=user.pk),
        purpose="newsletter",
        action="granted",
        method="admin_request",
        reason='=HYPERLINK("https://evil.example","Click")',
        recorded_by=officer_client.officer,
    )
    response = officer_client.post(LEDGER, {"action": "export_csv", "_selected_action": [event.pk]})
    header, row = csv.reader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert row[header.index("reason")] == '\'=HYPERLINK("https://evil.example","Click")'
    assert row[0] == str(event.pk)
