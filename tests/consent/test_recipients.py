import pytest

from consent.services import consent_grant
from dsar import services
from dsar.models import RequestKind
from dsar.recipients import recipients_for
from dsar.registry import Subject


@pytest.mark.django_db
def test_partners_a_person_allowed_are_recipients_told_about_a_restriction(user, partners):
    northwind, contoso = partners[:2]
    subject = Subject(user_id=user.pk)
    consent_grant(
        subject=subject,
        purpose="partner_notifications",
        method="preference_centre",
        partner=northwind,
    )
    keys = {r.key for r in recipients_for(subject)}
    assert "partner:northwind" in keys and "partner:contoso" not in keys

    request, _ = services.dsar_request_file(kind=RequestKind.RESTRICTION, user=user)
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    by_hand = request.recipient_notifications.get(recipient_key="partner:northwind")
    assert by_hand.adapter == "" and by_hand.recipient_name == "Northwind Resellers"


@pytest.mark.django_db
def test_a_partner_holds_contact_details_only(user, partners):
    subject = Subject(user_id=user.pk)
    consent_grant(
        subject=subject,
        purpose="partner_notifications",
        method="preference_centre",
        partner=partners[0],
    )
    (partner,) = [r for r in recipients_for(subject) if r.key.startswith("partner:")]
    assert partner.holds_field("accounts.User.email")
    assert not partner.holds_field("accounts.User.date_of_birth")
    assert not partner.holds_field("accounts.User.username")
