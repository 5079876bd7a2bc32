import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.management import call_command

from accounts.models import User


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_realistic():
    call_command("seed_demo", users=25, batch_size=10, no_progress=True)
    call_command("seed_demo", users=25, batch_size=10, no_progress=True)
    synthetic = User.objects.filter(username__startswith="user")
    assert synthetic.count() == 25
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == User.objects.count()
    assert len(set(synthetic.values_list("full_name", flat=True))) > 20
    assert all(u.date_of_birth and u.country for u in synthetic)
    officer = User.objects.get(username="officer")
    assert officer.is_staff and officer.groups.filter(name="Privacy officer").exists()
    assert Authenticator.objects.filter(user=officer, type="totp").count() == 1


@pytest.mark.django_db
def test_seed_demo_grows_to_a_larger_size():
    call_command("seed_demo", users=5, no_progress=True)
    call_command("seed_demo", users=12, no_progress=True)
    assert User.objects.filter(username__startswith="user").count() == 12


@pytest.mark.django_db
def test_seed_demo_adds_consent_history_once():
    from consent.models import ConsentEvent, Partner

    call_command("seed_demo", users=60, batch_size=25, no_progress=True)
    rows = ConsentEvent.objects.count()
    assert rows > 20 and Partner.objects.count() == 3
    assert set(ConsentEvent.objects.values_list("method", flat=True)) <= {
        "signup",
        "unsubscribe_link",
        "preference_centre",
    }
    assert all(e.ip_hash and e.policy_version.version == "1.0" for e in ConsentEvent.objects.all())
    call_command("seed_demo", users=60, batch_size=25, no_progress=True)
    assert ConsentEvent.objects.count() == rows
