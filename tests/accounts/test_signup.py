from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from tests.mail_backends import mailed_path


def years_ago(years: int, days: int = 0) -> date:
    today = timezone.localdate()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year that has none
        born = today.replace(year=today.year - years, day=28)
    return born.fromordinal(born.toordinal() + days)


def signup_data(**overrides) -> dict:
    data = {
        "full_name": "Aoife Byrne",
        "email": "aoife@example.com",
        "phone": "+353 1 555 0199",
        "company_name": "Byrne Consulting",
        "country": "IE",
        "date_of_birth": "1991-04-12",
        "username": "aoife",
        "password1": "a-long-and-unusual-passphrase",
        "password2": "a-long-and-unusual-passphrase",
    }
    data.update(overrides)
    return data


def nothing_stored():
    return not User.objects.exists() and not EmailAddress.objects.exists() and not mail.outbox


@pytest.mark.django_db
def test_signup_page_lists_the_policy_fields(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    for name in ("full_name", "email", "phone", "company_name", "country", "date_of_birth"):
        assert f'name="{name}"' in response.content.decode()
    assert 'for="id_date_of_birth"' in response.content.decode()


@pytest.mark.django_db
def test_signup_stores_the_fields_and_asks_to_verify_the_email(client):
    response = client.post("/accounts/signup/", signup_data())
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(username="aoife")
    assert (user.full_name, user.company_name, user.country.code) == (
        "Aoife Byrne",
        "Byrne Consulting",
        "IE",
    )
    assert user.phone.as_e164 == "+35315550199"
    assert user.date_of_birth == date(1991, 4, 12)
    assert user.check_password("a-long-and-unusual-passphrase")
    address = EmailAddress.objects.get(user=user)
    assert address.email == "aoife@example.com" and not address.verified
    assert len(mail.outbox) == 1 and "aoife@example.com" in mail.outbox[0].to


@pytest.mark.django_db
def test_phone_is_optional(client):
    client.post("/accounts/signup/", signup_data(phone=""))
    assert User.objects.get(username="aoife").phone == ""


@pytest.mark.django_db
@pytest.mark.parametrize("days_short", [1, 365 * 3])
def test_under_16_is_refused_and_nothing_is_stored(client, days_short):
    born = years_ago(16, days=days_short)  # one day (or years) short of 16
    response = client.post("/accounts/signup/", signup_data(date_of_birth=born.isoformat()))
    assert response.status_code == 200
    assert "at least 16 years old" in response.content.decode()
    assert nothing_stored()


@pytest.mark.django_db
def test_exactly_16_today_may_sign_up(client):
    response = client.post(
        "/accounts/signup/", signup_data(date_of_birth=years_ago(16).isoformat())
    )
    assert response.status_code == 302
    assert User.objects.filter(username="aoife").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "", "This field is required."),
        ("company_name", "", "This field is required."),
        ("country", "XX", "Select a valid choice."),
        ("country", "", "This field is required."),
        ("date_of_birth", "not-a-date", "Enter a valid date."),
        ("date_of_birth", "2999-01-01", "cannot be in the future"),
        ("date_of_birth", "1800-01-01", "check the year"),
        ("email", "not-an-email", "Enter a valid email address."),
        ("phone", "12", "Enter a valid phone number"),
        ("password1", "short", "too short"),
    ],
)
def test_bad_input_gets_a_clear_error_and_stores_nothing(client, field, value, message):
    data = signup_data(**{field: value})
    if field == "password1":
        data["password2"] = value
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert nothing_stored()


@pytest.mark.django_db
def test_signup_without_csrf_token_is_refused_plainly():
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/accounts/signup/", signup_data())
    assert response.status_code == 403
    assert "Nothing was changed" in response.content.decode()
    assert nothing_stored()


@pytest.mark.django_db
def test_confirming_the_email_logs_the_user_in(client):
    client.post("/accounts/signup/", signup_data())
    body = mail.outbox[0].body
    response = client.post(mailed_path(body, "/accounts/confirm-email/"))
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="aoife@example.com").verified
    assert client.get("/accounts/profile/").status_code == 200
