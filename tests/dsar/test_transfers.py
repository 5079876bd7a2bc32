"""Portability straight to a third party (GDPR Art. 20(2)): a one-time, expiring, signed link for
an email recipient, the adapter for an integration, the dashboard, revocation and the audit log."""

import hashlib
import re
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import signing
from django.test import Client
from django.utils import timezone

from accounts import integrations
from dsar import services
from dsar.exports import access_report_write
from dsar.models import AuditEvent, RequestKind, ThirdPartyTransfer
from dsar.registry import Subject
from dsar.retention import retention_sweep
from dsar.services.transfers import TOKEN_SALT
from tests.accounts.factories import UserFactory
from tests.dsar.factories import ExportFileFactory

from . import adapters

RECIPIENT = "new-provider@elsewhere.example"
LINK = re.compile(r"https?://[^\s]+/privacy/transfers/([^/\s]+)/")


def released(user, *, recipient_email="", recipient_key="", capture=None):
    """A portability request filed (naming a recipient), built and released by its officer."""
    officer = UserFactory(is_staff=True)
    officer.groups.add(Group.objects.get(name="Privacy officer"))  # may work requests
    request, _joined = services.dsar_request_file(
        kind=RequestKind.PORTABILITY,
        user=user,
        recipient_email=recipient_email,
        recipient_key=recipient_key,
    )
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_assign(request=request, assignee=officer, actor=officer)
    services.dsar_request_apply(request=request, actor=officer)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    export.refresh_from_db()
    with capture(execute=True):
        services.export_release(export=export, actor=officer)
    export.refresh_from_db()
    return request, export


def mailed_link(mailoutbox, to=RECIPIENT):
    [message] = [m for m in mailoutbox if m.to == [to]]
    match = LINK.search(message.body)
    assert match, message.body
    return message, f"/privacy/transfers/{match.group(1)}/", match.group(1)


def package_bytes(export):
    with export.file.open("rb") as handle:
        return handle.read()


