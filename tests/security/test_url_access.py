"""Every URL that takes an id, a uuid, a slug or a token has an access test here.

`test_every_parameterised_url_has_an_access_check` walks the URL resolver and fails, naming the
pattern, when a URL with a parameter has no entry in CHECKS. Each entry builds a real object owned
by person A through the services and checks that another signed-in person B, an anonymous visitor
and (for the staff side) a Support member without an access window get nothing, and that nothing
changed. Django's own admin model URLs (views defined in django.*) are left out; our admin views
and our overrides of the admin's change and history views are in.
"""

import inspect
import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts import integrations, payments, testimonials, workspaces
from accounts.child_removal import child_report_submit
from accounts.models import IntegrationGrant, PaymentMethod, WorkspaceMember, WorkspaceRecord
from consent import services as consent_services
from consent.models import ConsentEvent, FormSubmission, PolicyVersion
from dsar import registry, services
from dsar.models import AuditEvent, DataSubjectRequest, RequestKind
from dsar.registry import Subject
from tests.accounts.factories import UserFactory
from tests.accounts.workspace_helpers import workspace_join
from tests.conftest import login_with_totp
from tests.dsar.people import jpeg_upload

pytestmark = pytest.mark.django_db

SECRET_NAME = "Adelheid Secretperson"
GARBAGE = "garbage.token-that-was-never-signed"


# --- Discovery --------------------------------------------------------------------------------


def _walk(resolver, prefix="", namespace=None):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def _is_parameterised(route: str) -> bool:
    return "<" in route or re.search(r"\(\?P<", route) is not None


def _gate_model(callback):
    """The model of an admin view the need-to-know gate (dsar.admin_gate) serves."""
    return inspect.unwrap(callback).__self__.model


def _behind_the_gate(callback) -> str:
    """The module of the view the gate hands over to (for models without personal data)."""
    from dsar.admin_gate import NeedToKnowAdminMixin

    bound = inspect.unwrap(callback)
    bases = type(bound.__self__).__mro__
    after = bases[bases.index(NeedToKnowAdminMixin) + 1 :]
    return next(c for c in after if bound.__func__.__name__ in vars(c)).__module__


def gate_checked() -> set[str]:
    """The change, history and delete URLs of every personal-data model with an admin: the gate
    serves them, and tests/security/test_admin_need_to_know.py checks them for every role."""
    from tests.security.test_admin_need_to_know import ROWS

    names = set()
    for label in ROWS:
        opts = registry.entry_by_label(label).model._meta
        names |= {f"admin:{opts.app_label}_{opts.model_name}_{v}" for v in VIEWS}
    return names


VIEWS = ("change", "history", "delete")


def parameterised_patterns() -> dict[str, str]:
    """namespace:name -> route of every URL with a parameter, minus Django's built-in admin."""
    found = {}
    for route, namespace, entry in _walk(get_resolver()):
        if not _is_parameterised(route):
            continue
        module = getattr(entry.callback, "__module__", "") or ""
        if route.startswith("admin/") and module.startswith("django."):
            continue  # Django's own admin views: the admin's permission checks, not ours
        if module == "dsar.admin_gate" and registry.entry_for(_gate_model(entry.callback)) is None:
            module = _behind_the_gate(entry.callback)  # the gate passes through: whose view?
            if module.startswith("django."):
                continue
        if entry.name is None:
            raise AssertionError(f"URL {route!r} takes a parameter but has no name")
        name = f"{namespace}:{entry.name}" if namespace else entry.name
        found[name] = route
    return found


# --- Clients ----------------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def anonymous() -> Client:
    return Client()


def support_without_window(make_staff) -> tuple[Client, object]:
    staff, secret = make_staff("Support")
    client = Client()
    login_with_totp(client, staff, secret)
    return client, staff


def assert_login_redirect(response, login="/accounts/login/"):
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith(login), response["Location"]


def assert_refused(response, *, allowed=(403, 404)):
    assert response.status_code in allowed, response.status_code
    assert SECRET_NAME.encode() not in response.content


def owner():
    return UserFactory(full_name=SECRET_NAME)


# --- Account URLs -----------------------------------------------------------------------------


def check_workspace_detail(make_staff):
    a = owner()
    workspace = workspaces.workspace_create(owner=a, name="Private workspace of A")
    workspaces.workspace_record_create(
        workspace=workspace, actor=a, data={"kind": "employee", "name": SECRET_NAME, "email": ""}
    )
    url = f"/accounts/workspaces/{workspace.pk}/"
    b = signed_in(UserFactory())
    assert_refused(b.get(url), allowed=(403,))
    response = b.post(url, {"action": "record", "record-kind": "employee", "record-name": "X"})
    assert_refused(response, allowed=(403,))
    assert WorkspaceRecord.objects.filter(workspace=workspace).count() == 1
    assert_login_redirect(anonymous().get(url))


