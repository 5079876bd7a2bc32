"""A connected system confirmed through the API (issue 18.5), on the portal's side: its part
of an erasure waits for the system, which is told by an `erasure.part_due` webhook sent to its
own endpoint only (written with the part, so the part exists when the system hears of it);
the request page shows the part and when it is overdue; an officer may confirm it by hand
when the system cannot (the same service as the system's own confirmation). The API side:
tests/api/test_parts.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from datastores import services
from datastores.models import ConnectedSystem, SystemPart
from dsar import services as dsar_services
from dsar.models import DataSubjectRequest, RequestKind, RequestState, WebhookDelivery, WebhookEvent

from .systems import alice, erasure_run, in_progress, manual_system, webhook_system

pytestmark = pytest.mark.django_db


def _endpoint(url: str, events=("request.completed",)):
    """An endpoint that receives no event an erasure waits for (Art. 19), unless told."""
    return dsar_services.webhook_endpoint_create(url=url, events=list(events), actor=None)[0]


def test_the_system_alone_is_told_which_part_to_confirm_once():
    crm_hooks = _endpoint("http://127.0.0.1:9/crm", events=["erasure.due"])
    warehouse = _endpoint("http://127.0.0.1:9/warehouse", events=["erasure.due"])
    crm = webhook_system(crm_hooks)
    request = in_progress(alice(), RequestKind.ERASURE)
    erasure_run(request)
    part = SystemPart.objects.get(request=request, system=crm)
    assert part.state == SystemPart.State.WAITING
    assert "Connected systems told by a webhook have not yet confirmed through the API." in (
        dsar_services.request_completion_blockers(request)
    )
    event = WebhookEvent.objects.get(type="erasure.part_due")
    assert event.request_id == request.pk
    assert event.data["system"] == {"id": crm.pk, "name": "CRM"}
    assert event.subject_email == "alice@example.com"  # the system must find the person
    assert list(event.deliveries.values_list("endpoint", flat=True)) == [crm_hooks.pk]
    due = WebhookEvent.objects.get(type="erasure.due")
    assert set(due.deliveries.values_list("endpoint", flat=True)) == {crm_hooks.pk, warehouse.pk}

    # A resumed erasure run finds the part made: no second part, no second event.
    services.parts_create(request=request, kind="erasure", subjects=[], phones=())
    assert SystemPart.objects.filter(system=crm).count() == 1
    assert WebhookEvent.objects.filter(type="erasure.part_due").count() == 1
    assert WebhookDelivery.objects.filter(event=event).count() == 1


def test_an_endpoint_cannot_subscribe_to_another_systems_parts():
    with pytest.raises(dsar_services.RequestError, match="Unknown event: erasure.part_due"):
        _endpoint("http://127.0.0.1:9/any", events=["erasure.part_due"])


def test_a_system_confirmed_through_the_api_needs_its_endpoint(officer_client):
    form = {
        "name": "CRM",
        "kind": "webhook",
        "active": "on",
        "url": "",
        "dataset_text": "",
        "instructions": "",
        "team": "",
        "due_days": "3",
        "datasets-TOTAL_FORMS": "0",
        "datasets-INITIAL_FORMS": "0",
    }
    page = officer_client.post("/admin/datastores/connectedsystem/add/", form).content.decode()
    assert "Choose the webhook endpoint that tells this system whom to erase." in page
    assert not ConnectedSystem.objects.exists()
    endpoint = _endpoint("http://127.0.0.1:9/crm")
    response = officer_client.post(
        "/admin/datastores/connectedsystem/add/", form | {"endpoint": str(endpoint.pk)}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ConnectedSystem.objects.get().endpoint == endpoint


def test_the_request_page_shows_overdue_parts_and_an_officer_may_confirm_one_by_hand(
    officer_client,
):
    crm = webhook_system(_endpoint("http://127.0.0.1:9/crm"))
    paper = manual_system()
    request = in_progress(alice(), RequestKind.ERASURE)
    erasure_run(request)
    page = f"/admin/dsar/datasubjectrequest/{request.pk}/change/"
    text = officer_client.get(page).content.decode()
    assert "Waiting for the system to confirm" in text and "overdue" not in text
    SystemPart.objects.filter(request=request).update(due_at=timezone.now() - timedelta(hours=1))
    text = officer_client.get(page).content.decode()
    assert text.count("(overdue)") == 2  # the system's part and the task done by hand
    listing = officer_client.get("/admin/datastores/systempart/").content.decode()
    assert listing.count("(overdue)") == 2

    # The CRM cannot confirm (its receiver is gone for good): the team did it another way.
    parts = SystemPart.objects.filter(request=request).order_by("pk")
    response = officer_client.post(
        "/admin/datastores/systempart/",
        {
            "action": "confirm_done",
            "_selected_action": [p.pk for p in parts],
            "confirmation": "Deleted in the CRM's own admin; shredded the forms.",
        },
    )
    assert response.status_code == 302
    parts = SystemPart.objects.filter(request=request)
    for part in parts:
        assert part.state == SystemPart.State.DONE
        assert part.confirmed_by == officer_client.officer and part.confirmed_via == ""
    assert {p.system for p in parts} == {crm, paper}
    assert DataSubjectRequest.objects.get(pk=request.pk).state == RequestState.COMPLETED
    assert "(overdue)" not in officer_client.get(page).content.decode()


def test_an_officer_s_confirmation_and_a_system_s_take_the_same_path():
    crm = webhook_system(_endpoint("http://127.0.0.1:9/crm"))
    request = in_progress(alice(), RequestKind.ERASURE)
    erasure_run(request)
    part = SystemPart.objects.get(system=crm)
    with pytest.raises(Exception, match="Say what was done"):
        services.system_part_confirm(part=part, confirmation=" ", via="CRM (abc)")
    done = services.system_part_confirm(
        part=part, confirmation="Erased.", via="CRM (abc)", counts={"contacts": 1}
    )
    assert done.state == SystemPart.State.DONE and done.counts == {"contacts": 1}
    again = services.system_part_confirm(part=part, confirmation="Again.", via="CRM (abc)")
    assert again.confirmation == "Erased." and again.finished_at == done.finished_at
    assert DataSubjectRequest.objects.get(pk=request.pk).state == RequestState.COMPLETED


def test_the_dry_run_says_the_system_confirms_through_the_api():
    webhook_system(_endpoint("http://127.0.0.1:9/crm"))
    (entry,) = services.dry_run(subjects=[], phones=())
    assert entry["kind"] == "webhook"
    assert entry["error"] == "Told by a webhook; the system confirms its part through the API."
