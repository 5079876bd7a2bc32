"""A connected system confirmed through the API (issue 18.5): an erasure tells it by a signed
webhook (`erasure.part_due`, to a real receiver) whom to erase and which part to confirm; the
request completes only when the system confirms through the API, after the SQL system's part.
Only that system's client may confirm (others: 404), the scope is needed (403), a repeat
answers the same, bad input is a 400 problem that changes nothing, and each call is audited."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from api.models import ApiClient, Scope
from datastores import services as datastores_services
from datastores.models import SystemPart
from dsar import services as dsar_services
from dsar.models import AuditEvent, DataSubjectRequest, RequestKind, RequestState, WebhookDelivery
from tests.datastores.shop import ALICE, customers, rows, shop_create
from tests.datastores.systems import (
    alice,
    erasure_run,
    in_progress,
    manual_system,
    sql_system,
    webhook_system,
)

from .conftest import problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(receiver):
    endpoint, secret = dsar_services.webhook_endpoint_create(
        url=receiver.url, events=["erasure.due"], description="CRM", actor=None
    )
    receiver.secret = secret
    return webhook_system(endpoint)


def _deliver_all() -> None:
    for pk in WebhookDelivery.objects.filter(state="pending").values_list("pk", flat=True):
        dsar_services.webhook_deliver(delivery_id=pk)


def _state(request) -> str:
    return DataSubjectRequest.objects.get(pk=request.pk).state


def _done(call, token, request_id, system_id, **body):
    body = {"confirmation": "Deleted the contact and 4 notes.", **body}
    return call(token, "post", f"/requests/{request_id}/systems/{system_id}/done", json=body)


def test_an_erasure_completes_only_when_the_webhook_system_confirms_through_the_api(
    call, make_client, receiver, crm, sqlite_url
):
    shop_create(sqlite_url)
    sql = sql_system(sqlite_url)
    crm_client, token = make_client(Scope.REQUESTS_CONFIRM, name="CRM", system=crm)
    person = alice()
    request = in_progress(person, RequestKind.ERASURE)
    erasure_run(request)
    waiting = SystemPart.objects.get(request=request, system=crm)
    assert waiting.state == SystemPart.State.WAITING and waiting.identities == {}
    assert waiting.due_at > timezone.now()

    # The receiver is told, signed, whom to erase and which part to confirm.
    _deliver_all()
    told = [e for e in receiver.events.values() if e["type"] == "erasure.part_due"]
    assert len(told) == 1, receiver.events
    data = told[0]["data"]
    assert data["request"]["id"] == str(request.public_id)
    assert data["system"] == {"id": crm.pk, "name": "CRM"}
    assert data["email"] == ALICE and data["account_id"] == person.pk

    # The SQL system's part is done: the request still waits for the CRM.
    assert datastores_services.system_part_run(part_id=SystemPart.objects.get(system=sql).pk)
    assert rows(sqlite_url, customers)[1]["email"] is None
    assert _state(request) == RequestState.IN_PROGRESS
    assert "Connected systems told by a webhook have not yet confirmed through the API." in (
        dsar_services.request_completion_blockers(request)
    )

    response = _done(call, token, data["request"]["id"], data["system"]["id"], counts={"notes": 4})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "done" and body["counts"] == {"notes": 4}
    assert body["request_id"] == str(request.public_id) and body["system"]["id"] == crm.pk
    assert _state(request) == RequestState.COMPLETED
    waiting.refresh_from_db()
    assert waiting.confirmed_via == f"CRM ({crm_client.client_id})"
    assert waiting.confirmation == "Deleted the contact and 4 notes."
    assert waiting.confirmed_by is None
    audited = AuditEvent.objects.get(action="api_system_part_confirmed")
    assert audited.detail["client"] == crm_client.client_id and audited.detail["repeat"] is False
    assert audited.object_id == str(waiting.pk)
    assert AuditEvent.objects.filter(action="datastore_part_confirmed").count() == 1

    # A repeat (a retry after a lost answer) answers the same and changes nothing.
    again = _done(call, token, request.public_id, crm.pk, confirmation="Once more.")
    assert again.status_code == 200 and again.json() == body
    assert AuditEvent.objects.filter(action="datastore_part_confirmed").count() == 1
    assert AuditEvent.objects.filter(action="api_system_part_confirmed").count() == 2


@pytest.fixture
def waiting_part(crm):
    request = in_progress(alice(), RequestKind.ERASURE)
    erasure_run(request)
    return SystemPart.objects.get(request=request, system=crm)


def test_only_the_client_of_that_system_may_confirm_its_part(call, make_client, crm, waiting_part):
    request_id = waiting_part.request.public_id
    untied = make_client(Scope.REQUESTS_CONFIRM)[1]
    other_system = webhook_system(crm.endpoint, name="Helpdesk")
    other = make_client(Scope.REQUESTS_CONFIRM, name="Helpdesk", system=other_system)[1]
    for token, system_id in ((untied, crm.pk), (other, crm.pk), (other, other_system.pk)):
        problem(_done(call, token, request_id, system_id), 404)
    waiting_part.refresh_from_db()
    assert waiting_part.state == SystemPart.State.WAITING
    assert AuditEvent.objects.filter(action="api_call_refused").count() == 3


def test_without_the_scope_the_call_is_refused(call, make_client, crm, waiting_part):
    client, token = make_client(Scope.REQUESTS_READ, Scope.REQUESTS_WRITE, name="CRM", system=crm)
    problem(_done(call, token, waiting_part.request.public_id, crm.pk), 403)
    waiting_part.refresh_from_db()
    assert waiting_part.state == SystemPart.State.WAITING
    refused = AuditEvent.objects.get(action="api_scope_refused")
    assert refused.detail["scope"] == "requests:confirm"


@pytest.mark.parametrize(
    "body",
    [
        {"confirmation": ""},
        {"confirmation": "   "},
        {"confirmation": "\x1c"},  # whitespace to Python, not to the schema's pattern
        {"confirmation": "a\x00b"},
        {"confirmation": "x" * 2001},
        {"confirmation": "Done.", "counts": {"notes": -1}},
        {"confirmation": "Done.", "counts": {"no spaces": 1}},
        {"confirmation": "Done.", "counts": {"notes": "four"}},
        {},
    ],
)
def test_bad_input_is_a_400_problem_and_changes_nothing(call, make_client, crm, waiting_part, body):
    client, token = make_client(Scope.REQUESTS_CONFIRM, name="CRM", system=crm)
    path = f"/requests/{waiting_part.request.public_id}/systems/{crm.pk}/done"
    problem(call(token, "post", path, json=body), 400)
    waiting_part.refresh_from_db()
    assert waiting_part.state == SystemPart.State.WAITING and waiting_part.confirmation == ""


def test_a_part_that_is_not_waiting_for_the_system_is_a_conflict(
    call, make_client, crm, waiting_part
):
    """The system was an SQL database when the part was made: the portal runs it, the
    system cannot confirm it."""
    SystemPart.objects.filter(pk=waiting_part.pk).update(state=SystemPart.State.PENDING)
    client, token = make_client(Scope.REQUESTS_CONFIRM, name="CRM", system=crm)
    problem(_done(call, token, waiting_part.request.public_id, crm.pk), 409)
    waiting_part.refresh_from_db()
    assert waiting_part.state == SystemPart.State.PENDING


def test_an_officer_ties_a_client_to_its_system(officer_client, crm):
    """Only systems confirmed through the API are offered; the tie is audited."""
    manual_system()
    page = officer_client.get("/admin/api/apiclient/add/").content.decode()
    assert f'<option value="{crm.pk}">CRM</option>' in page and "Paper archive" not in page
    response = officer_client.post(
        "/admin/api/apiclient/add/",
        {
            "name": "CRM",
            "scopes": ["requests:confirm"],
            "rate_limit": "100/m",
            "system": str(crm.pk),
            "is_active": "on",
        },
    )
    assert response.status_code == 200, response.content
    created = ApiClient.objects.get(name="CRM")
    assert created.system == crm and created.scopes == ["requests:confirm"]
    assert AuditEvent.objects.get(action="api_client_created").detail["system"] == crm.pk


def test_the_command_ties_a_client_to_its_system(crm, capsys):
    call_command(
        "api_client_create", "--name", "CRM", "--scopes", "requests:confirm", "--system", "CRM"
    )
    assert ApiClient.objects.get(name="CRM").system == crm
    manual_system()
    with pytest.raises(CommandError, match="no connected system 'Paper archive'"):
        call_command(
            "api_client_create",
            "--name",
            "Paper",
            "--scopes",
            "requests:confirm",
            "--system",
            "Paper archive",
        )


def test_an_access_part_is_confirmed_with_the_persons_data_which_reaches_the_report(
    call, make_client, receiver, crm
):
    """An access request tells the system, signed, whose data to send (`access.part_due`); the
    package waits until the system sends it through the API, then holds it with its categories;
    data sent for an erasure part is refused."""
    client, token = make_client(Scope.REQUESTS_CONFIRM, name="CRM", system=crm)
    person = alice()
    request = in_progress(person, RequestKind.ACCESS)
    dsar_services.dsar_request_apply(request=request, actor=None)
    part = SystemPart.objects.get(request=request, system=crm)
    assert part.kind == SystemPart.Kind.ACCESS and part.state == SystemPart.State.WAITING
    export = request.exports.get()
    assert not dsar_services.export_build(export_id=export.pk)
    _deliver_all()
    (told,) = [e for e in receiver.events.values() if e["type"] == "access.part_due"]
    assert told["data"]["system"] == {"id": crm.pk, "name": "CRM"}
    assert told["data"]["account_id"] == person.pk and told["data"]["email"] == ALICE

    data = [
        {
            "collection": "tickets",
            "categories": {"subject": ["user.content"]},
            "rows": [{"id": 7, "subject": "My invoice <b>", "open": True, "score": 1.5}],
        },
        {"collection": "calls", "rows": []},
    ]
    response = _done(call, token, request.public_id, crm.pk, confirmation="Exported.", data=data)
    assert response.status_code == 200, response.content
    assert response.json()["counts"] == {"tickets": 1, "calls": 0}
    assert dsar_services.export_build(export_id=export.pk)
    export.refresh_from_db()
    report = json.loads(export.data_file.read())
    sections = {s["collection"]: s for s in report["connected_systems"]}
    assert sections["tickets"]["categories"] == {
        "subject": ["user.content"],
        "id": [],
        "open": [],
        "score": [],
    }
    assert sections["tickets"]["records"] == data[0]["rows"]
    assert sections["tickets"]["note"] == "Exported."
    assert sections["calls"]["records"] == []
    html = export.file.read().decode()
    assert "My invoice &lt;b&gt;" in html and "subject (user.content)" in html


def test_data_for_an_erasure_part_or_bad_data_is_a_400_problem(
    call, make_client, crm, waiting_part
):
    client, token = make_client(Scope.REQUESTS_CONFIRM, name="CRM", system=crm)
    request_id = waiting_part.request.public_id
    for data in (
        [{"collection": "tickets", "rows": [{"id": 1}]}],  # an erasure part takes no data
        [{"collection": "no spaces", "rows": []}],
        [{"collection": "tickets", "rows": [{"id": {"nested": 1}}]}],
        [{"collection": "tickets", "categories": {"id": ["Not A Key"]}, "rows": []}],
        [{"collection": "tickets"}],
    ):
        problem(_done(call, token, request_id, crm.pk, data=data), 400)
    waiting_part.refresh_from_db()
    assert waiting_part.state == SystemPart.State.WAITING and not waiting_part.data_file