def check_workspace_record_delete(make_staff):
    a = owner()
    workspace = workspaces.workspace_create(owner=a, name="A's")
    record = workspaces.workspace_record_create(
        workspace=workspace, actor=a, data={"kind": "employee", "name": SECRET_NAME, "email": ""}
    )
    url = f"/accounts/workspaces/{workspace.pk}/records/{record.pk}/delete/"
    assert_refused(signed_in(UserFactory()).post(url), allowed=(403,))
    assert_login_redirect(anonymous().post(url))
    assert WorkspaceRecord.objects.filter(pk=record.pk).exists()


def check_workspace_member_remove(make_staff):
    a = owner()
    colleague = UserFactory()
    workspace = workspaces.workspace_create(owner=a, name="A's")
    workspace_join(workspace, a, colleague)
    url = f"/accounts/workspaces/{workspace.pk}/members/{colleague.pk}/remove/"
    assert_refused(signed_in(UserFactory()).post(url), allowed=(403,))
    assert_login_redirect(anonymous().post(url))
    # A collaborator cannot remove the owner either.
    assert signed_in(colleague).post(
        f"/accounts/workspaces/{workspace.pk}/members/{a.pk}/remove/"
    ).status_code in (302, 403)
    assert WorkspaceMember.objects.filter(workspace=workspace, user=colleague).exists()
    assert WorkspaceMember.objects.filter(workspace=workspace, user=a).exists()


def check_workspace_invitation_answer(make_staff):
    a = owner()
    invitee = UserFactory()
    workspace = workspaces.workspace_create(owner=a, name="A's")
    workspaces.workspace_member_invite(workspace=workspace, actor=a, username=invitee.username)
    invitation = WorkspaceMember.objects.get(workspace=workspace, user=invitee)
    for answer in ("accept", "decline"):
        url = f"/accounts/workspaces/invitations/{invitation.pk}/{answer}/"
        # Someone else's invitation, even the owner's own workspace: nothing changes.
        for other in (UserFactory(), a):
            signed_in(other).post(url)
        assert_login_redirect(anonymous().post(url))
    assert (
        signed_in(invitee)
        .post(f"/accounts/workspaces/invitations/{invitation.pk}/anything/")
        .status_code
        == 404
    )
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def check_collaborator_photo(make_staff):
    from accounts.services import user_photo_set

    a = owner()
    user_photo_set(user=a, upload=jpeg_upload())
    url = f"/accounts/people/{a.pk}/photo/"
    assert signed_in(a).get(url).status_code == 200
    assert_refused(signed_in(UserFactory()).get(url), allowed=(403,))
    assert_login_redirect(anonymous().get(url))


def check_integration_revoke(make_staff):
    a = owner()
    grant = integrations.integration_grant_create(
        user=a, integration="accounting", scopes=["profile"]
    )
    url = f"/accounts/integrations/{grant.pk}/revoke/"
    response = signed_in(UserFactory()).post(url)
    # The service answers "not yours" as a message on the person's own dashboard.
    assert response.status_code in (302, 403, 404)
    assert_login_redirect(anonymous().post(url))
    grant.refresh_from_db()
    assert grant.revoked_at is None
    assert IntegrationGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).exists()


def check_payment_method_delete(make_staff):
    from tests.accounts.test_payments import BILLING, card

    a = owner()
    method = payments.payment_method_add(user=a, card=card(), billing=BILLING, store_token=True)
    url = f"/accounts/payments/{method.pk}/remove/"
    response = signed_in(UserFactory()).post(url)
    assert response.status_code in (302, 403, 404)
    assert_login_redirect(anonymous().post(url))
    assert PaymentMethod.objects.filter(pk=method.pk).exists()


def check_device_remove(make_staff):
    from notifications.models import Device
    from notifications.services import device_register

    a = owner()
    device, _created = device_register(user=a, platform="apple", token="ab" * 32, name=SECRET_NAME)
    url = f"/accounts/devices/{device.pk}/remove/"
    assert_refused(signed_in(UserFactory()).post(url), allowed=(404,))
    assert_refused(signed_in(UserFactory()).get(url), allowed=(405,))
    assert_login_redirect(anonymous().post(url))
    assert Device.objects.filter(pk=device.pk, token="ab" * 32).exists()


# --- allauth's token URLs ---------------------------------------------------------------------


def check_account_confirm_email(make_staff):
    from allauth.account.models import EmailAddress

    a = UserFactory()
    EmailAddress.objects.filter(user=a).update(verified=False)
    for client in (anonymous(), signed_in(UserFactory())):
        url = f"/accounts/confirm-email/{GARBAGE}/"
        # allauth's own view: a page that says the link is invalid (404 when signed in), and
        # 404 to a POST.
        response = client.get(url)
        assert response.status_code in (200, 404)
        if response.status_code == 200:  # anonymous: the page, not a confirm button
            assert b"expired or is invalid" in response.content
            assert b"<form" not in response.content.split(b"<main", 1)[1].split(b"</main>")[0]
        assert client.post(url).status_code == 404
    assert not EmailAddress.objects.filter(user=a, verified=True).exists()


