"""Lists and searches of people in the admin, "Who looked at my data and why", and the officers'
audit log (filters by person and staff member, CSV export), all from outside: HTTP only."""

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts import staff_access
from dsar import services
from dsar.models import AuditEvent, RequestState
from dsar.registry import Subject
from dsar.selectors import SITTING_GAP, staff_looks_on
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp

pytestmark = pytest.mark.django_db

TICKET, WHY = "SUP-1042", "Customer cannot sign in after changing email"


@pytest.fixture
def customer():
    return UserFactory(full_name="Cora Customer", email="cora@example.com", country="DE")


def _open_window(support, customer):
    return staff_access.staff_access_open(
        staff=support, subject_user=customer, ticket_reference=TICKET, reason=WHY, minutes=30
    )


def _dashboard(client, person) -> str:
    client.force_login(person)
    return client.get("/privacy/").content.decode()


def test_support_without_a_window_lists_and_finds_nobody(client, support, customer):
    for url in ("/admin/accounts/user/", "/admin/accounts/user/?q=cora"):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Cora Customer" not in page and "cora@example.com" not in page
    listed = AuditEvent.objects.filter(actor=support, action__in=["staff_listed", "staff_searched"])
    assert listed.count() == 2 and not listed.exclude(subject_ref="").exists()


def test_support_with_a_window_lists_that_person_only_and_the_person_sees_it(
    client, support, customer
):
    UserFactory(full_name="Otto Other")
    _open_window(support, customer)
    page = client.get("/admin/accounts/user/").content.decode()
    assert "Cora Customer" in page and "Otto Other" not in page
    assert "Otto Other" not in client.get("/admin/accounts/user/?q=Otto").content.decode()
    listed = AuditEvent.objects.get(action="staff_listed", actor=support)
    assert listed.subject_ref == f"user:{customer.pk}"
    assert listed.reason == f"{TICKET}: {WHY}"
    # The search words are not kept: they may be the name or address looked for.
    searched = AuditEvent.objects.filter(action="staff_searched", actor=support)
    assert "Otto" not in str([(e.reason, e.detail) for e in searched])

    page = _dashboard(client, customer)
    assert "Saw you in a list of users" in page
    assert f"{TICKET}: {WHY}" in page


def test_who_looked_groups_a_sitting_gives_a_reason_on_every_row_and_no_codes(
    client, support, customer, make_staff
):
    _open_window(support, customer)
    for _ in range(5):
        assert client.get(f"/admin/accounts/user/{customer.pk}/change/").status_code == 200
    officer, secret = make_staff("Privacy officer")
    request, _ = services.dsar_request_file(kind="access", user=customer)
    services.dsar_request_transition(
        request=request, to_state=RequestState.IN_PROGRESS, actor=officer
    )
    # An old look with no reason recorded (before reasons were required).
    old = services.audit_record(
        action="staff_viewed_profile", actor=officer, subject=None, reason=""
    )
    assert old.subject_ref == ""  # (not about the customer: their page must not show it)

    page = _dashboard(client, customer)
    table = page[page.index('id="staff-access"') :]
    table = table[: table.index("</table>")]
    assert table.count("Looked at your profile") == 1
    assert "5 times between" in table
    assert "Moved your privacy request on: In progress" in table
    assert "request in progress" not in table and "request_in_progress" not in table
    assert "—" not in table
    rows = table.split("<tr>")[2:]
    assert rows and all(row.split("<td>")[-1].strip().removesuffix("</td></tr>") for row in rows)


def test_a_later_sitting_is_a_line_of_its_own(client, support, customer):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=an_hour_ago):
        _open_window(support, customer)  # (30 minutes, then a second window now)
        client.get(f"/admin/accounts/user/{customer.pk}/change/")
    _open_window(support, customer)
    client.get(f"/admin/accounts/user/{customer.pk}/change/")
    client.get(f"/admin/accounts/user/{customer.pk}/change/")
    looks = staff_looks_on(subject=Subject(user_id=customer.pk))
    profile = [look for look in looks if look.action == "staff_viewed_profile"]
    assert [look.count for look in profile] == [2, 1]
    assert profile[0].first.at - profile[1].last.at > SITTING_GAP


