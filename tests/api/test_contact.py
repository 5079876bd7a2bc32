"""May I contact? One person (the gate itself, few queries, one audit row) and a batch
(streamed, the same answers as one by one)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import Scope
from consent import selectors
from dsar.models import AuditEvent
from dsar.registry import Subject
from dsar.services import processing_block_add
from tests.accounts.factories import UserFactory
from tests.consent.conftest import grant, withdraw

from .conftest import problem

pytestmark = pytest.mark.django_db


def ask(call, token, **query):
    return call(token, "get", "/contact", **{"purpose": "newsletter", **query})


def test_the_answer_is_the_gate(call, reader, user):
    assert ask(call, reader, user_id=user.pk).json()["contactable"] is False
    grant(Subject(user_id=user.pk), "newsletter")
    body = ask(call, reader, user_id=user.pk).json()
    assert body == {
        "contactable": True,
        "purpose": "newsletter",
        "channel": "email",
        "partner": None,
    }
    # By the account's address too: the same person.
    assert ask(call, reader, email=user.email.upper()).json()["contactable"] is True
    withdraw(Subject(user_id=user.pk), "newsletter")
    assert ask(call, reader, user_id=user.pk).json()["contactable"] is False


def test_a_restriction_and_the_push_channel_are_honoured(call, reader, user):
    subject = Subject(user_id=user.pk)
    grant(subject, "product_updates")
    assert ask(call, reader, user_id=user.pk, purpose="product_updates").json()["contactable"]
    # Push needs its own yes, wherever the purpose is sent by push.
    push = ask(call, reader, user_id=user.pk, purpose="product_updates", channel="push")
    assert push.json() == {
        "contactable": False,
        "purpose": "product_updates",
        "channel": "push",
        "partner": None,
    }
    processing_block_add(subject=subject, kind="restriction", reason="Asked to pause it all")
    assert (
        ask(call, reader, user_id=user.pk, purpose="product_updates").json()["contactable"] is False
    )


def test_an_email_only_subject(call, reader):
    grant(Subject(email="fan@example.org"), "newsletter")
    assert ask(call, reader, email="Fan@Example.org").json()["contactable"] is True
    assert ask(call, reader, email="other@example.org").json()["contactable"] is False


def test_each_call_is_audited_with_client_scope_and_person(call, make_client, user):
    client, token = make_client(Scope.CONSENT_READ)
    ask(call, token, user_id=user.pk)
    event = AuditEvent.objects.get(action="api_contact_checked")
    assert event.subject_ref == f"user:{user.pk}"
    assert event.actor_kind == "system"
    assert event.object_type == "api.ApiClient" and event.object_id == str(client.pk)
    assert event.detail == {
        "client": client.client_id,
        "scope": "consent:read",
        "purpose": "newsletter",
        "channel": "email",
    }


def test_without_the_scope_nothing_is_shown_and_the_refusal_is_audited(call, make_client, user):
    grant(Subject(user_id=user.pk), "newsletter")
    client, token = make_client(Scope.REQUESTS_READ)
    body = problem(ask(call, token, user_id=user.pk), 403)
    assert "consent:read" in body["detail"]
    assert "contactable" not in body
    refused = AuditEvent.objects.get(action="api_scope_refused")
    assert refused.detail["client"] == client.client_id
    assert not AuditEvent.objects.filter(action="api_contact_checked").exists()


@pytest.mark.parametrize(
    "query",
    [
        {},  # nobody
        {"user_id": 1, "email": "a@example.org"},  # two people
        {"user_id": "x"},
        {"user_id": 0},
        {"user_id": 2**63},
        {"email": "not an address"},
        {"email": "a\x00@example.org"},
        {"user_id": 1, "purpose": "no such purpose"},
        {"user_id": 1, "purpose": "nosuchpurpose"},
        {"user_id": 1, "purpose": "testimonial"},
        {"user_id": 1, "channel": "fax"},
        {"user_id": 1, "partner": "nobody"},
    ],
)
def test_bad_input_is_a_400_problem(call, reader, query):
    problem(ask(call, reader, **query), 400)


def test_one_person_costs_a_few_queries_and_one_audit_row(call, reader, user):
    grant(Subject(user_id=user.pk), "newsletter")
    ask(call, reader, user_id=user.pk)  # warm: the content types, the first connection
    with CaptureQueriesContext(connection) as queries:
        assert ask(call, reader, user_id=user.pk).json()["contactable"] is True
    statements = [q["sql"] for q in queries.captured_queries]
    writes = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(writes) == 1 and "dsar_auditevent" in writes[0]
    # The client (1), the account, the verified address, the ledger in one read, the
    # restrictions (4: can_contact's own; the purpose comes from the per-process copy), the
    # audit row (1); savepoints aside.
    reads_and_writes = [s for s in statements if "SAVEPOINT" not in s.upper()]
    assert len(reads_and_writes) == 6, "\n".join(statements)
    assert not any(s.lstrip().upper().startswith("DECLARE") for s in statements)


def test_the_batch_answers_as_the_gate_one_by_one(call, reader):
    people = [UserFactory() for _ in range(6)]
    for person in people[:3]:
        grant(Subject(user_id=person.pk), "newsletter")
    grant(Subject(email="reader@example.org"), "newsletter")
    grant(Subject(email=people[4].email), "newsletter")  # before the account: the same person
    processing_block_add(subject=Subject(user_id=people[1].pk), kind="objection", purpose="")
    ids = [p.pk for p in people] + [10**12]
    emails = ["reader@example.org", "nobody@example.org", people[0].email.upper()]
    response = call(
        reader,
        "post",
        "/contact/batch",
        json={"purpose": "newsletter", "user_ids": ids, "emails": emails},
    )
    assert response.status_code == 200
    assert response.streaming
    body = json.loads(b"".join(response.streaming_content))
    assert body["purpose"] == "newsletter" and body["channel"] == "email"
    expected = [
        {"user_id": i, "contactable": selectors.can_contact(Subject(user_id=i), "newsletter")}
        for i in ids
    ] + [
        {"email": e.lower(), "contactable": selectors.can_contact(Subject(email=e), "newsletter")}
        for e in emails
    ]
    assert body["results"] == expected
    assert [r["contactable"] for r in body["results"]] == [
        True,
        False,
        True,
        False,
        True,
        False,
        False,
        True,
        False,
        True,
    ]
    assert AuditEvent.objects.filter(action="api_contact_checked").count() == len(expected)


def test_a_batch_of_thousands_in_few_queries(call, reader):
    people = [UserFactory() for _ in range(20)]
    for person in people[::2]:
        grant(Subject(user_id=person.pk), "newsletter")
    ids = [p.pk for p in people] + list(range(10**9, 10**9 + 2980))
    emails = [f"someone{n}@example.org" for n in range(1000)]
    with CaptureQueriesContext(connection) as queries:
        response = call(
            reader,
            "post",
            "/contact/batch",
            json={"purpose": "newsletter", "user_ids": ids, "emails": emails},
        )
        body = json.loads(b"".join(response.streaming_content))
    assert len(body["results"]) == 4000
    assert sum(r["contactable"] for r in body["results"]) == 10
    # Per chunk of 500: the gate (1), and per chunk of addresses two more; the audit rows are
    # one INSERT per chunk (SQLite splits a long one by its limit on parameters).
    reads = [q for q in queries.captured_queries if "dsar_auditevent" not in q["sql"]]
    assert len(reads) < 25, len(reads)
    assert AuditEvent.objects.filter(action="api_contact_checked").count() == 4000


@pytest.mark.parametrize(
    "payload",
    [
        {"user_ids": [1]},  # no purpose
        {"purpose": "newsletter", "user_ids": list(range(1, 10_002))},
        {"purpose": "newsletter", "user_ids": [1] * 6000, "emails": ["a@example.org"] * 5000},
        {"purpose": "newsletter", "emails": ["not an address"]},
        {"purpose": "newsletter", "user_ids": ["one"]},
        {"purpose": "testimonial", "user_ids": [1]},
        {"purpose": "newsletter", "channel": "fax", "user_ids": [1]},
        "not an object",
    ],
)
def test_a_bad_batch_is_a_400_problem(call, reader, payload):
    problem(call(reader, "post", "/contact/batch", json=payload), 400)


def test_a_batch_needs_the_scope(call, make_client):
    _client, token = make_client(Scope.CONSENT_WRITE)
    problem(
        call(token, "post", "/contact/batch", json={"purpose": "newsletter", "user_ids": [1]}), 403
    )
