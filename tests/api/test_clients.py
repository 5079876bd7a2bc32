"""API clients: tokens shown once and kept hashed, rotation with an overlap, authentication,
the officers' admin and the management command."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from api import services
from api.models import ApiClient, Scope
from dsar.models import AuditEvent

from .conftest import problem

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"wpx_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


def test_a_new_client_keeps_only_the_hash_of_its_secret(make_client):
    client, token = make_client(Scope.CONSENT_READ)
    assert TOKEN.fullmatch(token)
    secret = token.split("_", 2)[2]
    stored = ApiClient.objects.get(pk=client.pk)
    assert secret not in str(stored.__dict__)
    assert len(stored.secret_hash) == 64
    assert services.api_client_authenticate(token) == client
    assert AuditEvent.objects.filter(action="api_client_created", object_id=str(client.pk)).exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character of the secret
        lambda t: t.replace("wpx_", "wpy_"),
        lambda t: t.rsplit("_", 1)[0],  # no secret
        lambda t: "wpx_" + "0" * 16 + t[20:],  # another client's id
        lambda t: "",
    ],
)
def test_a_wrong_token_is_no_client(make_client, mangle):
    _client, token = make_client(Scope.CONSENT_READ)
    assert services.api_client_authenticate(mangle(token)) is None


def test_rotation_keeps_the_old_secret_for_the_overlap_only(make_client):
    client, old = make_client(Scope.CONSENT_READ)
    new = services.api_client_rotate(client=client, overlap=timedelta(hours=2))
    assert new != old
    assert services.api_client_authenticate(new) == client
    assert services.api_client_authenticate(old) == client  # inside the overlap
    ApiClient.objects.filter(pk=client.pk).update(
        previous_valid_until=timezone.now() - timedelta(seconds=1)
    )
    assert services.api_client_authenticate(old) is None
    assert services.api_client_authenticate(new) == client
    # A second rotation ends the first secret for good, whatever the overlap.
    newest = services.api_client_rotate(client=client)
    assert services.api_client_authenticate(old) is None
    assert services.api_client_authenticate(new) == client
    assert services.api_client_authenticate(newest) == client


def test_an_inactive_client_is_refused(make_client, call):
    client, token = make_client(Scope.CONSENT_READ)
    client.is_active = False
    services.api_client_update(client=client)
    problem(call(token, "get", "/contact", purpose="newsletter", user_id=1), 401)


def test_no_token_and_a_bad_token_are_401(call, reader):
    problem(call(None, "get", "/contact", purpose="newsletter", user_id=1), 401)
    response = call(reader + "x", "get", "/contact", purpose="newsletter", user_id=1)
    problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_scopes_and_rates_are_refused_with_the_reason(make_client):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Unknown scope"):
        make_client("consent:everything")
    with pytest.raises(ValidationError, match="amount/period"):
        make_client(Scope.CONSENT_READ, rate_limit="lots")
    assert not ApiClient.objects.exists()


def test_each_client_has_its_own_rate(make_client, call):
    _slow, slow_token = make_client(Scope.CONSENT_READ, rate_limit="2/m")
    _other, other_token = make_client(Scope.CONSENT_READ, rate_limit="2/m")
    ask = {"purpose": "newsletter", "user_id": 1}
    assert call(slow_token, "get", "/contact", **ask).status_code == 200
    assert call(slow_token, "get", "/contact", **ask).status_code == 200
    refused = call(slow_token, "get", "/contact", **ask)
    problem(refused, 429)
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert call(other_token, "get", "/contact", **ask).status_code == 200


def test_the_command_prints_a_token_that_works(capsys, db):
    call_command("api_client_create", name="crm", scopes="consent:read,requests:read")
    out = capsys.readouterr().out
    token = TOKEN.search(out).group(0)
    client = services.api_client_authenticate(token)
    assert client.name == "crm" and client.scopes == ["consent:read", "requests:read"]


def test_the_command_refuses_an_unknown_scope(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("api_client_create", name="crm", scopes="consent:all")


# --- The admin: privacy officers only --------------------------------------------------------


def test_an_officer_creates_a_client_and_sees_the_token_once(officer_client):
    response = officer_client.post(
        "/admin/api/apiclient/add/",
        {
            "name": "CRM",
            "scopes": ["consent:read", "requests:write"],
            "rate_limit": "100/m",
            "is_active": "on",
        },
    )
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    token = TOKEN.search(response.content.decode()).group(0)
    client = services.api_client_authenticate(token)
    assert client.name == "CRM" and client.scopes == ["consent:read", "requests:write"]
    assert client.rate_limit == "100/m"
    assert AuditEvent.objects.filter(
        action="api_client_created", actor=officer_client.officer
    ).exists()
    page = officer_client.get(f"/admin/api/apiclient/{client.pk}/change/").content.decode()
    assert token not in page and token.split("_", 2)[2] not in page


def test_an_officer_rotates_a_secret_from_the_list(officer_client, make_client):
    client, old = make_client(Scope.CONSENT_READ)
    response = officer_client.post(
        "/admin/api/apiclient/",
        {"action": "rotate_secret", "_selected_action": [client.pk]},
    )
    assert response.status_code == 200
    new = TOKEN.search(response.content.decode()).group(0)
    assert new != old
    assert services.api_client_authenticate(new) == client
    assert services.api_client_authenticate(old) == client  # 24 hours of overlap
    client.refresh_from_db()
    assert client.previous_valid_until > timezone.now() + timedelta(hours=23)


def test_support_staff_do_not_see_api_clients(support, client, make_client):
    make_client(Scope.CONSENT_READ)
    assert client.get("/admin/api/apiclient/").status_code == 403
    assert client.get("/admin/api/apiclient/add/").status_code == 403


def test_the_docs_are_for_staff_and_the_schema_is_public(client, officer_client):
    from django.test import Client

    anonymous = Client()
    schema = anonymous.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.1")
    assert anonymous.get("/api/v1/docs").status_code == 302  # to the login
    docs = officer_client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert "script-src 'self'" in docs["Content-Security-Policy"]
