"""Webhooks in the admin: privacy officers subscribe endpoints (the secret shown once), follow
deliveries with their attempts in plain words, and replay them; nobody else sees them."""

import re

import pytest

from consent.services import consent_grant
from dsar.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from dsar.registry import Subject
from dsar.webhooks import secret_decrypt

pytestmark = pytest.mark.django_db

ADD = "/admin/dsar/webhookendpoint/add/"
DELIVERIES = "/admin/dsar/webhookdelivery/"


def add_endpoint(client, url: str, events=("consent.changed",)):
    return client.post(
        ADD, {"url": url, "description": "CRM", "events": list(events), "active": "on"}
    )


def shown_secret(response) -> str:
    return re.search(r'value="(whsec_[^"]+)"', response.content.decode()).group(1)


def test_an_officer_subscribes_an_endpoint_and_sees_its_secret_once(
    officer_client, receiver, user, celery_eager, django_capture_on_commit_callbacks
):
    response = add_endpoint(officer_client, receiver.url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = shown_secret(response)
    endpoint = WebhookEndpoint.objects.get()
    assert secret_decrypt(endpoint.secret_encrypted) == secret
    change = officer_client.get(f"/admin/dsar/webhookendpoint/{endpoint.pk}/change/")
    assert change.status_code == 200 and secret not in change.content.decode()

    receiver.secret = secret  # what the officer pasted into the receiving system
    with django_capture_on_commit_callbacks(execute=True):
        consent_grant(
            subject=Subject(user_id=user.pk), purpose="newsletter", method="preference_centre"
        )
    assert list(receiver.events) == [WebhookEvent.objects.get().message_id]

    rotated = officer_client.post(f"/admin/dsar/webhookendpoint/{endpoint.pk}/new-secret/")
    endpoint.refresh_from_db()
    assert shown_secret(rotated) == secret_decrypt(endpoint.secret_encrypted) != secret


def test_a_private_address_is_refused_in_plain_words_and_nothing_is_made(officer_client, settings):
    settings.DSAR_WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = add_endpoint(officer_client, "http://127.0.0.1:9/hooks")
    assert response.status_code == 200
    assert "private, loopback or reserved address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_show_their_attempts_and_a_replay_sends_the_same_event_id(
    officer_client, receiver, user, celery_eager, django_capture_on_commit_callbacks, settings
):
    settings.DSAR_WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answer = 503
    receiver.secret = shown_secret(add_endpoint(officer_client, receiver.url))
    with django_capture_on_commit_callbacks(execute=True):
        consent_grant(
            subject=Subject(user_id=user.pk), purpose="newsletter", method="preference_centre"
        )
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed"
    page = officer_client.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert "The system answered with an error of its own (503)." in page
    assert "not tried again automatically" in page

    receiver.answer = 200
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            DELIVERIES, {"action": "replay", "_selected_action": [delivery.pk]}
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    assert receiver.arrivals == [delivery.event.message_id]
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


@pytest.mark.parametrize("role", ["Support", "Reviewer"])
def test_other_staff_see_no_endpoints_or_deliveries(client, make_staff, role):
    from django.contrib.auth.models import Group

    from tests.conftest import login_with_totp

    if not Group.objects.filter(name=role).exists():
        pytest.skip(f"no {role} group")
    staff, secret = make_staff(role)
    login_with_totp(client, staff, secret)
    assert client.get(ADD).status_code == 403
    assert client.get(DELIVERIES).status_code == 403
