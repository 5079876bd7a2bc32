"""Webhook subscriptions through the API (scope webhooks:manage): a client subscribes its own
endpoints, sees the secret once, changes, rotates and switches them off, and follows and
replays their deliveries, through the dsar services the admin uses. A real receiver on
127.0.0.1 verifies every delivery with the `standardwebhooks` library."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from api.admin import webhook_endpoint_owner
from api.models import ClientWebhookEndpoint, Scope
from consent.services import consent_grant
from dsar import services as dsar_services
from dsar.models import AuditEvent, WebhookDelivery, WebhookEndpoint, WebhookEvent
from dsar.registry import Subject
from dsar.webhooks import secret_decrypt

from .conftest import problem

pytestmark = pytest.mark.django_db

ENDPOINTS = "/webhooks/endpoints"
PUBLIC = "https://93.184.215.14/hooks"  # a public address the check needs no name lookup for


@pytest.fixture
def manager(make_client):
    """(client, token) of a system with webhooks:manage."""
    return make_client(Scope.WEBHOOKS_MANAGE, name="CRM")


@pytest.fixture
def token(manager):
    return manager[1]


def subscribe(call, token, url="https://crm.example.com/hooks", events=("consent.changed",)):
    response = call(token, "post", ENDPOINTS, json={"url": url, "events": list(events)})
    assert response.status_code == 201, response.content
    return response


def subscribed(call, token, receiver, *events) -> WebhookEndpoint:
    """An endpoint of the client's for the receiver, the receiver holding its secret."""
    body = subscribe(call, token, receiver.url, events or ("consent.changed",)).json()
    receiver.secret = body["secret"]
    return WebhookEndpoint.objects.get(public_id=body["endpoint"]["id"])


def grant(user, purpose="newsletter"):
    return consent_grant(
        subject=Subject(user_id=user.pk), purpose=purpose, method="preference_centre"
    )


def path(endpoint, rest="") -> str:
    return f"{ENDPOINTS}/{endpoint.public_id}{rest}"


# --- Subscribing, and the secret shown once ------------------------------------------------------


def test_a_client_subscribes_and_sees_the_secret_in_that_answer_only(call, manager, token):
    client, _token = manager
    response = call(
        token,
        "post",
        ENDPOINTS,
        json={
            "url": "https://crm.example.com/hooks",
            "events": ["erasure.done", "consent.changed"],
            "description": "CRM",
        },
    )
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get(public_id=body["endpoint"]["id"])
    assert secret_decrypt(endpoint.secret_encrypted) == secret
    assert body["endpoint"] == {
        "id": str(endpoint.public_id),
        "url": "https://crm.example.com/hooks",
        "description": "CRM",
        "events": ["consent.changed", "erasure.done"],  # the list's order, as in the admin
        "active": True,
        "created_at": body["endpoint"]["created_at"],
        "secret_rotated_at": None,
    }
    assert ClientWebhookEndpoint.objects.get(endpoint=endpoint).client == client

    read = call(token, "get", path(endpoint))
    assert read.status_code == 200 and read.json() == body["endpoint"]
    listed = call(token, "get", ENDPOINTS)
    assert listed.json() == {"items": [body["endpoint"]], "count": 1}
    for answer in (read, listed):
        assert secret not in answer.content.decode() and "secret" not in answer.json()

    audited = AuditEvent.objects.filter(action__startswith="api_webhook").order_by("pk")
    assert [e.action for e in audited] == [
        "api_webhook_endpoint_created",
        "api_webhook_endpoint_read",
        "api_webhook_endpoints_listed",
    ]
    assert all(e.detail["client"] == client.client_id for e in audited)
    assert audited[0].object_id == str(endpoint.pk)
    # The dsar service wrote its own row, as when an officer subscribes one.
    assert AuditEvent.objects.filter(action="webhook_endpoint_created").count() == 1


