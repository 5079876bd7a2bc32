"""Never a 500 from input that is not a form: JSON bodies, URL path segments and admin query
strings. JSON is size- and depth-limited before it is used (400 with a message that says why);
ids in paths and query strings that are not ids are simply not found."""

import json

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp
from tests.fuzzing import FUZZ_SETTINGS, encode

pytestmark = pytest.mark.django_db

# The clients are only read between examples (no state carries over that matters here).
FUZZ_WITH_CLIENT = settings(
    FUZZ_SETTINGS,
    suppress_health_check=[
        *FUZZ_SETTINGS.suppress_health_check,
        HealthCheck.function_scoped_fixture,
    ],
)

JSON_ENDPOINTS = ["/analytics/page-view/", "/api/push/devices/", "/api/push/devices/sign-out/"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)


def nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


@pytest.fixture
def json_client(user):
    """Signed in (the push endpoints need it) and with the analytics cookie anyone can set."""
    client = Client()
    client.force_login(user)
    client.post("/cookies/", {"choice": "accept_all"})
    return client


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize(
    "body, message",
    [
        (nested(1000), "not valid JSON"),  # deeper than the parser goes
        (b'{"a": ' + nested(50) + b"}", "nested too deeply"),
        (json.dumps({"path": "x" * 20_000}).encode(), "too large"),
        (b"[1, 2]", "must be a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_hostile_json_bodies_get_a_clear_400(json_client, path, body, message):
    response = json_client.post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@FUZZ_WITH_CLIENT
@given(value=json_values)
def test_any_json_document_is_answered_without_a_server_error(json_client, path, value):
    response = json_client.post(path, json.dumps(value), content_type="application/json")
    assert response.status_code < 500


def test_a_policy_version_of_4301_digits_is_not_found(user_client):
    response = user_client.post("/policy/acknowledge/", {"version": "9" * 4301}, follow=True)
    assert response.status_code == 200
    assert "That policy version does not exist." in response.content.decode()


@pytest.fixture
def officer_client(make_staff):
    officer, secret = make_staff("Privacy officer")
    client = Client()
    login_with_totp(client, officer, secret)
    return client


def admin_models():
    return [model for model in apps.get_models() if admin.site.is_registered(model)]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("segment", ["²", "٣", "-1", "9" * 40, "%00", "a b", "1e309"])
def test_admin_change_pages_answer_any_id_without_a_server_error(officer_client, segment):
    UserFactory()
    for model in admin_models():
        url = admin_url(model, "change", "0").replace("/0/change/", f"/{segment}/change/")
        response = officer_client.get(url)
        assert response.status_code < 500, (url, response.status_code)


def test_a_nul_in_a_query_string_gets_the_plain_400_page(officer_client):
    response = officer_client.get("/admin/dsar/datasubjectrequest/", {"q": "a\x00b"})
    assert response.status_code == 400


QUERY_VALUES = [
    "",
    "\ud800",  # a lone surrogate: invalid UTF-8 in the URL
    "²",  # isdigit() yes, int() no
    "٣",
    "9" * 40,
    "-1",
    "1e309",
    "'; DROP TABLE accounts_user; --",
    "<script>alert(1)</script>",
    "😀" * 300,
    "-id__foo",
]


@pytest.mark.parametrize("value", QUERY_VALUES)
def test_admin_lists_answer_any_query_string_without_a_server_error(officer_client, value):
    # Every list's search, ordering, page, subject filter and a lookup at once.
    query = encode(dict.fromkeys(("q", "o", "p", "subject", "state", "id__exact"), value))
    for model in admin_models():
        response = officer_client.get(f"{admin_url(model, 'changelist')}?{query.decode()}")
        assert response.status_code < 500, (model, value, response.status_code)
