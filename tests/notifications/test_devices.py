import json

import pytest
from django.test import Client

from accounts.models import User
from dsar import registry
from dsar.erasure import erasure_erase_subject, personal_data_leftovers
from dsar.exports import export_records
from dsar.models import AuditEvent
from notifications.models import Device, TestModePush
from notifications.services import device_register, device_sign_out
from tests.conftest import login_with_totp

from .conftest import apple_token, google_token, register, subject_of, windows_token

pytestmark = pytest.mark.django_db
REGISTER = "/api/push/devices/"
SIGN_OUT = "/api/push/devices/sign-out/"


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


# --- Registration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "platform,make", [("apple", apple_token), ("google", google_token), ("windows", windows_token)]
)
def test_an_app_registers_its_device(owner, platform, make):
    token = make()
    response = post_json(
        signed_in(owner), REGISTER, {"platform": platform, "token": token, "name": "Work phone"}
    )
    assert response.status_code == 201, response.content
    device = Device.objects.get()
    assert (device.user, device.platform, device.name) == (owner, platform, "Work phone")
    assert device.token == (token.lower() if platform == "apple" else token)
    assert response.json()["id"] == device.pk
    assert token not in response.content.decode()  # the token is not echoed


def test_registering_the_same_token_again_is_idempotent(owner):
    token = apple_token()
    client = signed_in(owner)
    first = post_json(client, REGISTER, {"platform": "apple", "token": token})
    again = post_json(client, REGISTER, {"platform": "apple", "token": token.upper()})
    assert (first.status_code, again.status_code) == (201, 200)
    assert Device.objects.count() == 1


def test_registering_a_token_another_person_had_moves_it(owner, other):
    token = google_token()
    register(other, "google", token)
    response = post_json(signed_in(owner), REGISTER, {"platform": "google", "token": token})
    assert response.status_code == 201
    device = Device.objects.get()
    assert device.user == owner
    assert not Device.objects.filter(user=other).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"platform": "apple", "token": "not-hex-at-all"},
        {"platform": "apple", "token": "ab" * 10},
        {"platform": "google", "token": "short"},
        {"platform": "google", "token": "has spaces " * 10},
        {"platform": "windows", "token": "http://db5p.notify.windows.com/?token=x"},
        {"platform": "windows", "token": "https://evil.example/?token=x"},
        {"platform": "blackberry", "token": "ab" * 32},
        {"platform": "apple"},
        {},
    ],
)
def test_a_bad_token_gets_a_clear_error_and_stores_nothing(owner, data):
    response = post_json(signed_in(owner), REGISTER, data)
    assert response.status_code == 400
    assert response.json()["error"]
    assert Device.objects.count() == 0


def test_an_apple_token_whose_digits_pass_the_luhn_check_is_still_a_token(owner):
    token = "4242424242424242" + "ab" * 24  # 64 hex characters, a test card number inside
    client = signed_in(owner)
    response = post_json(client, REGISTER, {"platform": "apple", "token": token})
    assert response.status_code == 201, response.content
    assert Device.objects.get().token == token
    # The name is typed by people (through the app): it keeps the card-number gate.
    named = {"platform": "apple", "token": apple_token(), "name": "4242 4242 4242 4242"}
    assert post_json(client, REGISTER, named).status_code == 400
    assert Device.objects.count() == 1


