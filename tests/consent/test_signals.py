import pytest

from consent import services
from consent.signals import consent_withdrawn
from dsar.registry import Subject

pytestmark = pytest.mark.django_db


def test_a_withdrawal_is_announced_with_its_purpose_and_a_grant_is_not(user):
    heard = []

    def receiver(sender, *, subject, purpose, event, **kwargs):
        heard.append((subject, purpose, event.action))

    consent_withdrawn.connect(receiver)
    try:
        subject = Subject(user_id=user.pk)
        services.consent_grant(subject=subject, purpose="newsletter", method="preference_centre")
        assert heard == []
        services.consent_withdraw(subject=subject, purpose="newsletter", method="preference_centre")
    finally:
        consent_withdrawn.disconnect(receiver)
    assert heard == [(subject, "newsletter", "withdrawn")]
