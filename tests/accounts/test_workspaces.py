import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import workspaces
from accounts.models import User, Workspace, WorkspaceMember, WorkspaceRecord
from dsar import services
from dsar.models import ErasureSchedule, RequestKind
from tests.factories import UserFactory

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
    assert WorkspaceMember.objects.filter(workspace=workspace, user=colleague).exists()

    client.force_login(colleague)
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
    workspaces.workspace_member_add(workspace=workspace, actor=owner, username=colleague.username)
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