def check_account_reset_password_from_key(make_staff):
    a = UserFactory()
    before = a.password
    for client in (anonymous(), signed_in(UserFactory())):
        url = f"/accounts/password/reset/key/{a.pk}-{GARBAGE}/"
        response = client.get(url, follow=True)
        # allauth's own view: a 200 "Bad Token" page without the new-password form.
        assert response.status_code == 200
        assert b"Bad Token" in response.content
        assert b'name="password1"' not in response.content
        client.post(url, {"password1": "Another-pass-99", "password2": "Another-pass-99"})
    a.refresh_from_db()
    assert a.password == before


# --- Consent URLs -----------------------------------------------------------------------------


def check_policy_version(make_staff):
    version = PolicyVersion.objects.filter(published_at__isnull=False).first()
    for client in (anonymous(), signed_in(UserFactory())):
        if version is not None:
            assert client.get(f"/policy/{version.version}/").status_code == 200
        assert client.get("/policy/999.999/").status_code == 404
        assert client.get("/policy/..%2F..%2Fetc/").status_code == 404


def check_ccpa_public_year(make_staff):
    """Public, but only for a year an officer published: any other year is a 404 for anyone."""
    from desk.models import CcpaDisclosurePublication

    CcpaDisclosurePublication.objects.create(year=2024, rows=[])
    for client in (anonymous(), signed_in(UserFactory())):
        assert client.get("/ccpa-metrics/2024/").status_code == 200
        assert client.get("/ccpa-metrics/2023/").status_code == 404
        assert client.post("/ccpa-metrics/2024/").status_code == 405


def _token_url_refused(url, *, counts):
    before = counts()
    for client in (anonymous(), signed_in(UserFactory())):
        for method in (client.get, client.post):
            response = method(url)
            # 405: the URL takes only GET (opening the link shows a button; POST elsewhere)
            assert response.status_code in (400, 404, 405), (url, response.status_code)
            assert b"Traceback" not in response.content
    assert counts() == before


def check_preferences_link(make_staff):
    _token_url_refused(f"/preferences/link/{GARBAGE}/", counts=ConsentEvent.objects.count)


def check_unsubscribe(make_staff):
    from consent import tokens

    a = owner()
    consent_services.consent_grant(
        subject=Subject(user_id=a.pk), purpose="newsletter", method="preference_centre"
    )
    _token_url_refused(f"/unsubscribe/{GARBAGE}/", counts=ConsentEvent.objects.count)
    real = tokens.unsubscribe_token_make(subject=Subject(user_id=a.pk), purpose="newsletter")
    forged = real[:-3] + ("AAA" if not real.endswith("AAA") else "BBB")
    _token_url_refused(f"/unsubscribe/{forged}/", counts=ConsentEvent.objects.count)


def check_form_confirm(make_staff):
    _token_url_refused(
        f"/forms/confirm/{GARBAGE}/",
        counts=lambda: FormSubmission.objects.filter(confirmed_at__isnull=False).count(),
    )


def check_form(make_staff):
    for client in (anonymous(), signed_in(UserFactory())):
        assert client.get("/forms/newsletter_signup/").status_code == 200
        assert client.get("/forms/not-a-form/").status_code == 404


def check_form_thanks(make_staff):
    submission = consent_services.form_submission_create(
        kind="newsletter_signup", email="adelheid@example.com", name=SECRET_NAME, marketing=True
    )
    for client in (anonymous(), signed_in(UserFactory())):
        response = client.get(f"/forms/newsletter_signup/thanks/{submission.pk}/")
        # The number is only "pending or not": no submission is looked up or shown.
        assert response.status_code == 200
        assert SECRET_NAME.encode() not in response.content
        assert b"adelheid@example.com" not in response.content
        assert client.get(f"/forms/not-a-form/thanks/{submission.pk}/").status_code == 404


# --- Privacy request URLs ---------------------------------------------------------------------


def check_request_confirm(make_staff):
    before = DataSubjectRequest.objects.filter(verified_at__isnull=False).count()
    for client in (anonymous(), signed_in(UserFactory())):
        # GET only shows a button (mail scanners follow links); it confirms nothing.
        assert client.get(f"/privacy/requests/confirm/{GARBAGE}/").status_code == 200
        response = client.post(f"/privacy/requests/confirm/{GARBAGE}/")
        assert response.status_code == 400
    assert DataSubjectRequest.objects.filter(verified_at__isnull=False).count() == before