def test_a_subscribed_system_gets_signed_events_and_a_rotated_secret_signs_from_then_on(
    call, token, receiver, user, deliver_now
):
    endpoint = subscribed(call, token, receiver)
    old = receiver.secret
    deliver_now(lambda: grant(user))
    assert list(receiver.events) == [WebhookEvent.objects.get().message_id]  # verified

    rotated = call(token, "post", path(endpoint, "/secret"))
    assert rotated.status_code == 200, rotated.content
    assert rotated["Cache-Control"] == "no-store"
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old
    assert rotated.json()["endpoint"]["secret_rotated_at"] is not None
    endpoint.refresh_from_db()
    assert secret_decrypt(endpoint.secret_encrypted) == new
    assert new not in call(token, "get", path(endpoint)).content.decode()

    deliver_now(lambda: grant(user, "product_updates"))
    assert receiver.refused == 1  # the old secret no longer verifies
    receiver.secret = new
    deliver_now(lambda: grant(user, "events"))
    assert len(receiver.events) == 2  # verified with the new one
    assert AuditEvent.objects.filter(action="api_webhook_secret_rotated").count() == 1


# --- Changing and switching off ---------------------------------------------------------------


def test_a_change_sets_only_what_is_given(call, token):
    subscribe(call, token)
    endpoint = WebhookEndpoint.objects.get()
    response = call(
        token,
        "patch",
        path(endpoint),
        json={"events": ["request.filed", "consent.changed"], "description": "CRM (EU)"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["events"] == ["consent.changed", "request.filed"]
    assert (body["description"], body["url"], body["active"]) == (
        "CRM (EU)",
        "https://crm.example.com/hooks",
        True,
    )
    endpoint.refresh_from_db()
    assert endpoint.description == "CRM (EU)" and "request.filed" in endpoint.events
    audited = AuditEvent.objects.get(action="api_webhook_endpoint_changed")
    assert audited.detail["changed"] == ["description", "events"]

    off = call(token, "patch", path(endpoint), json={"active": False})
    assert off.json()["active"] is False
    on = call(token, "patch", path(endpoint), json={"active": True, "url": "https://b.example/h"})
    assert (on.json()["active"], on.json()["url"]) == (True, "https://b.example/h")


def test_switching_off_stops_new_deliveries_and_keeps_the_endpoint(
    call, token, receiver, user, deliver_now
):
    endpoint = subscribed(call, token, receiver)
    response = call(token, "delete", path(endpoint))
    assert response.status_code == 204 and response.content == b""
    endpoint.refresh_from_db()
    assert endpoint.active is False  # switched off, not deleted (as in the admin)

    deliver_now(lambda: grant(user))
    assert not WebhookDelivery.objects.exists() and receiver.arrivals == []
    assert call(token, "get", path(endpoint)).json()["active"] is False
    assert call(token, "delete", path(endpoint)).status_code == 204  # a repeat: the same
    assert AuditEvent.objects.filter(action="webhook_endpoint_switched_off").count() == 1
    assert AuditEvent.objects.filter(action="api_webhook_endpoint_switched_off").count() == 2


def test_a_switched_off_endpoint_gets_no_more_deliveries_while_the_others_do(
    call, make_client, token, receiver, down, user, deliver_now, settings
):
    """Switched off through the API: no new delivery is made for it, the retry it had waiting
    is never sent (not by the sweep, not by a late message, not by a replay), and another
    client's endpoint for the same events goes on getting them."""
    settings.DSAR_WEBHOOK_BACKOFF_SECONDS = 0
    mine = subscribed(call, token, down)  # down: its first try fails, a retry waits
    theirs = subscribed(call, make_client(Scope.WEBHOOKS_MANAGE, name="ERP")[1], receiver)
    deliver_now(lambda: grant(user))
    first = WebhookEvent.objects.get()
    waiting = WebhookDelivery.objects.get(endpoint=mine)
    assert (waiting.state, waiting.tries) == ("pending", 1)
    assert receiver.arrivals == [first.message_id]

    assert call(token, "delete", path(mine)).status_code == 204
    down.start()  # the system is back: still nothing may reach it
    assert dsar_services.webhook_deliveries_sweep() == 0
    assert dsar_services.webhook_deliver(delivery_id=waiting.pk) is False  # a late message
    replayed = problem(
        call(token, "post", path(mine, f"/deliveries/{first.message_id}/replay")), 409
    )
    assert "switched off" in replayed["detail"]

    deliver_now(lambda: grant(user, "product_updates"))
    second = WebhookEvent.objects.exclude(pk=first.pk).get()
    assert down.arrivals == [] and down.raw == []  # not one request reached it
    assert list(WebhookDelivery.objects.filter(endpoint=mine)) == [waiting]  # none made since
    waiting.refresh_from_db()
    assert (waiting.state, waiting.tries) == ("pending", 1)  # never tried again
    assert receiver.arrivals == [first.message_id, second.message_id]  # the other goes on
    assert WebhookDelivery.objects.get(endpoint=theirs, event=second).state == "delivered"

    # Switched on again, it gets what happens from then on.
    on = call(token, "patch", path(mine), json={"active": True})
    assert on.status_code == 200 and on.json()["active"] is True
    deliver_now(lambda: grant(user, "events"))
    third = WebhookEvent.objects.order_by("-pk").first()
    assert down.arrivals == [third.message_id]


def test_another_client_cannot_see_or_switch_off_an_endpoint_it_does_not_own(
    call, make_client, token, receiver, user, deliver_now
):
    endpoint = subscribed(call, token, receiver)
    _nosy_client, nosy = make_client(Scope.WEBHOOKS_MANAGE, name="Nosy")
    for method in ("delete", "get"):
        refused = problem(call(nosy, method, path(endpoint)), 404)
        assert refused["detail"] == "There is no webhook endpoint of this client with this id."
    endpoint.refresh_from_db()
    assert endpoint.active is True
    assert not AuditEvent.objects.filter(action__endswith="switched_off").exists()
    assert AuditEvent.objects.filter(action="api_call_refused").count() == 2

    deliver_now(lambda: grant(user))
    assert receiver.arrivals == [WebhookEvent.objects.get().message_id]  # still delivered
    assert call(token, "get", path(endpoint)).json()["active"] is True


def test_what_waited_for_a_switched_off_endpoint_goes_on(call, token, down, deliver_now):
    """An event the endpoint never acknowledged is awaited no more (as an erasure would be)."""
    endpoint = subscribed(call, token, down, "consent.changed")
    deliver_now(lambda: dsar_services.webhook_emit(type="consent.changed", data={}))
    event = WebhookEvent.objects.get()
    WebhookEvent.objects.filter(pk=event.pk).update(subject_email="someone@example.com")
    call(token, "delete", path(endpoint))
    event.refresh_from_db()
    assert event.subject_email == ""  # every system still subscribed has it: address dropped


# --- Deliveries and replay ---------------------------------------------------------------------


def test_deliveries_are_listed_newest_first_with_their_state(
    call, token, down, user, deliver_now, settings
):
    settings.DSAR_WEBHOOK_BACKOFF_SECONDS = 0
    endpoint = subscribed(call, token, down)
    for purpose in ("newsletter", "product_updates", "events"):
        deliver_now(lambda purpose=purpose: grant(user, purpose))
    down.answer = 503
    down.start()
    dsar_services.webhook_deliveries_sweep()
    events = list(WebhookEvent.objects.order_by("-occurred_at", "-pk"))

    response = call(token, "get", path(endpoint, "/deliveries"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    assert [d["event_id"] for d in body["items"]] == [e.message_id for e in events]
    first = body["items"][0]
    assert (first["event_type"], first["state"], first["tries"], first["last_status_code"]) == (
        "consent.changed",
        "pending",
        2,
        503,
    )
    assert first["next_try_at"] is not None and first["delivered_at"] is None
    assert first["status"] and first["last_error"]

    page = call(token, "get", path(endpoint, "/deliveries"), limit=2, offset=2).json()
    assert page["count"] == 3 and [d["event_id"] for d in page["items"]] == [events[2].message_id]
    problem(call(token, "get", path(endpoint, "/deliveries"), limit=101), 400)
    problem(call(token, "get", path(endpoint, "/deliveries"), limit=0), 400)
    problem(call(token, "get", ENDPOINTS, offset=-1), 400)


def test_the_deliveries_page_costs_the_same_queries_for_3_or_30(call, token, down, deliver_now):
    endpoint = subscribed(call, token, down)

    def emit(n):
        for _ in range(n):
            deliver_now(lambda: dsar_services.webhook_emit(type="consent.changed", data={}))

    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            assert call(token, "get", path(endpoint, "/deliveries")).status_code == 200
        return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"].upper()]

    emit(3)
    call(token, "get", path(endpoint, "/deliveries"))  # warm
    few = page_queries()
    emit(27)
    many = page_queries()
    # The client, the endpoint, the count, one page with its events, the audit row.
    assert len(few) == len(many) == 5, "\n".join(many)


def test_a_replay_sends_the_same_event_id_again(call, token, down, user, deliver_now, settings):
    settings.DSAR_WEBHOOK_BACKOFF_SECONDS = 0
    settings.DSAR_WEBHOOK_MAX_ATTEMPTS = 1
    endpoint = subscribed(call, token, down)
    deliver_now(lambda: grant(user))
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed"
    message_id = delivery.event.message_id

    down.start()
    replay = path(endpoint, f"/deliveries/{message_id}/replay")
    response = deliver_now(lambda: call(token, "post", replay))
    assert response.status_code == 202, response.content
    assert response.json()["event_id"] == message_id
    assert down.arrivals == [message_id]  # the same id: the receiver deduplicates by it
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and WebhookEvent.objects.count() == 1
    assert AuditEvent.objects.filter(action="webhook_delivery_replayed").count() == 1
    audited = AuditEvent.objects.get(action="api_webhook_delivery_replayed")
    assert audited.detail["event"] == message_id and audited.object_id == str(delivery.pk)

    WebhookDelivery.objects.filter(pk=delivery.pk).update(state="sending")
    problem(call(token, "post", replay), 409)
    problem(call(token, "post", path(endpoint, f"/deliveries/evt_{uuid.uuid4().hex}/replay")), 404)
    problem(call(token, "post", path(endpoint, "/deliveries/not-an-id/replay")), 400)


def test_a_replay_finds_only_the_endpoint_s_own_delivery(call, token, down, deliver_now):
    mine = subscribed(call, token, down)
    officers, _secret = dsar_services.webhook_endpoint_create(
        url=down.url, events=["consent.changed"], actor=None
    )
    deliver_now(lambda: dsar_services.webhook_emit(type="consent.changed", data={}))
    event = WebhookEvent.objects.get()
    assert WebhookDelivery.objects.filter(event=event).count() == 2
    assert (
        call(token, "post", path(mine, f"/deliveries/{event.message_id}/replay")).status_code == 202
    )
    problem(call(token, "post", path(officers, f"/deliveries/{event.message_id}/replay")), 404)


# --- Who sees what ----------------------------------------------------------------------------


def operations(endpoint_id, event_id=f"evt_{'0' * 32}"):
    one = f"{ENDPOINTS}/{endpoint_id}"
    return [
        ("get", one, None),
        ("patch", one, {"description": "mine now"}),
        ("delete", one, None),
        ("post", f"{one}/secret", None),
        ("get", f"{one}/deliveries", None),
        ("post", f"{one}/deliveries/{event_id}/replay", None),
    ]


def test_without_the_scope_every_operation_is_refused(call, make_client, token):
    subscribe(call, token)
    endpoint = WebhookEndpoint.objects.get()
    other = make_client(*[s for s in Scope.values if s != Scope.WEBHOOKS_MANAGE])[1]
    calls = [
        ("get", ENDPOINTS, None),
        ("post", ENDPOINTS, {"url": "https://a.example/h", "events": ["consent.changed"]}),
        *operations(endpoint.public_id),
    ]
    for method, url, body in calls:
        refused = problem(call(other, method, url, json=body), 403)
        assert "webhooks:manage" in refused["detail"]
    assert AuditEvent.objects.filter(action="api_scope_refused").count() == len(calls)
    assert WebhookEndpoint.objects.count() == 1
    problem(call(None, "get", ENDPOINTS), 401)


def test_another_client_s_and_the_officers_endpoints_are_not_found(call, make_client, token):
    subscribe(call, token)
    theirs = WebhookEndpoint.objects.get()
    officers, _secret = dsar_services.webhook_endpoint_create(
        url="https://officers.example/h", events=["erasure.due"], actor=None
    )
    nosy = make_client(Scope.WEBHOOKS_MANAGE, name="Nosy")[1]
    before = {
        e.pk: (e.secret_encrypted, e.active, e.description) for e in WebhookEndpoint.objects.all()
    }
    for endpoint in (theirs, officers):
        for method, url, body in operations(endpoint.public_id):
            refused = problem(call(nosy, method, url, json=body), 404)
            assert "no webhook endpoint" in refused["detail"]  # the same as for no endpoint at all
    for method, url, body in operations(uuid.uuid4()):
        problem(call(nosy, method, url, json=body), 404)
    after = {
        e.pk: (e.secret_encrypted, e.active, e.description) for e in WebhookEndpoint.objects.all()
    }
    assert after == before
    assert call(nosy, "get", ENDPOINTS).json() == {"items": [], "count": 0}
    assert call(token, "get", ENDPOINTS).json()["count"] == 1  # the officer's is not listed


# --- Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"url": "http://127.0.0.1:8000/hooks", "events": ["consent.changed"]}, "private"),
        ({"url": "http://10.0.0.1/hooks", "events": ["consent.changed"]}, "private"),
        ({"url": "ftp://example.com/hooks", "events": ["consent.changed"]}, "https://"),
        ({"url": "http://[abc/hooks", "events": ["consent.changed"]}, "https://"),
        ({"url": PUBLIC, "events": []}, "at least one event"),
        ({"url": PUBLIC, "events": ["consent.eaten"]}, "not valid"),
        ({"url": PUBLIC, "events": "consent.changed"}, "not valid"),
        ({"events": ["consent.changed"]}, "not valid"),
        ({"url": PUBLIC + "\x00", "events": ["consent.changed"]}, "Null characters"),
        ({"url": PUBLIC, "events": ["consent.changed"], "description": "x" * 201}, "not valid"),
        ({"url": "https://" + "a" * 500 + ".example/", "events": ["consent.changed"]}, "not valid"),
    ],
)
def test_bad_input_is_a_400_problem_and_nothing_is_made(call, token, settings, body, words):
    settings.DSAR_WEBHOOK_ALLOW_PRIVATE_URLS = False
    refused = problem(call(token, "post", ENDPOINTS, json=body), 400)
    assert words in refused["detail"]
    assert not WebhookEndpoint.objects.exists() and not ClientWebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"url": "http://127.0.0.1:8000/hooks"}, "private"),
        ({"events": []}, "at least one event"),
        ({"events": ["nope"]}, "not valid"),
        ({"active": "perhaps"}, "not valid"),
        ({}, "not valid"),  # nothing to change is a mistake to say, not a 200
        ({"active": None}, "not valid"),  # left out, or given: never null
        ({"url": None, "description": "x"}, "not valid"),
        ({"events": None}, "not valid"),
        ({"colour": "red"}, "not valid"),  # unknown fields are refused, not ignored
        ({"description": "new", "actvie": False}, "not valid"),  # a misspelt one too
        ({"description": "x" * 201}, "not valid"),
        ({"description": "a\x00b"}, "Null characters"),
        ([{"active": False}], "not valid"),
        ('"off"', "not valid"),  # JSON, but not an object
        ('{"active": fals', "Cannot parse"),  # not JSON at all
    ],
)
def test_a_bad_change_is_a_400_problem_and_changes_nothing(call, token, settings, body, words):
    subscribe(call, token, PUBLIC)
    endpoint = WebhookEndpoint.objects.get()
    settings.DSAR_WEBHOOK_ALLOW_PRIVATE_URLS = False
    refused = problem(call(token, "patch", path(endpoint), json=body), 400)
    assert words in refused["detail"]
    changed = WebhookEndpoint.objects.get()
    assert (changed.url, changed.events, changed.active, changed.description) == (
        endpoint.url,
        endpoint.events,
        endpoint.active,
        endpoint.description,
    )
    assert not AuditEvent.objects.filter(
        action__in=["webhook_endpoint_changed", "api_webhook_endpoint_changed"]
    ).exists()


