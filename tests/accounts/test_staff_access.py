from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import staff_access, workspaces
from accounts.models import StaffAccessWindow
from dsar.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return UserFactory(full_name="Cora Customer")


def test_support_without_a_window_gets_403_and_the_attempt_is_audited(client, support, customer):
    response = client.get(f"/admin/accounts/user/{customer.pk}/change/")
    assert response.status_code == 403
    assert b"Cora Customer" not in response.content
    refused = AuditEvent.objects.get(action="staff_access_refused")
    assert refused.actor == support and refused.subject_ref == f"user:{customer.pk}"
    workspace = workspaces.workspace_create(owner=customer, name="Cora's clients")
    assert client.get(f"/admin/accounts/workspace/{workspace.pk}/change/").status_code == 403
    assert AuditEvent.objects.filter(action="staff_access_refused").count() == 2


def test_inside_a_window_support_sees_the_profile_with_the_reason_audited(
    client, support, customer
):
    response = client.post(
        "/admin/accounts/staffaccesswindow/add/",
        {
            "subject_user": customer.pk,
            "ticket_reference": "SUP-1042",
            "reason": "Customer cannot sign in after changing email",
            "minutes": 30,
        },
    )
    assert response.status_code == 302, response.content
    response = client.get(f"/admin/accounts/user/{customer.pk}/change/")
    assert response.status_code == 200 and b"Cora Customer" in response.content
    viewed = AuditEvent.objects.get(action="staff_viewed_profile")
    assert viewed.reason == "SUP-1042: Customer cannot sign in after changing email"

    workspace = workspaces.workspace_create(owner=customer, name="Cora's clients")
    assert client.get(f"/admin/accounts/workspace/{workspace.pk}/change/").status_code == 200
    assert AuditEvent.objects.filter(action="staff_viewed_service_data").exists()

    # Another customer is still closed.
    other = UserFactory()
    assert client.get(f"/admin/accounts/user/{other.pk}/change/").status_code == 403


def test_an_expired_window_no_longer_opens_anything(client, support, customer):
    window = staff_access.staff_access_open(
        staff=support,
        subject_user=customer,
        ticket_reference="SUP-7",
        reason="Checking an import problem",
        minutes=5,
    )
    StaffAccessWindow.objects.filter(pk=window.pk).update(
        starts_at=timezone.now() - timedelta(hours=2),
        expires_at=timezone.now() - timedelta(hours=1),
    )
    assert client.get(f"/admin/accounts/user/{customer.pk}/change/").status_code == 403


def test_a_window_needs_a_ticket_a_reason_and_a_limited_time(support, customer):
    for ticket, reason, minutes in [
        ("", "Customer cannot sign in at all", 30),
        ("SUP-1", "because", 30),
        ("SUP-1", "Customer cannot sign in at all", 10_000),
    ]:
        with pytest.raises(ValidationError):
            staff_access.staff_access_open(
                staff=support,
                subject_user=customer,
                ticket_reference=ticket,
                reason=reason,
                minutes=minutes,
            )
    assert not StaffAccessWindow.objects.exists()


def test_privacy_officers_do_not_need_a_window_but_are_audited(client, make_staff, customer):
    officer, secret = make_staff("Privacy officer")
    login_with_totp(client, officer, secret)
    assert client.get(f"/admin/accounts/user/{customer.pk}/change/").status_code == 200
    assert AuditEvent.objects.filter(action="staff_viewed_profile", actor=officer).exists()


def test_the_person_sees_who_looked_at_their_data_and_why(client, support, customer):
    staff_access.staff_access_open(
        staff=support,
        subject_user=customer,
        ticket_reference="SUP-1042",
        reason="Customer cannot sign in after changing email",
        minutes=30,
    )
    client.get(f"/admin/accounts/user/{customer.pk}/change/")
    client.force_login(customer)
    page = client.get("/privacy/").content.decode()
    assert "Who looked at my data and why" in page
    assert "Sam Support" in page and "Looked at your profile" in page
    assert "SUP-1042: Customer cannot sign in after changing email" in page
