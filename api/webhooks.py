"""The webhook subscriptions of /api/v1/webhooks/ (scope webhooks:manage): a client subscribes
its own endpoints to events, changes them, gets a new signing secret, switches them off and
follows and replays their deliveries. Each operation calls the dsar services the admin uses;
a client sees only the endpoints it made (any other id is 404, so ids do not leak).

No `from __future__ import annotations` here: django-ninja reads the annotations of a paginated
operation through its wrapper, in ninja's module, where names like UUID would not resolve."""

from uuid import UUID

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from dsar import services as dsar_services

from . import schemas, selectors, services
from .auth import call_for
from .endpoints import ERRORS, ERRORS_404
from .models import Scope
from .problems import Problem

router = Router(tags=["webhooks"])

NO_ENDPOINT = "There is no webhook endpoint of this client with this id."
NO_DELIVERY = "This endpoint has no delivery of this event."
SWITCHED_OFF = (
    'This endpoint is switched off: nothing is sent to it. PATCH {"active": true} to switch it '
    "on, then replay."
)
PAGE, PAGE_MAX, OFFSET_MAX = 50, 100, 100_000


class Recent(LimitOffsetPagination):
    """Newest first, at most PAGE_MAX a page; the total is in `count`."""

    class Input(Schema):
        limit: int = Field(PAGE, ge=1, le=PAGE_MAX)
        offset: int = Field(0, ge=0, le=OFFSET_MAX)


def _manage(request, operation: str):
    return call_for(request, scope=Scope.WEBHOOKS_MANAGE, operation=operation)


def _page_query_only(request) -> None:
    """A list takes only limit and offset: anything else is a mistake to say, not to ignore."""
    unknown = sorted(set(request.GET) - {"limit", "offset"})
    if unknown:
        raise Problem(400, f"Unknown query parameter: {', '.join(unknown)[:100]}.")


def _own(call: services.ApiCall, endpoint_id: UUID):
    endpoint = selectors.webhook_endpoint_of(client=call.client, endpoint_id=endpoint_id)
    if endpoint is None:
        raise Problem(404, NO_ENDPOINT)
    return endpoint


def _secret_answer(response: HttpResponse, endpoint, secret: str) -> dict:
    """The one answer that carries the secret: not kept by any cache on the way."""
    response["Cache-Control"] = "no-store"
    return {"endpoint": endpoint, "secret": secret}


@router.get("/endpoints", response={200: list[schemas.EndpointOut], **ERRORS})
@paginate(Recent)
def webhook_endpoints_list(request):
    """The webhook endpoints this client subscribed (not those an officer made), oldest first.
    Scope webhooks:manage."""
    call = _manage(request, "webhook_endpoints_listed")
    _page_query_only(request)
    services.api_call_audit(call=call)
    return selectors.webhook_endpoints_of(client=call.client)


@router.post("/endpoints", response={201: schemas.EndpointSecretOut, **ERRORS})
def webhook_endpoint_create(request, body: schemas.EndpointIn, response: HttpResponse):
    """Subscribe an endpoint to events. The answer carries its signing secret (`whsec_…`, to
    verify each delivery's signature, docs/webhooks.md) this once: it is never shown again.
    The address must be public; unknown events or none are refused. Scope webhooks:manage."""
    call = _manage(request, "webhook_endpoint_created")
    endpoint, secret = services.api_webhook_endpoint_create(
        client=call.client,
        url=body.url,
        events=body.events,
        description=body.description,
        active=body.active,
    )
    services.api_call_audit(call=call, obj=endpoint)
    return Status(201, _secret_answer(response, endpoint, secret))


@router.get("/endpoints/{endpoint_id}", response={200: schemas.EndpointOut, **ERRORS_404})
def webhook_endpoint_read(request, endpoint_id: UUID):
    """One of this client's endpoints (never its secret). Scope webhooks:manage."""
    call = _manage(request, "webhook_endpoint_read")
    endpoint = _own(call, endpoint_id)
    services.api_call_audit(call=call, obj=endpoint)
    return endpoint


