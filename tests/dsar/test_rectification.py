from datetime import date

import pytest

from dsar import services
from dsar.models import AuditEvent, RectificationProposal, RequestKind

from .test_restriction import PROVIDERS


@pytest.fixture(autouse=True)
def providers(settings):
    settings.DSAR_SERVICE_PROVIDERS = PROVIDERS[:1]


def rectification(user, target="accounts.User.date_of_birth", value="1985-02-03"):
    request, _ = services.dsar_request_file(
        kind=RequestKind.RECTIFICATION,
        user=user,
        rectification_target=target,
        rectification_value=value,
        details="My date of birth is wrong.",
    )
    return services.dsar_request_transition(request=request, to_state="in_progress", actor=None)


@pytest.mark.django_db
def test_an_approved_correction_is_applied_audited_and_passed_on(user):
    request = rectification(user)
    with pytest.raises(services.RequestError, match="Decide every proposed correction"):
        services.dsar_request_transition(request=request, to_state="completed", actor=None)
    proposal = request.rectifications.get()
    services.dsar_rectification_decide(proposal=proposal, approve=True, actor=None)
    user.refresh_from_db()
    assert user.date_of_birth == date(1985, 2, 3)
    assert AuditEvent.objects.filter(action="rectification_applied").exists()
    assert request.recipient_notifications.count() == 1
    with pytest.raises(services.RequestError, match="decided already"):
        services.dsar_rectification_decide(proposal=proposal, approve=True, actor=None)


@pytest.mark.django_db
def test_an_invalid_correction_is_refused_and_changes_nothing(user):
    request = rectification(user, value="not a date")
    proposal = request.rectifications.get()
    with pytest.raises(services.RequestError, match="not valid"):
        services.dsar_rectification_decide(proposal=proposal, approve=True, actor=None)
    user.refresh_from_db()
    assert user.date_of_birth == date(1990, 1, 15)
    proposal.refresh_from_db()
    assert proposal.decision == RectificationProposal.Decision.PENDING


@pytest.mark.django_db
def test_a_rejection_needs_a_reason(user):
    proposal = rectification(user).rectifications.get()
    with pytest.raises(services.RequestError, match="Say why"):
        services.dsar_rectification_decide(proposal=proposal, approve=False, actor=None)
    services.dsar_rectification_decide(
        proposal=proposal, approve=False, actor=None, reason="Our records show otherwise."
    )
    proposal.refresh_from_db()
    assert proposal.decision == "rejected"


@pytest.mark.django_db
def test_only_listed_fields_can_be_proposed(user_client):
    response = user_client.post(
        "/privacy/requests/new/",
        {
            "kind": "rectification",
            "rectification_target": "accounts.User.is_superuser",
            "rectification_value": "True",
        },
    )
    assert "Select a valid choice" in response.content.decode()
    assert not RectificationProposal.objects.exists()