def test_broken_json_is_a_clear_error(owner):
    response = signed_in(owner).post(REGISTER, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert Device.objects.count() == 0


def test_registration_needs_a_signed_in_person_and_the_csrf_token(owner):
    token = apple_token()
    assert post_json(Client(), REGISTER, {"platform": "apple", "token": token}).status_code == 401
    strict = signed_in(owner, enforce_csrf_checks=True)
    assert post_json(strict, REGISTER, {"platform": "apple", "token": token}).status_code == 403
    assert signed_in(owner).get(REGISTER).status_code == 405
    assert Device.objects.count() == 0


def test_a_person_registers_at_most_the_allowed_number_of_devices(owner, settings):
    settings.NOTIFICATIONS_MAX_DEVICES_PER_USER = 2
    register(owner)
    register(owner)
    response = post_json(signed_in(owner), REGISTER, {"platform": "apple", "token": apple_token()})
    assert response.status_code == 400
    assert "most we allow" in response.json()["error"]
    assert Device.objects.count() == 2


# --- Signing out and removing delete the token ------------------------------------------------


def test_signing_out_in_the_app_deletes_the_token(owner):
    token = windows_token()
    register(owner, "windows", token)
    response = post_json(signed_in(owner), SIGN_OUT, {"platform": "windows", "token": token})
    assert response.status_code == 200
    assert not Device.objects.exists()
    assert personal_data_leftovers(needles=[token]) == []


def test_another_person_cannot_sign_my_device_out(owner, other):
    token = apple_token()
    register(owner, "apple", token)
    response = post_json(signed_in(other), SIGN_OUT, {"platform": "apple", "token": token})
    assert response.status_code == 404
    assert Device.objects.filter(user=owner).count() == 1
    assert post_json(Client(), SIGN_OUT, {"platform": "apple", "token": token}).status_code == 401
    assert device_sign_out(user=other, platform="apple", token="garbage") is False
    assert Device.objects.count() == 1


def test_removing_a_device_in_the_portal_deletes_its_token(owner):
    device = register(owner, "google")
    token = device.token
    response = signed_in(owner).post(f"/accounts/devices/{device.pk}/remove/")
    assert response.status_code == 302
    assert not Device.objects.exists()
    assert personal_data_leftovers(needles=[token]) == []


def test_another_person_can_neither_see_nor_remove_my_device(owner, other):
    device = register(owner, "apple", name="Secret iPad of owner")
    client = signed_in(other)
    assert client.post(f"/accounts/devices/{device.pk}/remove/").status_code == 404
    assert client.post("/accounts/devices/999999/remove/").status_code == 404
    assert Device.objects.filter(pk=device.pk).exists()
    for url in ("/accounts/devices/", "/privacy/"):
        page = client.get(url)
        assert page.status_code == 200
        assert b"Secret iPad of owner" not in page.content
    anonymous = Client().post(f"/accounts/devices/{device.pk}/remove/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Device.objects.filter(pk=device.pk).exists()


def test_people_see_their_devices_on_the_account_and_privacy_pages(owner):
    device = register(owner, "windows", name="Surface at home")
    client = signed_in(owner)
    for url in ("/accounts/devices/", "/privacy/"):
        page = client.get(url).content.decode()
        assert "Surface at home" in page
        assert f"/accounts/devices/{device.pk}/remove/" in page
        assert device.token not in page
    assert "/accounts/devices/" in client.get("/accounts/profile/").content.decode()


# --- The registry: export, erasure, records of processing --------------------------------------


def test_the_registry_exports_and_erases_devices(owner, other, django_capture_on_commit_callbacks):
    mine = register(owner, "apple")
    theirs = register(other, "google")
    entry = registry.entry_for(Device)
    records = list(export_records(entry=entry, subject=subject_of(owner)))
    assert [r.fields["token"] for r in records] == [mine.token]
    assert records[0].fields["platform"] == "apple"

    with django_capture_on_commit_callbacks(execute=True):
        counts = erasure_erase_subject(subject=subject_of(owner))
    assert counts["notifications.Device"] == 1
    assert not User.objects.filter(pk=owner.pk).exists()
    assert personal_data_leftovers(needles=[mine.token]) == []
    assert Device.objects.filter(pk=theirs.pk).exists()


def test_devices_are_in_the_records_of_processing():
    from desk.records import records_of_processing

    report = records_of_processing()
    [row] = [row for row in report.rows if row[0] == ["Push notifications"]]
    cells = dict(zip(report.columns, row, strict=True))
    assert any("device token" in d for d in cells["(c) Categories of personal data"])
    assert any("Apple Push Notification service" in r for r in cells["(d) Recipients"])
    transfers = cells["(e) Transfers to third countries and safeguards"]
    assert "in the USA" in transfers[0] and "Data Privacy Framework" in transfers[1]


# --- A new device: an essential security notice to the others -----------------------------------


def test_a_new_device_tells_the_other_devices_even_with_every_push_withdrawn(
    owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = register(owner, "apple", name="Old phone")
    assert TestModePush.objects.count() == 0  # nobody else to tell
    with django_capture_on_commit_callbacks(execute=True):
        register(owner, "google", name="New tablet")
    notice = TestModePush.objects.get()
    assert (notice.device_id, notice.purpose) == (first.pk, "account_security")
    assert "New tablet" in notice.body


def test_registering_the_same_device_again_sends_no_notice(
    owner, django_capture_on_commit_callbacks
):
    register(owner, "apple")
    token = apple_token()
    with django_capture_on_commit_callbacks(execute=True):
        device_register(user=owner, platform="apple", token=token)
        device_register(user=owner, platform="apple", token=token)
    assert TestModePush.objects.count() == 1


# --- Admin: officers see devices without tokens; Support does not see them ----------------------


def test_officers_see_devices_without_tokens_and_support_does_not(owner, make_staff):
    device = register(owner, "google", name="Pixel")
    officer, officer_secret = make_staff("Privacy officer")
    client = Client()
    login_with_totp(client, officer, officer_secret)
    listing = client.get("/admin/notifications/device/")
    assert listing.status_code == 200
    assert b"Pixel" in listing.content and device.token.encode() not in listing.content
    detail = client.get(f"/admin/notifications/device/{device.pk}/change/")
    assert detail.status_code == 200 and device.token.encode() not in detail.content
    assert AuditEvent.objects.filter(action="staff_viewed_devices").count() == 1
    assert client.post(f"/admin/notifications/device/{device.pk}/delete/").status_code == 403

    support, support_secret = make_staff("Support")
    client = Client()
    login_with_totp(client, support, support_secret)
    assert client.get("/admin/notifications/device/").status_code == 403
    assert client.get(f"/admin/notifications/device/{device.pk}/change/").status_code in (
        302,
        403,
    )
