"""A connected system confirms its part of a request (docs/datastores.md, "Confirmed by the
system through the API"): the system was told by an `erasure.part_due` webhook whom to erase,
or by an `access.part_due` webhook whose data to send; when it has, it says so here (with the
data, for an access part). The same service as an officer's "Confirm done by hand", then the
one completion gate: the request completes when every part of it is done."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from ninja import Router
from pydantic import Field

from datastores import selectors as datastores_selectors
from datastores import services as datastores_services
from datastores.fides import DatasetError
from datastores.models import SystemPart
from dsar import services as dsar_services

from . import schemas, services
from .auth import call_for
from .models import Scope
from .problems import Problem

router = Router()

ERRORS = dict.fromkeys((400, 401, 403, 404, 409, 429), schemas.Problem)
SystemId = Annotated[int, Field(ge=1, le=schemas.MAX_ID)]
NOT_YOURS = "There is no part of this request for this client's system."


def _part_out(part: SystemPart) -> dict:
    return {
        "request_id": part.request.public_id,
        "system": {"id": part.system_id, "name": part.system.name},
        "kind": part.kind,
        "state": part.state,
        "state_label": str(part.get_state_display()),
        "due_at": part.due_at,
        "finished_at": part.finished_at,
        "confirmation": part.confirmation,
        "counts": part.counts,
    }


@router.post(
    "/requests/{request_id}/systems/{system_id}/done",
    response={200: schemas.PartOut, **ERRORS},
    tags=["requests"],
)
def system_part_done(request, request_id: UUID, system_id: SystemId, body: schemas.PartDoneIn):
    """Confirm that your system has done its part of a request: the erasure the
    `erasure.part_due` webhook asked for, with what it did and, optionally, how many rows per
    collection; or, for the access an `access.part_due` webhook asked for, the person's data
    (`data`, per collection), which goes into their report. Only the client of that connected
    system may (any other gets 404). A repeat answers 200 with the part as it is. The request
    goes on when every part is done. Scope requests:confirm."""
    call = call_for(request, scope=Scope.REQUESTS_CONFIRM, operation="system_part_confirmed")
    part = None
    if call.client.system_id == system_id:
        part = datastores_selectors.webhook_part(request_id=request_id, system_id=system_id)
    if part is None:
        raise Problem(404, NOT_YOURS)
    was = part.state
    try:
        part = datastores_services.system_part_confirm(
            part=part,
            confirmation=body.confirmation,
            counts=body.counts,
            data=[collection.model_dump() for collection in body.data],
            via=f"{call.client.name} ({call.client.client_id})",
        )
    except datastores_services.PartNotWaiting as error:
        raise Problem(409, str(error)) from None
    except DatasetError as error:
        raise Problem(400, str(error)) from None
    services.api_call_audit(
        call=call,
        subject=dsar_services.request_subject(part.request),
        obj=part,
        system=part.system_id,
        repeat=was == SystemPart.State.DONE,
    )
    return _part_out(part)
