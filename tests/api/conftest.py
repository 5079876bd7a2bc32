import pytest

from api import services
from api.models import Scope
from tests.consent.conftest import partners  # noqa: F401  (the reselling partners fixture)
from tests.datastores.conftest import sqlite_url  # noqa: F401  (a second database, in a file)
from tests.dsar.test_webhooks import deliver_now, down  # noqa: F401  (delivery fixtures)
from tests.dsar.webhook_receiver import receiver  # noqa: F401  (a receiving system that is up)


@pytest.fixture
def make_client(db):
    """An API client with the given scopes (and the connected system it confirms for);
    returns (client, token)."""

    def make(*scopes: str, name: str | None = None, rate_limit: str = "", system=None):
        make.count += 1
        return services.api_client_create(
            name=name or f"system {make.count}",
            scopes=list(scopes),
            rate_limit=rate_limit,
            system=system,
        )

    make.count = 0
    return make


@pytest.fixture
def call(client):
    """`call(token, method, path, json=...)`: a request to /api/v1/ with the token."""

    def send(token: str | None, method: str, path: str, json=None, **query):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = f"/api/v1{path}"
        if method == "get":
            return client.get(url, query, headers=headers)
        return getattr(client, method)(url, json, content_type="application/json", headers=headers)

    return send


@pytest.fixture
def reader(make_client):
    return make_client(Scope.CONSENT_READ)[1]


@pytest.fixture
def writer(make_client):
    return make_client(Scope.CONSENT_READ, Scope.CONSENT_WRITE)[1]


def problem(response, status: int) -> dict:
    """The response is an RFC 9457 problem with this status."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body