def actions(transfer):
    return list(
        AuditEvent.objects.filter(object_type="dsar.ThirdPartyTransfer", object_id=str(transfer.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


@pytest.mark.django_db
def test_the_link_works_once_then_refuses(user, mailoutbox, django_capture_on_commit_callbacks):
    request, export = released(
        user, recipient_email=RECIPIENT, capture=django_capture_on_commit_callbacks
    )
    transfer = request.transfers.get()
    assert transfer.state == "sent" and transfer.export == export
    message, url, token = mailed_link(mailoutbox)
    # The mail names neither the person nor their data, and only a hash of the token is kept.
    assert user.email not in message.body and user.full_name not in message.body
    assert transfer.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(ThirdPartyTransfer.objects.filter(pk=transfer.pk).values().get())
    assert transfer.expires_at <= transfer.sent_at + timedelta(days=7)

    recipient = Client()
    page = recipient.get(url)  # a mail scanner following the link uses nothing up
    assert page.status_code == 200 and b"<form" in page.content
    assert user.full_name.encode() not in page.content
    response = recipient.post(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    body = b"".join(response.streaming_content)
    assert body == package_bytes(export) and b"manifest.json" in body

    transfer.refresh_from_db()
    assert transfer.state == "received" and transfer.received_at is not None
    for again in (recipient.post(url), recipient.get(url), Client().post(url)):
        assert again.status_code == 410
        assert again["Content-Type"].startswith("text/html")
        assert b"manifest.json" not in again.content and user.email.encode() not in again.content
    assert actions(transfer) == [
        "transfer_named",
        "transfer_link_sent",
        "transfer_downloaded",
        "transfer_download_refused",
        "transfer_download_refused",
    ]
    named = AuditEvent.objects.get(action="transfer_named", object_id=str(transfer.pk))
    assert named.subject_ref == f"user:{user.pk}" and RECIPIENT not in str(named.detail)


@pytest.mark.django_db
def test_the_link_refuses_after_expiry(
    user, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    request, _export = released(
        user, recipient_email=RECIPIENT, capture=django_capture_on_commit_callbacks
    )
    _message, url, _token = mailed_link(mailoutbox)
    transfer = request.transfers.get()

    # Eight days on, by the clock the signature is checked against: expired, nothing handed over.
    later = time.time() + 8 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert Client().get(url).status_code == 410
    assert Client().post(url).status_code == 410
    monkeypatch.undo()

    # The row's own expiry (the package may be deleted before the 7 days are over).
    ThirdPartyTransfer.objects.filter(pk=transfer.pk).update(expires_at=timezone.now())
    assert Client().post(url).status_code == 410
    transfer.refresh_from_db()
    assert transfer.state == "sent" and transfer.received_at is None
    assert transfer.status_label == "Expired unused" and not transfer.can_revoke


@pytest.mark.django_db
def test_a_revoked_link_refuses_and_only_the_person_revokes(
    user, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    request, _export = released(
        user, recipient_email=RECIPIENT, capture=django_capture_on_commit_callbacks
    )
    _message, url, _token = mailed_link(mailoutbox)
    transfer = request.transfers.get()
    revoke = f"/privacy/requests/{request.public_id}/transfers/{transfer.public_id}/revoke/"

    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.post(revoke).status_code == 404
    assert Client().post(revoke).status_code == 404
    transfer.refresh_from_db()
    assert transfer.state == "sent"

    response = user_client.post(revoke)
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == "revoked" and transfer.revoked_at is not None
    assert Client().get(url).status_code == 410
    assert Client().post(url).status_code == 410
    assert "transfer_revoked" in actions(transfer)
    # Revoking twice is refused with a message, and changes nothing.
    user_client.post(revoke)
    assert ThirdPartyTransfer.objects.get(pk=transfer.pk).revoked_at == transfer.revoked_at


@pytest.mark.django_db
def test_a_wrong_or_tampered_token_refuses(user, mailoutbox, django_capture_on_commit_callbacks):
    request, _export = released(
        user, recipient_email=RECIPIENT, capture=django_capture_on_commit_callbacks
    )
    _message, url, token = mailed_link(mailoutbox)
    transfer = request.transfers.get()
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    # Signed with our key for the right transfer, but not the token we sent: the hash refuses it.
    forged = signing.dumps([str(transfer.public_id), "guessed-nonce"], salt=TOKEN_SALT)
    other_salt = signing.dumps([str(transfer.public_id), "x"], salt="dsar.request.view")
    for bad in (tampered, forged, other_salt, "garbage", token + "x"):
        for method in ("get", "post"):
            response = getattr(Client(), method)(f"/privacy/transfers/{bad}/")
            assert response.status_code == 404, (bad, method)
            assert response["Content-Type"].startswith("text/html")
            assert b"manifest.json" not in response.content
    transfer.refresh_from_db()
    assert transfer.state == "sent"
    assert Client().post(url).status_code == 200  # the real link still works


@pytest.mark.django_db
def test_the_person_sees_the_transfer_on_the_dashboard_and_others_do_not(
    user, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    request, _export = released(
        user, recipient_email=RECIPIENT, capture=django_capture_on_commit_callbacks
    )
    transfer = request.transfers.get()
    page = user_client.get("/privacy/").content.decode()
    assert 'id="transfers"' in page
    assert RECIPIENT in page and request.reference in page
    assert f"/transfers/{transfer.public_id}/revoke/" in page  # unused: can be revoked
    other = Client()
    other.force_login(UserFactory())
    assert RECIPIENT not in other.get("/privacy/").content.decode()
    detail = user_client.get(f"/privacy/requests/{request.public_id}/").content.decode()
    assert RECIPIENT in detail

    _message, url, _token = mailed_link(mailoutbox)
    Client().post(url)
    page = user_client.get("/privacy/").content.decode()
    assert "Received by the recipient" in page and "Yes, " in page
    assert f"/transfers/{transfer.public_id}/revoke/" not in page


@pytest.mark.django_db
def test_a_recipient_named_after_release_gets_the_link_at_once(
    user, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    request, _export = released(user, capture=django_capture_on_commit_callbacks)
    detail = user_client.get(f"/privacy/requests/{request.public_id}/").content.decode()
    assert "Send your package to someone else" in detail
    url = f"/privacy/requests/{request.public_id}/transfer/"

    response = user_client.post(url, {"recipient_email": "not an address"}, follow=True)
    assert "Enter a valid email address for the recipient." in response.content.decode()
    assert not request.transfers.exists()

    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.post(url, {"recipient_email": RECIPIENT}).status_code == 404
    assert not request.transfers.exists()

    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(url, {"recipient_email": RECIPIENT})
    assert request.transfers.get().state == "sent"
    mailed_link(mailoutbox)
    # One live transfer at a time.
    response = user_client.post(url, {"recipient_email": "second@elsewhere.example"}, follow=True)
    assert "Revoke it first" in response.content.decode()
    assert request.transfers.count() == 1


@pytest.mark.django_db
def test_naming_a_recipient_is_validated_and_a_refusal_files_nothing(user, user_client):
    before = user.privacy_requests.count()
    response = user_client.post(
        "/privacy/requests/new/", {"kind": RequestKind.ACCESS, "recipient_email": RECIPIENT}
    )
    assert response.status_code == 200
    assert "Only the package of a portability request" in response.content.decode()
    assert user.privacy_requests.count() == before
    assert not ThirdPartyTransfer.objects.exists()

    with pytest.raises(services.RequestError, match="Name one recipient"):
        services.dsar_request_file(
            kind=RequestKind.PORTABILITY,
            user=user,
            recipient_email=RECIPIENT,
            recipient_key="integration:calendar",
        )
    with pytest.raises(services.RequestError, match="integrations you have enabled"):
        services.dsar_request_file(
            kind=RequestKind.PORTABILITY, user=user, recipient_key="integration:calendar"
        )
    assert user.privacy_requests.count() == before

    # Through the form: someone else's integration is not a choice; one's own is.
    integrations.integration_grant_create(user=user, integration="calendar", scopes=["profile"])
    page = user_client.get("/privacy/requests/new/").content.decode()
    assert 'value="integration:calendar"' in page
    response = user_client.post(
        "/privacy/requests/new/",
        {"kind": RequestKind.PORTABILITY, "recipient_key": "integration:calendar"},
    )
    assert response.status_code == 302
    transfer = ThirdPartyTransfer.objects.get()
    assert transfer.state == "waiting" and transfer.recipient_name == "Calendar sync"


@pytest.mark.django_db
def test_an_integration_gets_the_package_through_its_adapter(
    user, settings, django_capture_on_commit_callbacks
):
    from dsar.tasks import transfer_deliver_task

    integrations.integration_grant_create(user=user, integration="calendar", scopes=["profile"])
    request, export = released(
        user, recipient_key="integration:calendar", capture=django_capture_on_commit_callbacks
    )
    transfer = request.transfers.get()
    assert transfer.state == "sending"

    transfer_deliver_task(transfer.pk)  # what the worker runs (woken after the release commits)
    transfer.refresh_from_db()
    digest = hashlib.sha256(package_bytes(export)).hexdigest()
    assert transfer.state == "received" and transfer.received_at is not None
    assert transfer.receipt == f"test-calendar-{digest[:16]}"  # the test-mode adapter read it all
    assert not services.transfer_deliver(transfer_id=transfer.pk)  # a repeat does nothing
    assert actions(transfer) == ["transfer_named", "transfer_queued", "transfer_delivered"]


@pytest.mark.django_db
def test_delivery_goes_through_the_configured_adapter_and_retries_failures(
    user, settings, django_capture_on_commit_callbacks
):
    settings.ACCOUNTS_INTEGRATION_ADAPTER = "tests.dsar.adapters.FailingAdapter"
    integrations.integration_grant_create(user=user, integration="accounting", scopes=["profile"])
    request, export = released(
        user, recipient_key="integration:accounting", capture=django_capture_on_commit_callbacks
    )
    transfer = request.transfers.get()
    assert not services.transfer_deliver(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    assert transfer.state == "sending" and transfer.attempts == 1
    assert "partner API is down" in transfer.last_error
    ThirdPartyTransfer.objects.filter(pk=transfer.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    assert services.exports_sweep()["transfers"] == 1

    settings.ACCOUNTS_INTEGRATION_ADAPTER = "tests.dsar.adapters.RecordingAdapter"
    adapters.PACKAGES.clear()
    assert services.transfer_deliver(transfer_id=transfer.pk)
    [delivered] = adapters.PACKAGES
    assert delivered["recipient"] == "integration:accounting"
    assert delivered["subject"] == Subject(user_id=user.pk)
    assert delivered["content"] == package_bytes(export)


@pytest.mark.django_db
def test_an_integration_revoked_before_delivery_gets_nothing(
    user, django_capture_on_commit_callbacks
):
    grant = integrations.integration_grant_create(
        user=user, integration="calendar", scopes=["profile"]
    )
    request, _export = released(
        user, recipient_key="integration:calendar", capture=django_capture_on_commit_callbacks
    )
    integrations.integration_grant_revoke(user=user, grant_id=grant.pk)
    transfer = request.transfers.get()
    assert not services.transfer_deliver(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    assert transfer.state == "failed" and transfer.receipt == ""
    assert "transfer_delivery_failed" in actions(transfer)


@pytest.mark.django_db
def test_the_recipient_address_is_exported_erased_and_kept_one_year(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    import io
    import json

    from dsar.erasure import erasure_erase_subject

    request, _export = released(
        user, recipient_email=RECIPIENT, capture=django_capture_on_commit_callbacks
    )
    subject = Subject(user_id=user.pk, email=user.email)
    json_file = io.StringIO()
    access_report_write(subject=subject, json_file=json_file, html_file=io.StringIO())
    assert RECIPIENT in json_file.getvalue()
    assert json.loads(json_file.getvalue())

    assert retention_sweep()["dsar.ThirdPartyTransfer"] == 0
    assert retention_sweep(now=timezone.now() + timedelta(days=366))["dsar.ThirdPartyTransfer"] == 1
    assert not ThirdPartyTransfer.objects.exists()

    request2, _ = released(
        UserFactory(), recipient_email=RECIPIENT, capture=django_capture_on_commit_callbacks
    )
    owner = request2.user
    erasure_erase_subject(subject=Subject(user_id=owner.pk, email=owner.email))
    assert not ThirdPartyTransfer.objects.filter(request=request2).exists()


@pytest.mark.postgresql_only(
    reason="SQLite runs one write transaction at a time (BEGIN IMMEDIATE), so two downloads "
    "cannot both be inside one at the same moment, as this test's barrier needs; there the "
    "second simply waits and finds the link used (test_the_link_works_once_then_refuses)."
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_two_downloads_at_the_same_moment_only_one_wins(
    user, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import connection

    from dsar.services import transfers

    request, export = released(
        user, recipient_email=RECIPIENT, capture=django_capture_on_commit_callbacks
    )
    _message, url, _token = mailed_link(mailoutbox)
    # Both requests read the link as unused before either claims it: only the claim decides.
    both_read = threading.Barrier(2, timeout=20)
    read = transfers.transfer_for_token

    def read_then_wait(*, token):
        transfer = read(token=token)
        both_read.wait()
        return transfer

    monkeypatch.setattr(transfers, "transfer_for_token", read_then_wait)
    results = []

    def download():
        try:
            response = Client().post(url)
            body = b"".join(response.streaming_content) if response.streaming else b""
            results.append((response.status_code, body))
        finally:
            connection.close()

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(status for status, _body in results) == [200, 410]
    assert [body for status, body in results if status == 200] == [package_bytes(export)]
    assert ThirdPartyTransfer.objects.get(pk=request.transfers.get().pk).state == "received"
    assert AuditEvent.objects.filter(action="transfer_downloaded").count() == 1


@pytest.mark.django_db
def test_waiting_recipients_are_not_sent_an_access_report(user):
    request, _ = services.dsar_request_file(kind=RequestKind.ACCESS, user=user)
    assert services.transfer_naming_refusal(request=request)
    export = ExportFileFactory(request=request)
    assert services.transfers_send_released(export=export, actor=None) == 0


@pytest.mark.django_db
def test_officers_see_the_transfer_on_the_request_in_admin(
    client, make_staff, user, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.conftest import login_with_totp

    request, _export = released(
        user, recipient_email=RECIPIENT, capture=django_capture_on_commit_callbacks
    )
    officer, secret = make_staff()
    login_with_totp(client, officer, secret)
    page = client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/").content.decode()
    assert "Sent to a third party (GDPR Art. 20(2))" in page
    assert RECIPIENT in page and "Link sent" in page
    assert request.transfers.get().token_hash not in page


@pytest.mark.django_db
def test_a_recipient_waiting_for_a_package_that_never_comes_is_not_kept(user):
    request, _ = services.dsar_request_file(
        kind=RequestKind.PORTABILITY, user=user, recipient_email=RECIPIENT
    )
    assert request.transfers.get().state == "waiting"
    services.dsar_request_withdraw(request=request, user=user)
    assert not ThirdPartyTransfer.objects.exists()

    unconfirmed, _ = services.dsar_request_file(
        kind=RequestKind.PORTABILITY, email="someone@example.org", recipient_email=RECIPIENT
    )
    assert unconfirmed.transfers.exists()
    services.dsar_requests_lapse_unconfirmed(now=timezone.now() + timedelta(days=8))
    assert not ThirdPartyTransfer.objects.exists()