# --- The officers' audit log ---------------------------------------------------------------------


@pytest.fixture
def officer_client(make_staff):
    from django.test import Client

    officer, secret = make_staff("Privacy officer")
    client = Client()
    login_with_totp(client, officer, secret)
    client.officer = officer
    return client


def test_officers_filter_the_audit_log_by_person_and_by_staff_member(
    officer_client, client, support, customer
):
    other = UserFactory(username="otto", email="otto@example.com")
    _open_window(support, customer)
    client.get(f"/admin/accounts/user/{customer.pk}/change/")
    services.audit_record(action="request_filed", actor=other, subject=_subject(other))

    for person in (customer.username, "cora@example.com", str(customer.pk)):
        response = officer_client.get("/admin/dsar/auditevent/", {"person": person})
        assert response.status_code == 200
        shown = {e.subject_ref for e in response.context["cl"].result_list}
        assert shown == {f"user:{customer.pk}"}, person

    response = officer_client.get("/admin/dsar/auditevent/", {"staff": str(support.pk)})
    actors = {e.actor_id for e in response.context["cl"].result_list}
    assert actors == {support.pk}
    page = response.content.decode()
    assert support.username in page  # offered as a staff member to filter by
    assert 'href="?staff=' in page and f"?staff={other.pk}" not in page  # people are not offered

    for bad in ("²", "9" * 5000, "x" * 300, "%00"):
        assert officer_client.get("/admin/dsar/auditevent/", {"person": bad}).status_code == 200
        assert officer_client.get("/admin/dsar/auditevent/", {"staff": bad}).status_code == 200


def test_the_audit_log_export_is_csv_of_the_filtered_events_and_is_itself_audited(
    officer_client, client, support, customer
):
    _open_window(support, customer)
    client.get(f"/admin/accounts/user/{customer.pk}/change/")
    list_page = officer_client.get("/admin/dsar/auditevent/", {"person": customer.username})
    assert "/admin/dsar/auditevent/export.csv?person=" in list_page.content.decode()

    response = officer_client.get(
        "/admin/dsar/auditevent/export.csv", {"person": customer.username}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["at", "action", "actor"]
    assert body and {row[header.index("subject_ref")] for row in body} == {f"user:{customer.pk}"}
    assert "staff_viewed_profile" in {row[1] for row in body}
    assert f"{TICKET}: {WHY}" in {row[header.index("reason")] for row in body}

    exported = AuditEvent.objects.get(action="audit_log_exported")
    assert exported.actor == officer_client.officer
    assert exported.subject_ref == f"user:{customer.pk}"
    assert exported.detail["rows"] == len(body) and exported.detail["filters"] == ["person"]
    assert customer.username not in str(exported.detail)


def test_support_cannot_read_or_export_the_audit_log(client, support):
    assert client.get("/admin/dsar/auditevent/").status_code == 403
    assert client.get("/admin/dsar/auditevent/export.csv").status_code == 403
    assert not AuditEvent.objects.filter(action="audit_log_exported").exists()


def test_a_window_that_ends_closes_the_list_again(client, support, customer):
    window = _open_window(support, customer)
    assert "Cora Customer" in client.get("/admin/accounts/user/").content.decode()
    type(window).objects.filter(pk=window.pk).update(expires_at=timezone.now())
    assert "Cora Customer" not in client.get("/admin/accounts/user/").content.decode()


def _subject(user):
    return Subject(user_id=user.pk)


def test_a_look_at_a_row_found_by_the_address_alone_is_on_the_persons_page(
    officer_client, client, customer
):
    from consent import services as consent_services

    submission = consent_services.form_submission_create(
        kind="newsletter_signup", email=customer.email, name="Cora"
    )
    url = f"/admin/consent/formsubmission/{submission.pk}/change/"
    assert officer_client.get(url).status_code == 200
    assert "Looked at a form you sent us" in _dashboard(client, customer)