def _request_of(user, kind=RequestKind.ACCESS):
    request, _ = services.dsar_request_file(kind=kind, user=user)
    return request


def check_request_detail(make_staff):
    a = owner()
    request = _request_of(a)
    url = f"/privacy/requests/{request.public_id}/"
    assert signed_in(a).get(url).status_code == 200
    assert_refused(signed_in(UserFactory()).get(url), allowed=(404,))
    assert_refused(anonymous().get(url), allowed=(404,))
    assert_refused(anonymous().get(f"{url}?t={GARBAGE}"), allowed=(404,))
    assert_refused(
        signed_in(UserFactory()).get(f"/privacy/requests/{uuid.uuid4()}/"), allowed=(404,)
    )


def check_api_request_read(make_staff):
    """The API shows a request only to a client with requests:read: not to the person's own
    session, nor anonymously, nor to a client with other scopes."""
    from api.services import api_client_create

    request = _request_of(owner())
    url = f"/api/v1/requests/{request.public_id}"
    _reader, token = api_client_create(name="reader", scopes=["requests:read"])
    _other, other = api_client_create(name="other", scopes=["consent:read", "requests:write"])
    assert anonymous().get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert_refused(signed_in(request.user).get(url), allowed=(401,))
    assert_refused(anonymous().get(url), allowed=(401,))
    assert_refused(anonymous().get(url, headers={"Authorization": f"Bearer {other}"}))
    assert_refused(
        anonymous().get(url, headers={"Authorization": f"Bearer {token}x"}), allowed=(401,)
    )


