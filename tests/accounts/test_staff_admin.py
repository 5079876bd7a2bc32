import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.conftest import login_with_totp, totp_now


@pytest.mark.django_db
def test_roles_exist_with_their_permissions():
    officer = Group.objects.get(name="Privacy officer")
    support = Group.objects.get(name="Support")
    officer_perms = set(officer.permissions.values_list("codename", flat=True))
    support_perms = set(support.permissions.values_list("codename", flat=True))
    assert {"view_user", "change_user", "change_periodictask"} <= officer_perms
    assert {"view_user", "view_purpose"} <= support_perms
    # Support only reads, and opens need-to-know access windows.
    assert all(
        codename.startswith("view_") or codename == "add_staffaccesswindow"
        for codename in support_perms
    )


@pytest.mark.django_db
def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"].startswith("/accounts/login/?next=/admin/")


@pytest.mark.django_db
def test_staff_with_totp_reaches_admin_after_the_code(client, make_staff):
    staff, secret = make_staff()
    response = login_with_totp(client, staff, secret)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Privacy operations" in page.content.decode()


@pytest.mark.django_db
def test_wrong_code_keeps_staff_out(client, make_staff, password):
    staff, secret = make_staff()
    client.post("/accounts/login/?next=/admin/", {"login": staff.username, "password": password})
    wrong = "000000" if totp_now(secret) != "000000" else "111111"
    response = client.post("/accounts/2fa/authenticate/", {"code": wrong})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_staff_without_mfa_sets_it_up_then_reaches_admin(client, make_staff, password):
    staff, _ = make_staff(with_totp=False)
    client.post("/accounts/login/", {"login": staff.username, "password": password})
    response = client.get("/admin/", follow=True)
    hops = [url for url, _ in response.redirect_chain]
    assert any(url.startswith("/accounts/2fa/totp/activate/") for url in hops)
    assert "two-factor authentication" in response.content.decode()

    # allauth asks for the password again before MFA can be set up, then shows the secret.
    reauth = client.post(hops[-1], {"password": password})
    activate_url = reauth["Location"]
    assert activate_url.startswith("/accounts/2fa/totp/activate/")
    assert client.get(activate_url).status_code == 200
    secret = client.session["mfa.totp.secret"]
    activated = client.post(activate_url, {"code": totp_now(secret)})
    assert activated.status_code == 302

    # The session still has no MFA step: the admin asks for a code once, then opens.
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/2fa/reauthenticate/")
    done = client.post(response.redirect_chain[-1][0], {"code": totp_now(secret)})
    assert done.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_password_only_session_cannot_use_admin_even_with_mfa_enabled(make_staff):
    staff, _ = make_staff()
    client = Client()
    client.force_login(staff)  # a session that never went through the MFA step
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/2fa/reauthenticate/")


@pytest.mark.django_db
def test_non_staff_cannot_use_admin(user_client):
    response = user_client.get("/admin/", follow=True)
    assert response.status_code == 403


@pytest.mark.django_db
def test_support_can_view_but_not_change_users(client, make_staff, user):
    from accounts.staff_access import staff_access_open

    staff, secret = make_staff("Support")
    login_with_totp(client, staff, secret)
    staff_access_open(
        staff=staff,
        subject_user=user,
        ticket_reference="SUP-1",
        reason="Customer asked for help with the profile",
        minutes=10,
    )
    assert client.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200
    response = client.post(f"/admin/accounts/user/{user.pk}/change/", {"full_name": "Changed"})
    assert response.status_code == 403
