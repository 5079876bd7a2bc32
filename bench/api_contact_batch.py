"""The API's batch may-I-contact: one `POST /api/v1/contact/batch` asking about N account holders
(by id) for the newsletter, as a calling system sends it, answered in full.

The Django path is the whole call in-process through Django's test client: the client's token
and rate, the scope, the bulk gate chunk by chunk (`api.selectors.contact_batch` over
`contactable`), the streamed JSON answer read to its end, and one audit row per person asked
about (the issue's "every call audited"). The data is the consent gate's (three ledger rows per
person, verified addresses). The baseline is the same durable work by hand: one hand-written
query answering for every id (the consent gate's, over the id list), then the same audit rows
in one INSERT … SELECT, in one transaction. The query alone is in the notes (the issue's "one
hand-written query"). Both must give the same answers (checked).
"""

from __future__ import annotations

import json

from .consent_gate import BASELINE_SQL
from .core import (
    Measurement,
    consent_events_add,
    django_queries,
    measure,
    purpose_id,
    raw,
    user_ids,
    users_ensure,
)

NAME = "api_contact_batch"
TITLE = "API batch may-I-contact (one call, N people)"
TARGET = 1.5
UNIT = "people"
SIZES = {"smoke": 500, "small": 1_000, "large": 10_000}
OPERATION = "api_contact_checked"

# The consent gate's query, for the ids asked about rather than a range of user names.
BATCH_SQL = BASELINE_SQL.replace(
    "SELECT id FROM accounts_user WHERE username BETWEEN %(first)s AND %(last)s",
    "SELECT unnest(%(ids)s::bigint[]) AS id",
).replace("WHERE u.username BETWEEN %(first)s AND %(last)s AND", "WHERE u.id = ANY(%(ids)s) AND")

AUDIT_SQL = """
INSERT INTO dsar_auditevent (at, actor_id, actor_kind, action, subject_ref, object_type,
                             object_id, reason, detail)
SELECT now(), NULL, 'system', %(action)s, 'user:' || id, 'api.ApiClient', %(client)s, '',
       %(detail)s::jsonb
FROM unnest(%(ids)s::bigint[]) AS id
"""


def _ask(client, token: str, ids: list[int]) -> dict[int, bool]:
    response = client.post(
        "/api/v1/contact/batch",
        data=json.dumps({"purpose": "newsletter", "user_ids": ids}),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
    )
    if response.status_code != 200:
        raise AssertionError(f"the API answered {response.status_code}: {response.content[:300]!r}")
    answer = json.loads(b"".join(response.streaming_content))
    return {row["user_id"]: row["contactable"] for row in answer["results"]}


def run(size: int) -> list[Measurement]:
    from django.test import Client

    from api.models import ApiClient, Scope
    from api.services import api_client_create

    db = raw()
    users_ensure(db, size)
    lo, hi = user_ids(db, size)
    first, last = "bench_0000001", f"bench_{size:07d}"
    ids = [
        row[0]
        for row in db.fetchall(
            "SELECT id FROM accounts_user WHERE username BETWEEN %s AND %s ORDER BY id",
            [first, last],
        )
    ]
    newsletter = purpose_id(db, "newsletter")
    db.execute(
        "DELETE FROM consent_consentevent WHERE purpose_id = %s AND user_id BETWEEN %s AND %s",
        [newsletter, lo, hi],
    )
    consent_events_add(
        db,
        lo=lo,
        hi=hi,
        purpose=newsletter,
        per_user=3,
        users=f"u.username BETWEEN '{first}' AND '{last}'",
    )
    db.execute("VACUUM ANALYZE consent_consentevent")
    ApiClient.objects.filter(name="bench").delete()
    api_client, token = api_client_create(
        name="bench", scopes=[Scope.CONSENT_READ], rate_limit="100000/m"
    )
    client = Client(HTTP_HOST="localhost")  # an allowed host, as behind the proxy
    try:
        _ask(client, token, ids[:10])  # what a running server has done before: URLs, schema
        django = Measurement(NAME, "django", str(size), rows=size)
        with django_queries() as count, measure(django, queries=count):
            answers = _ask(client, token, ids)
        allowed = {pk for pk, yes in answers.items() if yes}

        detail = json.dumps(
            {"client": api_client.client_id, "scope": Scope.CONSENT_READ, "purpose": "newsletter"}
        )
        params = {"purpose": newsletter, "ids": ids}
        audit = {"action": OPERATION, "client": str(api_client.pk), "detail": detail, "ids": ids}
        query_only = Measurement(NAME, "query", str(size), rows=size)
        with measure(query_only):
            db.fetchall(BATCH_SQL, params)
        baseline = Measurement(NAME, "baseline", str(size), rows=size)
        db.reset()
        with measure(baseline, queries=lambda: db.statements), db.transaction():
            expected = {row[0] for row in db.fetchall(BATCH_SQL, params)}
            db.execute(AUDIT_SQL, audit)
        if allowed != expected:
            raise AssertionError(f"the API allowed {len(allowed)}, the baseline {len(expected)}")
        if not 0 < len(allowed) < size:
            raise AssertionError(f"{len(allowed)} of {size} allowed: the data is not as meant")
        django.notes.append(
            f"{len(allowed)} of {size} may be contacted; the hand-written query alone took "
            f"{query_only.seconds:.3f} s (Django {django.seconds / query_only.seconds:.2f}× of "
            "it); the baseline adds the audit rows"
        )
        return [django, baseline]
    finally:
        db.execute_past_triggers(
            "DELETE FROM dsar_auditevent WHERE object_type = 'api.ApiClient' "
            "AND action IN (%s, 'api_client_created')",
            [OPERATION],
        )
        ApiClient.objects.filter(name="bench").delete()
        db.execute(
            "DELETE FROM consent_consentevent WHERE purpose_id = %s AND user_id BETWEEN %s AND %s",
            [newsletter, lo, hi],
        )
        db.close()