def test_an_empty_change_says_what_may_be_given(call, token):
    subscribe(call, token, PUBLIC)
    refused = problem(call(token, "patch", path(WebhookEndpoint.objects.get()), json={}), 400)
    assert "url, events, description, active" in refused["errors"][0]["msg"]


def test_a_patch_without_a_body_is_refused(call, token, client):
    subscribe(call, token, PUBLIC)
    endpoint = WebhookEndpoint.objects.get()
    response = client.patch(
        f"/api/v1{path(endpoint)}", headers={"Authorization": f"Bearer {token}"}
    )
    problem(response, 400)
    assert WebhookEndpoint.objects.get().description == endpoint.description


@pytest.mark.parametrize(
    "body",
    [
        {"url": PUBLIC, "events": ["consent.changed"], "colour": "red"},
        {"url": PUBLIC, "events": ["consent.changed"], "secret": "whsec_mine"},
    ],
)
def test_a_subscription_with_unknown_fields_is_refused(call, token, body):
    problem(call(token, "post", ENDPOINTS, json=body), 400)
    assert not WebhookEndpoint.objects.exists() and not ClientWebhookEndpoint.objects.exists()


def test_an_endpoint_whose_host_is_gone_can_still_be_switched_off(call, token, settings):
    subscribe(call, token, "https://gone.invalid/hooks")
    endpoint = WebhookEndpoint.objects.get()
    settings.DSAR_WEBHOOK_ALLOW_PRIVATE_URLS = False  # the address check looks the name up now
    assert call(token, "delete", path(endpoint)).status_code == 204
    endpoint.refresh_from_db()
    assert endpoint.active is False


