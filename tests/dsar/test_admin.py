from datetime import timedelta

import pytest
from django.utils import timezone

from dsar import services
from dsar.models import AuditEvent, DataSubjectRequest, RequestState
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp


def file_for(user, kind="access"):
    request, _ = services.dsar_request_file(kind=kind, user=user)
    return request


@pytest.mark.django_db
def test_queue_lists_overdue_first_and_closed_last(officer_client):
    closed = file_for(UserFactory())  # filed first: the earliest due date, but closed
    late = file_for(UserFactory())
    soon = file_for(UserFactory())
    DataSubjectRequest.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=1))
    services.dsar_request_withdraw(request=closed, user=None)
    page = officer_client.get("/admin/dsar/datasubjectrequest/").content.decode()
    positions = [page.index(r.reference) for r in (late, soon, closed)]
    assert positions == sorted(positions)
    assert "overdue" in page
    overdue_only = officer_client.get("/admin/dsar/datasubjectrequest/?due=overdue")
    assert late.reference in overdue_only.content.decode()
    assert soon.reference not in overdue_only.content.decode()


@pytest.mark.django_db
def test_officer_works_a_request_from_its_page(officer_client):
    request = file_for(UserFactory())
    act = f"/admin/dsar/datasubjectrequest/{request.pk}/act/"
    page = officer_client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/")
    assert page.status_code == 200 and "Work on this request" in page.content.decode()
    officer_client.post(act, {"action": "assign_me"})
    officer_client.post(act, {"action": "transition", "to_state": "in_progress"})
    officer_client.post(act, {"action": "note", "text": "Called the customer."})
    officer_client.post(act, {"action": "extend", "amount": "1", "reason": "Many systems."})
    response = officer_client.post(
        act, {"action": "transition", "to_state": "rejected", "confirmed": "yes"}
    )
    assert response.status_code == 400
    assert "Say why the request is rejected" in response.content.decode()
    request.refresh_from_db()
    assert request.assignee == officer_client.officer
    assert request.state == RequestState.IN_PROGRESS and request.extended_at
    assert request.events.filter(kind="note", internal=True).exists()


@pytest.mark.django_db
def test_support_sees_only_assigned_requests_and_cannot_act(client, make_staff):
    from django.contrib.auth.models import Permission

    support, secret = make_staff("Support")
    mine = file_for(UserFactory())
    other = file_for(UserFactory())
    with pytest.raises(services.RequestError, match="may not work on requests"):
        services.dsar_request_assign(request=mine, assignee=support, actor=None)
    login_with_totp(client, support, secret)
    page = client.get("/admin/dsar/datasubjectrequest/").content.decode()
    assert mine.reference not in page and other.reference not in page
    client.post(
        f"/admin/dsar/datasubjectrequest/{mine.pk}/act/",
        {"action": "transition", "to_state": "in_progress"},
    )
    mine.refresh_from_db()
    assert mine.state == RequestState.VERIFIED

    # Given the permission directly, a support colleague can be assigned; on a need-to-know
    # basis they still see only what is assigned to them, and can work it.
    support.user_permissions.add(Permission.objects.get(codename="work_request"))
    support = type(support).objects.get(pk=support.pk)  # permissions are cached per object
    services.dsar_request_assign(request=mine, assignee=support, actor=None)
    page = client.get("/admin/dsar/datasubjectrequest/").content.decode()
    assert mine.reference in page and other.reference not in page
    assert client.get(f"/admin/dsar/datasubjectrequest/{other.pk}/change/").status_code == 302
    client.post(
        f"/admin/dsar/datasubjectrequest/{mine.pk}/act/",
        {"action": "transition", "to_state": "in_progress"},
    )
    mine.refresh_from_db()
    assert mine.state == RequestState.IN_PROGRESS


@pytest.mark.django_db
def test_staff_viewing_a_persons_data_is_audited(officer_client):
    person = UserFactory()
    request = file_for(person)
    officer_client.get(f"/admin/accounts/user/{person.pk}/change/")
    officer_client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/")
    viewed = AuditEvent.objects.filter(
        actor=officer_client.officer, subject_ref=f"user:{person.pk}"
    )
    assert set(viewed.values_list("action", flat=True)) == {
        "staff_viewed_profile",
        "staff_viewed_request",
    }


@pytest.mark.django_db
def test_audit_log_is_read_only_in_admin(officer_client):
    services.audit_record(action="x")
    event = AuditEvent.objects.get()
    assert officer_client.get("/admin/dsar/auditevent/").status_code == 200
    response = officer_client.post(f"/admin/dsar/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_officer_sees_the_recipients_to_tell_on_the_request_page(officer_client):
    from dsar.models import RecipientNotification

    request = file_for(UserFactory(), kind="erasure")
    RecipientNotification.objects.create(
        request=request,
        recipient_key="by-hand:crm",
        recipient_name="Acme CRM Ltd",
        recipient_contact="privacy@acme.example",
        adapter="",
        subject_email="someone@example.org",
    )
    page = officer_client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/")
    body = page.content.decode()
    assert "Recipients to tell (GDPR Art. 19)" in body and "Acme CRM Ltd" in body