def check_api_system_part_done(make_staff):
    """A connected system's part is confirmed only by the client of that system, with
    requests:confirm: not by the person's session, anonymously, another system's client or
    the system's client without the scope; nothing changes until then."""
    from api.services import api_client_create
    from datastores.models import SystemPart
    from tests.datastores.systems import webhook_system

    endpoint, _secret = services.webhook_endpoint_create(
        url="http://127.0.0.1:9/hooks", events=["request.completed"], actor=None
    )
    request = _request_of(owner(), RequestKind.ERASURE)
    part = SystemPart.objects.create(
        request=request, system=webhook_system(endpoint), kind="erasure", state="waiting"
    )
    url = f"/api/v1/requests/{request.public_id}/systems/{part.system_id}/done"
    body = {"confirmation": "Erased."}
    _, tied = api_client_create(name="crm", scopes=["requests:confirm"], system=part.system)
    _, untied = api_client_create(name="other", scopes=["requests:confirm", "requests:read"])
    _, unscoped = api_client_create(name="crm-read", scopes=["requests:read"], system=part.system)

    def post(client, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.post(url, body, content_type="application/json", headers=headers)

    assert_refused(post(signed_in(request.user)), allowed=(401,))
    assert_refused(post(anonymous()), allowed=(401,))
    assert_refused(post(anonymous(), f"{tied}x"), allowed=(401,))
    assert_refused(post(anonymous(), untied), allowed=(404,))
    assert_refused(post(anonymous(), unscoped), allowed=(403,))
    part.refresh_from_db()
    assert part.state == "waiting"
    assert post(anonymous(), tied).status_code == 200


def _webhook_endpoint_refused(rest: str, method: str):
    """A client's webhook endpoint: not to another client with webhooks:manage (404), nor a
    client without the scope, nor a session or anonymously (401); nothing changed."""
    from api.services import api_client_create, api_webhook_endpoint_create
    from dsar.models import WebhookEndpoint

    owner_client, _token = api_client_create(name="owner", scopes=["webhooks:manage"])
    endpoint, _secret = api_webhook_endpoint_create(
        client=owner_client, url="https://93.184.215.14/hooks", events=["consent.changed"]
    )
    before = (endpoint.secret_encrypted, endpoint.active)
    url = f"/api/v1/webhooks/endpoints/{endpoint.public_id}{rest}"
    _nosy, nosy = api_client_create(name="nosy", scopes=["webhooks:manage"])
    _other, other = api_client_create(name="other", scopes=["consent:read"])
    body = {}
    if method != "get":
        body = {"data": '{"description": "mine"}', "content_type": "application/json"}

    def send(url, **kwargs):
        return getattr(anonymous(), method)(url, **body, **kwargs)

    assert_refused(send(url, headers={"Authorization": f"Bearer {nosy}"}), allowed=(404,))
    assert_refused(send(url, headers={"Authorization": f"Bearer {other}"}))
    assert_refused(send(url), allowed=(401,))
    assert_refused(getattr(signed_in(UserFactory()), method)(url, **body), allowed=(401,))
    endpoint = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (endpoint.secret_encrypted, endpoint.active) == before


def check_api_webhook_endpoint(make_staff):
    _webhook_endpoint_refused("", "delete")


def check_api_webhook_endpoint_read(make_staff):
    _webhook_endpoint_refused("", "get")


def check_api_webhook_endpoint_change(make_staff):
    _webhook_endpoint_refused("", "patch")


def check_api_webhook_secret(make_staff):
    _webhook_endpoint_refused("/secret", "post")


def check_api_webhook_deliveries(make_staff):
    _webhook_endpoint_refused("/deliveries", "get")


def check_api_webhook_replay(make_staff):
    _webhook_endpoint_refused(f"/deliveries/evt_{'0' * 32}/replay", "post")


def _owner_post_refused(path, kind):
    a = owner()
    request = _request_of(a, kind)
    state = request.state
    url = f"/privacy/requests/{request.public_id}/{path}/"
    assert_refused(signed_in(UserFactory()).post(url), allowed=(404,))
    assert_refused(anonymous().post(url), allowed=(404,))
    assert_refused(anonymous().post(url, {"t": GARBAGE}), allowed=(404,))
    request.refresh_from_db()
    assert request.state == state


def check_request_withdraw(make_staff):
    _owner_post_refused("withdraw", RequestKind.ACCESS)


def check_erasure_cancel(make_staff):
    _owner_post_refused("cancel-erasure", RequestKind.ERASURE)


def _built_export(make_staff, *, release):
    a = owner()
    officer, _ = make_staff()
    request = _request_of(a, RequestKind.ACCESS)
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_assign(request=request, assignee=officer, actor=None)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    services.export_build(export_id=export.pk)
    export.refresh_from_db()
    if release:
        services.export_release(export=export, actor=officer)
    return a, request, export


def check_export_download(make_staff):
    a, _request, export = _built_export(make_staff, release=True)
    url = f"/privacy/exports/{export.public_id}/report.json"
    assert signed_in(a).get(url).status_code == 200
    downloads = AuditEvent.objects.filter(action__contains="download").count()
    assert_refused(signed_in(UserFactory()).get(url), allowed=(404,))
    assert_refused(anonymous().get(url), allowed=(404,))
    assert_refused(anonymous().get(f"{url}?t={GARBAGE}"), allowed=(404,))
    assert AuditEvent.objects.filter(action__contains="download").count() == downloads


def _transfer_to(a, email="recipient@elsewhere.example"):
    """A released portability package of A, sent to a third party's address."""
    request, _ = services.dsar_request_file(
        kind=RequestKind.PORTABILITY, user=a, recipient_email=email
    )
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    services.export_build(export_id=export.pk)
    export.refresh_from_db()
    services.export_release(export=export, actor=None)
    return request, request.transfers.get()


def check_transfer_create(make_staff):
    a = owner()
    request = _request_of(a, RequestKind.PORTABILITY)
    url = f"/privacy/requests/{request.public_id}/transfer/"
    data = {"recipient_email": "attacker@elsewhere.example"}
    assert_refused(signed_in(UserFactory()).post(url, data), allowed=(404,))
    assert_refused(anonymous().post(url, data), allowed=(404,))
    assert_refused(anonymous().post(url, {**data, "t": GARBAGE}), allowed=(404,))
    assert not request.transfers.exists()


def check_transfer_revoke(make_staff):
    a = owner()
    request, transfer = _transfer_to(a)
    url = f"/privacy/requests/{request.public_id}/transfers/{transfer.public_id}/revoke/"
    assert_refused(signed_in(UserFactory()).post(url), allowed=(404,))
    assert_refused(anonymous().post(url), allowed=(404,))
    assert_refused(anonymous().post(url, {"t": GARBAGE}), allowed=(404,))
    # Another person's own request does not reach A's transfer either.
    b = UserFactory()
    b_request = _request_of(b, RequestKind.PORTABILITY)
    other = f"/privacy/requests/{b_request.public_id}/transfers/{transfer.public_id}/revoke/"
    signed_in(b).post(other)
    transfer.refresh_from_db()
    assert transfer.state == "sent"


def check_transfer_download(make_staff):
    a = owner()
    _request, transfer = _transfer_to(a)
    for client in (anonymous(), signed_in(UserFactory()), signed_in(a)):
        for method in ("get", "post"):
            response = getattr(client, method)(f"/privacy/transfers/{GARBAGE}/")
            assert_refused(response, allowed=(404,))
            assert response["Content-Type"].startswith("text/html")
            assert b"manifest.json" not in response.content
    transfer.refresh_from_db()
    assert transfer.state == "sent" and transfer.received_at is None


def _device_of_a():
    from notifications.services import device_register

    return device_register(user=owner(), platform="google", token="g" * 90, name=SECRET_NAME)[0]


def check_admin_device_change(make_staff):
    _admin_refused(make_staff, f"/admin/notifications/device/{_device_of_a().pk}/change/")


def check_admin_testmodepush_change(make_staff):
    from notifications.models import TestModePush

    device = _device_of_a()
    push = TestModePush.objects.create(
        device=device,
        user=device.user,
        platform="google",
        purpose="newsletter",
        title=SECRET_NAME,
        body="x",
    )
    _admin_refused(make_staff, f"/admin/notifications/testmodepush/{push.pk}/change/")


# --- Staff side (our admin views and overrides) -----------------------------------------------


def _admin_refused(make_staff, url, *, method="get", audited_as=None, public_data=False):
    """Anonymous and a signed-in customer go to the login page; Support without a window is
    refused (403, or sent away), and where the app audits refusals the refusal is recorded."""
    assert_login_redirect(getattr(anonymous(), method)(url), login="/admin/login/")
    assert_login_redirect(getattr(signed_in(UserFactory()), method)(url), login="/admin/login/")
    client, staff = support_without_window(make_staff)
    refused_before = AuditEvent.objects.filter(action="staff_access_refused").count()
    response = getattr(client, method)(url)
    if public_data:  # the published policy text is public: Support may read it, not change it
        assert response.status_code in (200, 302, 403), (url, response.status_code)
        return client
    assert response.status_code in (302, 403, 404), (url, response.status_code)
    if response.status_code == 302:
        assert not response["Location"].startswith(url)
    assert SECRET_NAME.encode() not in response.content
    if audited_as is not None:
        refused = AuditEvent.objects.filter(action="staff_access_refused", actor=staff)
        assert refused.count() == refused_before + 1
        assert refused.latest("pk").subject_ref == audited_as
    return client


def check_admin_user_change(make_staff):
    a = owner()
    _admin_refused(make_staff, f"/admin/accounts/user/{a.pk}/change/", audited_as=f"user:{a.pk}")


def check_admin_user_history(make_staff):
    a = owner()
    _admin_refused(make_staff, f"/admin/accounts/user/{a.pk}/history/", audited_as=f"user:{a.pk}")


def check_admin_processingactivity_history(make_staff):
    """Who edited the records of processing: privacy officers only (the rows hold no customer's
    data, but the history names the officers)."""
    from dsar.models import ProcessingActivity

    activity = ProcessingActivity.objects.get(code="billing")
    _admin_refused(make_staff, f"/admin/dsar/processingactivity/{activity.pk}/history/")


def check_admin_workspace_change(make_staff):
    a = owner()
    workspace = workspaces.workspace_create(owner=a, name=SECRET_NAME)
    _admin_refused(
        make_staff,
        f"/admin/accounts/workspace/{workspace.pk}/change/",
        audited_as=f"user:{a.pk}",
    )


def check_admin_workspace_history(make_staff):
    a = owner()
    workspace = workspaces.workspace_create(owner=a, name=SECRET_NAME)
    _admin_refused(
        make_staff,
        f"/admin/accounts/workspace/{workspace.pk}/history/",
        audited_as=f"user:{a.pk}",
    )


def check_admin_testimonial_change(make_staff):
    a = owner()
    testimonial = testimonials.testimonial_write(
        user=a, text="Workpex keeps my data tidy and safe.", display_name=SECRET_NAME
    )
    _admin_refused(make_staff, f"/admin/accounts/testimonial/{testimonial.pk}/change/")


def check_admin_childdatareport_change(make_staff):
    report = child_report_submit(reporter_email="parent@example.com", child_name=SECRET_NAME)
    _admin_refused(make_staff, f"/admin/accounts/childdatareport/{report.pk}/change/")


def check_admin_dsar_change(make_staff):
    request = _request_of(owner())
    _admin_refused(make_staff, f"/admin/dsar/datasubjectrequest/{request.pk}/change/")


def check_admin_dsar_act(make_staff):
    request = _request_of(owner())
    state = request.state
    _admin_refused(make_staff, f"/admin/dsar/datasubjectrequest/{request.pk}/act/", method="post")
    request.refresh_from_db()
    assert request.state == state


def check_admin_dsar_export_review(make_staff):
    _a, request, export = _built_export(make_staff, release=False)
    url = f"/admin/dsar/datasubjectrequest/{request.pk}/exports/{export.pk}/report.json"
    # Support sees only requests assigned to them: this one does not exist for them (404).
    _admin_refused(make_staff, url)
    # An officer who is not the assignee is refused, and the refusal is audited.
    officer, secret = make_staff()
    client = Client()
    login_with_totp(client, officer, secret)
    assert client.get(url).status_code == 403
    assert AuditEvent.objects.filter(action="export_download_refused", actor=officer).exists()


def check_admin_consentevent_change(make_staff):
    event = consent_services.consent_grant(
        subject=Subject(user_id=owner().pk), purpose="newsletter", method="preference_centre"
    )
    _admin_refused(make_staff, f"/admin/consent/consentevent/{event.pk}/change/")


def check_admin_formsubmission_change(make_staff):
    submission = consent_services.form_submission_create(
        kind="newsletter_signup", email="adelheid@example.com", name=SECRET_NAME
    )
    _admin_refused(make_staff, f"/admin/consent/formsubmission/{submission.pk}/change/")


def check_admin_policyversion_change(make_staff):
    version = PolicyVersion.objects.first()
    text = version.text if hasattr(version, "text") else None
    client = _admin_refused(
        make_staff, f"/admin/consent/policyversion/{version.pk}/change/", public_data=True
    )
    client.post(f"/admin/consent/policyversion/{version.pk}/change/", {"version": "666"})
    version.refresh_from_db()
    assert version.version != "666"
    assert text is None or version.text == text


def check_admin_policyversion_publish(make_staff):
    version = PolicyVersion.objects.order_by("-pk").first()
    published = version.published_at
    _admin_refused(make_staff, f"/admin/consent/policyversion/{version.pk}/publish/", method="post")
    version.refresh_from_db()
    assert version.published_at == published


def check_admin_webhookendpoint_rotate(make_staff):
    from dsar import services as dsar_services
    from dsar.models import WebhookEndpoint

    endpoint, _secret = dsar_services.webhook_endpoint_create(
        url="https://93.184.215.14/hooks", events=["consent.changed"], actor=None
    )
    before = endpoint.secret_encrypted
    _admin_refused(
        make_staff, f"/admin/dsar/webhookendpoint/{endpoint.pk}/new-secret/", method="post"
    )
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret_encrypted == before


# --- Manual review (the owner's page and the reviewers' admin) ------------------------------------


def _review_items(a):
    from review import services as review
    from tests.review.test_review import png_upload

    workspace = workspaces.workspace_create(owner=a, name="A's")
    spam = review.spam_report_create(
        workspace=workspace, reporter=a, sender="", subject_line="", body=SECRET_NAME
    )
    scan = review.scan_submit(
        workspace=workspace, uploader=a, upload=png_upload(), recognised_text=SECRET_NAME
    )
    return workspace, spam, scan


def check_review_workspace_reviews(make_staff):
    from review.models import SpamReview

    a = owner()
    workspace, _spam, _scan = _review_items(a)
    url = f"/accounts/workspaces/{workspace.pk}/review/"
    assert signed_in(a).get(url).status_code == 200
    b = signed_in(UserFactory())
    assert_refused(b.get(url), allowed=(403,))
    assert_refused(b.post(url, {"action": "spam", "spam-body": "x"}), allowed=(403,))
    assert_login_redirect(anonymous().get(url))
    assert SpamReview.objects.count() == 1


def _review_admin_refused(make_staff, url_of, *, method="get"):
    """Support without the role, and a reviewer the item is not assigned to: refused, audited
    against the owner, and the item is unchanged."""
    from review.models import ReviewState

    a = owner()
    _workspace, spam, scan = _review_items(a)
    for item in (spam, scan):
        url = url_of(item)
        if url is None:
            continue
        _admin_refused(make_staff, url, method=method)
        reviewer, secret = make_staff("Reviewer")
        client = Client()
        login_with_totp(client, reviewer, secret)
        response = getattr(client, method)(url)
        assert_refused(response, allowed=(403,))
        refused = AuditEvent.objects.filter(action="staff_review_refused", actor=reviewer).get()
        assert refused.subject_ref == f"user:{a.pk}"
        item.refresh_from_db()
        assert item.state == ReviewState.WAITING


def _review_url(model, suffix):
    return lambda item: (
        f"/admin/review/{model}/{item.pk}/{suffix}/" if item._meta.model_name == model else None
    )


def check_admin_review_spam_change(make_staff):
    _review_admin_refused(make_staff, _review_url("spamreview", "change"))


def check_admin_review_scan_change(make_staff):
    _review_admin_refused(make_staff, _review_url("scanreview", "change"))


def check_admin_review_scan_image(make_staff):
    _review_admin_refused(make_staff, _review_url("scanreview", "image"))


def check_admin_review_spam_decide(make_staff):
    _review_admin_refused(make_staff, _review_url("spamreview", "decide"), method="post")


def check_admin_review_scan_decide(make_staff):
    _review_admin_refused(make_staff, _review_url("scanreview", "decide"), method="post")


def _review_release_refused(make_staff, model):
    from review import services as review
    from review.models import ReviewState

    _workspace, spam, scan = _review_items(owner())
    item = spam if model == "spamreview" else scan
    rita, _secret = make_staff("Reviewer")
    review.review_item_assign(item=item, reviewer=rita, purpose="Checking the item, ticket R-1.")
    url = f"/admin/review/{model}/{item.pk}/release/"
    _admin_refused(make_staff, url, method="post")
    other, secret = make_staff("Reviewer")
    client = Client()
    login_with_totp(client, other, secret)
    client.post(url)
    item.refresh_from_db()
    assert (item.state, item.assignee_id) == (ReviewState.ASSIGNED, rita.pk)


def check_admin_review_spam_release(make_staff):
    _review_release_refused(make_staff, "spamreview")


def check_admin_review_scan_release(make_staff):
    _review_release_refused(make_staff, "scanreview")


CHECKS = {
    "account_confirm_email": check_account_confirm_email,
    "account_reset_password_from_key": check_account_reset_password_from_key,
    "accounts:workspace_detail": check_workspace_detail,
    "accounts:workspace_record_delete": check_workspace_record_delete,
    "accounts:workspace_member_remove": check_workspace_member_remove,
    "accounts:collaborator_photo": check_collaborator_photo,
    "accounts:integration_revoke": check_integration_revoke,
    "accounts:payment_method_delete": check_payment_method_delete,
    "notifications:device_remove": check_device_remove,
    "admin:notifications_device_change": check_admin_device_change,
    "admin:notifications_testmodepush_change": check_admin_testmodepush_change,
    "consent:policy_version": check_policy_version,
    "ccpa_public:year": check_ccpa_public_year,
    "consent:preferences_link": check_preferences_link,
    "consent:unsubscribe": check_unsubscribe,
    "consent:form_confirm": check_form_confirm,
    "consent:form": check_form,
    "consent:form_thanks": check_form_thanks,
    "dsar:request_confirm": check_request_confirm,
    "dsar:request_detail": check_request_detail,
    "api-v1:request_read": check_api_request_read,
    "api-v1:system_part_done": check_api_system_part_done,
    "api-v1:webhook_endpoint_read": check_api_webhook_endpoint_read,
    "api-v1:webhook_endpoint_change": check_api_webhook_endpoint_change,
    "api-v1:webhook_endpoint_switch_off": check_api_webhook_endpoint,
    "api-v1:webhook_endpoint_secret_rotate": check_api_webhook_secret,
    "api-v1:webhook_deliveries_list": check_api_webhook_deliveries,
    "api-v1:webhook_delivery_replay": check_api_webhook_replay,
    "dsar:request_withdraw": check_request_withdraw,
    "dsar:erasure_cancel": check_erasure_cancel,
    "dsar:export_download": check_export_download,
    "dsar:transfer_create": check_transfer_create,
    "dsar:transfer_revoke": check_transfer_revoke,
    "dsar:transfer_download": check_transfer_download,
    "admin:accounts_user_change": check_admin_user_change,
    "admin:accounts_user_history": check_admin_user_history,
    "admin:accounts_workspace_change": check_admin_workspace_change,
    "admin:accounts_workspace_history": check_admin_workspace_history,
    "admin:dsar_processingactivity_history": check_admin_processingactivity_history,
    "admin:accounts_testimonial_change": check_admin_testimonial_change,
    "admin:accounts_childdatareport_change": check_admin_childdatareport_change,
    "admin:dsar_datasubjectrequest_change": check_admin_dsar_change,
    "admin:dsar_datasubjectrequest_act": check_admin_dsar_act,
    "admin:dsar_export_review": check_admin_dsar_export_review,
    "admin:consent_consentevent_change": check_admin_consentevent_change,
    "admin:consent_formsubmission_change": check_admin_formsubmission_change,
    "admin:consent_policyversion_change": check_admin_policyversion_change,
    "admin:consent_policyversion_publish": check_admin_policyversion_publish,
    "admin:dsar_webhookendpoint_rotate": check_admin_webhookendpoint_rotate,
    "review:workspace_reviews": check_review_workspace_reviews,
    "admin:review_spamreview_change": check_admin_review_spam_change,
    "admin:review_scanreview_change": check_admin_review_scan_change,
    "admin:review_scanreview_image": check_admin_review_scan_image,
    "admin:review_spamreview_decide": check_admin_review_spam_decide,
    "admin:review_scanreview_decide": check_admin_review_scan_decide,
    "admin:review_spamreview_release": check_admin_review_spam_release,
    "admin:review_scanreview_release": check_admin_review_scan_release,
    "accounts:workspace_invitation_answer": check_workspace_invitation_answer,
}


def test_every_parameterised_url_has_an_access_check():
    found = parameterised_patterns()
    missing = sorted(set(found) - set(CHECKS) - gate_checked())
    stale = sorted(set(CHECKS) - set(found))
    assert not missing, "URLs with an id or token but no access test in CHECKS: " + ", ".join(
        f"{name} ({found[name]})" for name in missing
    )
    assert not stale, "CHECKS names URLs that no longer exist: " + ", ".join(stale)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_url_refuses_other_people(name, make_staff):
    CHECKS[name](make_staff)
