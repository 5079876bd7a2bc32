import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts import workspaces
from accounts.models import User, Workspace, WorkspaceMember, WorkspaceRecord
from dsar import services
from dsar.models import AuditEvent, ErasureSchedule, RequestKind
from tests.accounts.factories import UserFactory
from tests.accounts.workspace_helpers import workspace_join

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory(full_name="Olivia Owner", email="olivia@example.com")


@pytest.fixture
def workspace(owner):
    workspace = workspaces.workspace_create(owner=owner, name="Acme HR")
    workspaces.workspace_record_create(
        workspace=workspace,
        actor=owner,
        data={"kind": "employee", "name": "Eve Employee", "email": "eve@acme.example"},
    )
    return workspace


def in_progress(user, kind):
    request, _ = services.dsar_request_file(kind=kind, user=user)
    return services.dsar_request_transition(request=request, to_state="in_progress", actor=None)


def test_the_owner_keeps_records_and_collaborators_see_only_name_and_photo(
    client, owner, workspace
):
    colleague = UserFactory(full_name="Carl Colleague", email="carl@example.com")
    client.force_login(owner)
    response = client.post(
        f"/accounts/workspaces/{workspace.pk}/",
        {"action": "member", "member-username": colleague.username},
    )
    assert response.status_code == 302
    # Invited, not added: the workspace is not theirs to open until they accept.
    client.force_login(colleague)
    assert client.get(f"/accounts/workspaces/{workspace.pk}/").status_code == 403
    invitation = WorkspaceMember.objects.get(workspace=workspace, user=colleague)
    client.post(f"/accounts/workspaces/invitations/{invitation.pk}/accept/")
    page = client.get(f"/accounts/workspaces/{workspace.pk}/").content.decode()
    assert "Olivia Owner" in page and "Eve Employee" in page
    assert owner.email not in page and owner.username not in page
    # Only the owner adds collaborators.
    response = client.post(
        f"/accounts/workspaces/{workspace.pk}/",
        {"action": "member", "member-username": owner.username},
    )
    assert response.status_code == 403


def test_people_outside_the_workspace_see_nothing(client, owner, workspace):
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.get(f"/accounts/workspaces/{workspace.pk}/").status_code == 403
    assert client.get(f"/accounts/people/{owner.pk}/photo/").status_code == 403
    assert workspace.name not in client.get("/accounts/workspaces/").content.decode()


def test_a_bad_record_changes_nothing(client, owner, workspace):
    client.force_login(owner)
    response = client.post(
        f"/accounts/workspaces/{workspace.pk}/",
        {"action": "record", "record-kind": "employee", "record-name": "", "record-email": "x"},
    )
    assert response.status_code == 400
    assert WorkspaceRecord.objects.count() == 1


def test_a_service_data_export_holds_the_owners_workspaces_and_nothing_else(owner, workspace):
    request = in_progress(owner, RequestKind.SERVICE_DATA_EXPORT)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    export.refresh_from_db()
    with zipfile.ZipFile(export.file.path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = {f["name"] for f in manifest["files"]}
        assert names == {"service-data.json", "service-data.csv"}
        document = archive.read("service-data.json").decode()
    assert "Eve Employee" in document and "Acme HR" in document
    assert "olivia@example.com" not in document  # the account is not service data


def test_a_service_data_deletion_deletes_the_workspaces_and_keeps_the_account(owner, workspace):
    colleague = UserFactory()
    workspace_join(workspace, owner, colleague)
    other = workspaces.workspace_create(owner=colleague, name="Colleague's own")
    request = in_progress(owner, RequestKind.SERVICE_DATA_DELETION)
    services.dsar_request_apply(request=request, actor=None)
    schedule = request.erasure
    ErasureSchedule.objects.filter(pk=schedule.pk).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    assert services.erasure_run(schedule_id=schedule.pk)
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
    assert not WorkspaceRecord.objects.exists()
    assert User.objects.filter(pk=owner.pk).exists()  # the account stays
    assert Workspace.objects.filter(pk=other.pk).exists()  # other owners' data stays


def invite(client, owner, workspace, username):
    client.force_login(owner)
    return client.post(
        f"/accounts/workspaces/{workspace.pk}/",
        {"action": "member", "member-username": username},
        follow=True,
    )


def test_an_invitation_shows_nobody_the_invitee_until_they_accept(
    client, owner, workspace, django_capture_on_commit_callbacks
):
    colleague = UserFactory(full_name="Carl Colleague", photo="photos/carl.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, owner, workspace, colleague.username)
    # The invitee is mailed and sees the invitation in the portal.
    assert [m.to for m in mail.outbox] == [[colleague.email]]
    assert "Olivia Owner" in mail.outbox[0].body and "/accounts/workspaces/" in mail.outbox[0].body
    # The owner sees nothing of them yet: not the name, not the photo.
    page = client.get(f"/accounts/workspaces/{workspace.pk}/").content.decode()
    assert "Carl Colleague" not in page
    assert client.get(f"/accounts/people/{colleague.pk}/photo/").status_code == 403
    client.force_login(colleague)
    listing = client.get("/accounts/workspaces/").content.decode()
    assert "invites you to the workspace" in listing
    invitation = WorkspaceMember.objects.get(workspace=workspace, user=colleague)
    client.post(f"/accounts/workspaces/invitations/{invitation.pk}/accept/")
    client.force_login(owner)
    assert "Carl Colleague" in client.get(f"/accounts/workspaces/{workspace.pk}/").content.decode()
    actions = list(
        AuditEvent.objects.filter(subject_ref=f"user:{colleague.pk}")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["workspace_invited", "workspace_invitation_accepted"]


def test_declining_or_leaving_ends_it_and_is_audited(client, owner, workspace):
    colleague = UserFactory()
    invite(client, owner, workspace, colleague.username)
    invitation = WorkspaceMember.objects.get(workspace=workspace, user=colleague)
    client.force_login(colleague)
    response = client.post(f"/accounts/workspaces/invitations/{invitation.pk}/decline/")
    assert response.status_code == 302
    assert not WorkspaceMember.objects.filter(user=colleague).exists()
    # Answering again, or someone else's invitation, changes nothing.
    again = client.post(f"/accounts/workspaces/invitations/{invitation.pk}/accept/", follow=True)
    assert "already answered" in again.content.decode()
    assert not WorkspaceMember.objects.filter(user=colleague).exists()
    workspace_join(workspace, owner, colleague)
    client.post(f"/accounts/workspaces/{workspace.pk}/members/{colleague.pk}/remove/")
    assert not WorkspaceMember.objects.filter(user=colleague).exists()
    actions = set(
        AuditEvent.objects.filter(subject_ref=f"user:{colleague.pk}").values_list(
            "action", flat=True
        )
    )
    assert {"workspace_invitation_declined", "workspace_left"} <= actions


def test_the_answer_to_an_invitation_is_the_same_whether_the_username_exists(
    client, owner, workspace
):
    colleague = UserFactory()
    known = invite(client, owner, workspace, colleague.username)
    unknown = invite(client, owner, workspace, "nobody-by-this-name")
    again = invite(client, owner, workspace, colleague.username)

    def text(response):
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return page.replace(colleague.username, "").replace("nobody-by-this-name", "")

    assert known.status_code == unknown.status_code == again.status_code == 200
    assert text(known) == text(unknown) == text(again)
    assert "If an account with this username exists" in text(known)