# --- The officers' side ------------------------------------------------------------------------


def test_officers_see_which_client_made_an_endpoint(call, manager, token, officer_client):
    subscribe(call, token)
    endpoint = WebhookEndpoint.objects.get()
    page = officer_client.get(f"/admin/dsar/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "Made by the API client" in content and manager[0].name in content
    assert f"/admin/api/apiclient/{manager[0].pk}/change/" in content  # linked to its page

    officers, _secret = dsar_services.webhook_endpoint_create(
        url=PUBLIC, events=["erasure.due"], actor=None
    )
    page = officer_client.get(f"/admin/dsar/webhookendpoint/{officers.pk}/change/")
    assert "no API client: made in the admin" in page.content.decode()
    with translation.override("de"):  # the officers' German admin
        assert str(webhook_endpoint_owner.short_description) == "angelegt vom API-Client"
        assert (
            str(webhook_endpoint_owner(officers)) == "kein API-Client: in der Verwaltung angelegt"
        )


def test_the_owner_is_read_only_and_the_admin_forms_post_as_before(
    call, manager, token, officer_client
):
    """The owner is a read-only field of the change page only: adding an endpoint and changing
    one post the form alone, and neither makes nor moves an owner."""
    add = officer_client.get("/admin/dsar/webhookendpoint/add/")
    assert add.status_code == 200 and "Made by the API client" not in add.content.decode()
    added = officer_client.post(
        "/admin/dsar/webhookendpoint/add/",
        {"url": PUBLIC, "description": "CRM", "events": ["consent.changed"], "active": "on"},
    )
    assert added.status_code == 200 and "whsec_" in added.content.decode()  # the secret page
    officers = WebhookEndpoint.objects.get()
    assert not ClientWebhookEndpoint.objects.exists()

    subscribe(call, token)
    mine = WebhookEndpoint.objects.exclude(pk=officers.pk).get()
    changed = officer_client.post(
        f"/admin/dsar/webhookendpoint/{mine.pk}/change/",
        {
            "url": "https://crm.example.com/hooks",
            "description": "changed by an officer",
            "events": ["consent.changed"],
            "active": "on",
            "webhook_endpoint_owner": "someone else",  # a read-only field: ignored
        },
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    mine.refresh_from_db()
    assert mine.description == "changed by an officer"
    assert ClientWebhookEndpoint.objects.get().client == manager[0]  # still its client's
    assert call(token, "get", path(mine)).json()["description"] == "changed by an officer"