@router.patch("/endpoints/{endpoint_id}", response={200: schemas.EndpointOut, **ERRORS_404})
def webhook_endpoint_change(request, endpoint_id: UUID, body: schemas.EndpointPatch):
    """Change the address, description, events or whether it is on; what is left out stays.
    Switching off stops its deliveries. Scope webhooks:manage."""
    call = _manage(request, "webhook_endpoint_changed")
    endpoint = _own(call, endpoint_id)
    given = body.model_dump(exclude_unset=True)  # never empty, never null (the schema's)
    endpoint = dsar_services.webhook_endpoint_update(
        endpoint=endpoint,
        url=given.get("url", endpoint.url),
        events=given.get("events", endpoint.events),
        description=given.get("description", endpoint.description),
        active=given.get("active", endpoint.active),
        actor=None,
    )
    services.api_call_audit(call=call, obj=endpoint, changed=sorted(given))
    return endpoint


@router.delete("/endpoints/{endpoint_id}", response={204: None, **ERRORS_404})
def webhook_endpoint_switch_off(request, endpoint_id: UUID):
    """Switch the endpoint off: nothing more is sent to it, and no erasure or restriction waits
    for it. It is not deleted (its deliveries stay to see, as in the admin); PATCH
    `{"active": true}` switches it on again. A repeat is a 204 too. Scope webhooks:manage."""
    call = _manage(request, "webhook_endpoint_switched_off")
    endpoint = dsar_services.webhook_endpoint_deactivate(
        endpoint=_own(call, endpoint_id), actor=None
    )
    services.api_call_audit(call=call, obj=endpoint)
    return Status(204, None)


@router.post(
    "/endpoints/{endpoint_id}/secret", response={200: schemas.EndpointSecretOut, **ERRORS_404}
)
def webhook_endpoint_secret_rotate(request, endpoint_id: UUID, response: HttpResponse):
    """A new signing secret, in this answer only; the old one stops signing at once, so every
    delivery from now on is signed with the new one. Scope webhooks:manage."""
    call = _manage(request, "webhook_secret_rotated")
    endpoint = _own(call, endpoint_id)
    secret = dsar_services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=None)
    services.api_call_audit(call=call, obj=endpoint)
    endpoint.refresh_from_db()
    return _secret_answer(response, endpoint, secret)


@router.get(
    "/endpoints/{endpoint_id}/deliveries",
    response={200: list[schemas.DeliveryOut], **ERRORS_404},
)
@paginate(Recent)
def webhook_deliveries_list(request, endpoint_id: UUID):
    """The endpoint's deliveries, newest first: each event's id and type, its state, tries,
    the last answer and the next try. Scope webhooks:manage."""
    call = _manage(request, "webhook_deliveries_listed")
    _page_query_only(request)
    endpoint = _own(call, endpoint_id)
    services.api_call_audit(call=call, obj=endpoint)
    return selectors.webhook_deliveries_of(endpoint=endpoint)


@router.post(
    "/endpoints/{endpoint_id}/deliveries/{event_id}/replay",
    response={202: schemas.DeliveryOut, 409: schemas.Problem, **ERRORS_404},
)
def webhook_delivery_replay(request, endpoint_id: UUID, event_id: schemas.EventId):
    """Send the event to the endpoint again, with the same event id (deduplicate by it): one
    the system acknowledged but lost, or one that failed while it was down. 409 while it is
    being sent, or while the endpoint is switched off (nothing is sent to it then: switch it
    on first). Scope webhooks:manage."""
    call = _manage(request, "webhook_delivery_replayed")
    endpoint = _own(call, endpoint_id)
    if not endpoint.active:
        raise Problem(409, SWITCHED_OFF)
    delivery = (
        selectors.webhook_deliveries_of(endpoint=endpoint)
        .filter(event__public_id=UUID(event_id.removeprefix("evt_")))
        .first()
    )
    if delivery is None:
        raise Problem(404, NO_DELIVERY)
    if not dsar_services.webhook_deliveries_replay(deliveries=[delivery], actor=None):
        raise Problem(409, "This delivery is being sent right now; ask again when it is done.")
    services.api_call_audit(call=call, obj=delivery, event=event_id)
    delivery.refresh_from_db()
    return Status(202, delivery)
