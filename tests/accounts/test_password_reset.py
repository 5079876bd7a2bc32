import pytest
from django.core import mail

from accounts import services
from tests.mail_backends import mailed_path


def reset_link(client, email):
    client.post("/accounts/password/reset/", {"email": email})
    response = client.get(mailed_path(mail.outbox[-1].body, "/accounts/password/reset/key/"))
    assert response.status_code == 302  # allauth moves the key into the session
    return response["Location"]


@pytest.mark.django_db
def test_reset_without_security_question_asks_only_for_the_password(client, user):
    form_url = reset_link(client, user.email)
    page = client.get(form_url).content.decode()
    assert 'name="security_answer"' not in page
    response = client.post(
        form_url, {"password1": "brand-new-passphrase-9", "password2": "brand-new-passphrase-9"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-passphrase-9")


@pytest.mark.django_db
def test_reset_checks_the_security_answer(client, user, password):
    services.user_security_question_set(user=user, question="first_school", answer="St Mary's")
    form_url = reset_link(client, user.email)
    page = client.get(form_url).content.decode()
    assert "What was the name of your first school?" in page

    wrong = client.post(
        form_url,
        {
            "security_answer": "wrong",
            "password1": "brand-new-passphrase-9",
            "password2": "brand-new-passphrase-9",
        },
    )
    assert wrong.status_code == 200
    assert "does not match" in wrong.content.decode()
    user.refresh_from_db()
    assert user.check_password(password)

    right = client.post(
        form_url,
        {
            "security_answer": "st mary's",
            "password1": "brand-new-passphrase-9",
            "password2": "brand-new-passphrase-9",
        },
    )
    assert right.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-passphrase-9")


@pytest.mark.django_db
def test_security_question_is_not_asked_at_login(client, user, password):
    services.user_security_question_set(user=user, question="first_pet", answer="Rex")
    response = client.post("/accounts/login/", {"login": user.username, "password": password})
    assert response.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200


@pytest.mark.django_db
def test_setting_the_question_needs_the_current_password(user_client, user):
    response = user_client.post(
        "/accounts/profile/security-question/",
        {"current_password": "nope", "question": "first_pet", "answer": "Rex"},
    )
    assert "not your current password" in response.content.decode()
    user.refresh_from_db()
    assert not user.has_security_question


@pytest.mark.django_db
def test_setting_and_removing_the_question_from_the_profile(user_client, user, password):
    response = user_client.post(
        "/accounts/profile/security-question/",
        {"current_password": password, "question": "first_pet", "answer": "Rex"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.security_question == "first_pet" and user.security_answer_hash
    user_client.post("/accounts/profile/security-question/remove/")
    user.refresh_from_db()
    assert not user.has_security_question
