import pytest
from django.core.exceptions import ValidationError

from accounts import integrations, workspaces
from accounts.models import IntegrationGrant
from dsar.models import AuditEvent
from dsar.recipients import recipients_for
from dsar.registry import Subject

pytestmark = pytest.mark.django_db


def test_enable_with_an_explicit_grant_list_it_and_revoke_it_at_once(user_client, user):
    workspace = workspaces.workspace_create(owner=user, name="Payroll")
    response = user_client.post(
        "/accounts/integrations/",
        {
            "integration": "accounting",
            "scopes": ["profile", "workspace_records"],
            "workspace": workspace.pk,
        },
    )
    assert response.status_code == 302
    grant = IntegrationGrant.objects.get(user=user)
    assert grant.scopes == ["profile", "workspace_records"] and grant.workspace == workspace
    assert integrations.integration_can_read(grant_id=grant.pk, scope="workspace_records")
    assert not integrations.integration_can_read(grant_id=grant.pk, scope="workspace_collaborators")

    page = user_client.get("/privacy/").content.decode()
    assert "Accounting export" in page and "The records in one workspace you choose" in page
    assert "integration:accounting" in [r.key for r in recipients_for(Subject(user_id=user.pk))]

    user_client.post(f"/accounts/integrations/{grant.pk}/revoke/")
    assert not integrations.integration_can_read(grant_id=grant.pk, scope="profile")
    assert "Accounting export" not in user_client.get("/privacy/").content.decode()
    assert "integration:accounting" not in [r.key for r in recipients_for(Subject(user_id=user.pk))]
    actions = set(
        AuditEvent.objects.filter(subject_ref=f"user:{user.pk}").values_list("action", flat=True)
    )
    assert {"integration_granted", "integration_revoked"} <= actions


def test_a_grant_needs_explicit_scopes_and_the_persons_own_workspace(user_client, user):
    response = user_client.post("/accounts/integrations/", {"integration": "calendar"})
    assert response.status_code == 400
    other_workspace = workspaces.workspace_create(
        owner=type(user).objects.create(username="x", email="x@example.com"), name="Not yours"
    )
    with pytest.raises(ValidationError):
        integrations.integration_grant_create(
            user=user,
            integration="accounting",
            scopes=["workspace_records"],
            workspace=other_workspace,
        )
    with pytest.raises(ValidationError):  # the calendar cannot read records
        integrations.integration_grant_create(
            user=user, integration="calendar", scopes=["workspace_records"]
        )
    assert not IntegrationGrant.objects.exists()


def test_someone_elses_grant_cannot_be_revoked(client, user):
    grant = integrations.integration_grant_create(
        user=user, integration="calendar", scopes=["profile"]
    )
    other = type(user).objects.create(username="y", email="y@example.com")
    client.force_login(other)
    client.post(f"/accounts/integrations/{grant.pk}/revoke/")
    assert integrations.integration_can_read(grant_id=grant.pk, scope="profile")


def test_an_integration_holds_what_its_grant_lets_it_read_and_hears_only_of_that(user):
    """Art. 19 for corrections: an integration granted the profile scope (name and email) holds
    neither the date of birth nor the username, so a correction of those is not passed on."""
    from dsar import services
    from dsar.models import RequestKind

    integrations.integration_grant_create(user=user, integration="calendar", scopes=["profile"])
    (recipient,) = [
        r for r in recipients_for(Subject(user_id=user.pk)) if r.key == "integration:calendar"
    ]
    assert recipient.holds == ("accounts.User.full_name", "accounts.User.email")
    request, _ = services.dsar_request_file(
        kind=RequestKind.RECTIFICATION,
        user=user,
        rectification_target="accounts.User.date_of_birth",
        rectification_value="1985-02-03",
    )
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_rectification_decide(
        proposal=request.rectifications.get(), approve=True, actor=None
    )
    assert not request.recipient_notifications.filter(recipient_key="integration:calendar")
