"""The operations of /api/v1/. Each checks its scope, calls the services and selectors the web
pages use, and writes one audit row naming the client, the scope and the person."""

from __future__ import annotations

import json
from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import StreamingHttpResponse
from django.utils import timezone
from ninja import Router, Status

from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.models import Channel, ConsentEvent, Partner
from dsar import services as dsar_services
from dsar.filing_limits import filing_refused_until
from dsar.models import DataSubjectRequest, RequestKind
from dsar.next_steps import request_next_step
from dsar.registry import Subject

from . import schemas, selectors, services
from .auth import call_for
from .models import Scope
from .problems import Problem, RateLimited

router = Router()

ERRORS = {400: schemas.Problem, 401: schemas.Problem, 403: schemas.Problem, 429: schemas.Problem}
ERRORS_404 = {**ERRORS, 404: schemas.Problem}


def _email(value: str) -> str:
    value = value.strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise Problem(400, "This is not an email address.") from None
    return value


def _subject(subject: schemas.SubjectIn) -> Subject:
    if subject.user_id is not None:
        return Subject(user_id=subject.user_id)
    return Subject(email=_email(subject.email))


def _query_subject(user_id: int | None, email: str | None) -> Subject:
    """The person named by the query parameters: user_id or email, one of the two."""
    if (user_id is None) == (email is None):
        raise Problem(400, "Give either user_id or email.")
    return _subject(schemas.SubjectIn(user_id=user_id, email=email))


def _message_purpose(code: str):
    """A purpose messages are sent for (the gate's question); others are bad input. From the
    per-process copy of the purposes, as one-click unsubscribe reads them: every call asks."""
    purpose = consent_selectors.purpose_cached(code)
    if purpose is None:
        raise Problem(400, f"There is no purpose with the code {code!r}.")
    if purpose.channel != Channel.EMAIL:
        raise Problem(400, f"{code!r} is not a purpose messages are sent for.")
    return purpose


NO_ACCOUNT = "There is no account with this user_id."


def _known(person: Subject) -> Subject:
    """The person, or 404 for an account id we do not have (an address always stands for
    someone: a person without an account)."""
    if not consent_selectors.subject_exists(subject=person):
        raise Problem(404, NO_ACCOUNT)
    return person


def _subject_known(subject: schemas.SubjectIn) -> Subject:
    return _known(_subject(subject))


def _partner_id(code: str | None) -> int | None:
    if code is None:
        return None
    partner_id = Partner.objects.filter(code=code).values_list("pk", flat=True).first()
    if partner_id is None:
        raise Problem(400, f"There is no reselling partner {code!r}.")
    return partner_id


def _source(call: services.ApiCall, source: str) -> str:
    """What the ledger keeps as the reason of a row the API writes: the client and the place."""
    return f"{call.client.name} (API): {source.strip()}"


def _refused(error: ValueError):
    """A question the gate cannot answer (a cookie purpose, a channel the purpose is not sent
    by, a partner where none applies) is bad input."""
    return Problem(400, str(error))


# --- May I contact? ------------------------------------------------------------------------------


@router.get("/contact", response={200: schemas.ContactOut, **ERRORS}, tags=["consent"])
def contact_check(
    request,
    purpose: schemas.Code,
    user_id: schemas.UserId | None = None,
    email: schemas.Email | None = None,
    channel: schemas.Channel = "email",
    partner: schemas.Code | None = None,
):
    """May we send this person a message for this purpose on this channel now? The consent
    gate itself (`can_contact`): a standing consent, a verified address, the channel on, no
    restriction or objection. Scope consent:read."""
    call = call_for(request, scope=Scope.CONSENT_READ, operation="contact_checked")
    person = _query_subject(user_id, email)
    try:
        allowed = consent_selectors.can_contact(
            person, _message_purpose(purpose), partner=_partner_id(partner), channel=channel
        )
    except ValueError as error:
        raise _refused(error) from None
    services.api_call_audit(call=call, subject=person, purpose=purpose, channel=channel)
    return {"contactable": allowed, "purpose": purpose, "channel": channel, "partner": partner}


@router.post("/contact/batch", response={200: schemas.BatchOut, **ERRORS}, tags=["consent"])
def contact_check_batch(request, body: schemas.BatchIn):
    """The same question for up to 10,000 people at once (ids and addresses); the answer is
    streamed as it is computed, in the order asked. Scope consent:read."""
    call = call_for(request, scope=Scope.CONSENT_READ, operation="contact_checked")
    purpose = _message_purpose(body.purpose)
    emails = [_email(e) for e in body.emails]
    partner_id = _partner_id(body.partner)
    try:
        # The checks of the bulk gate, before the answer starts: a refusal is still a 400.
        consent_selectors.contactable(
            get_user_model().objects.none(),
            purpose=purpose,
            partner=partner_id,
            channel=body.channel,
        )
    except ValueError as error:
        raise _refused(error) from None
    answers = selectors.contact_batch(
        purpose=purpose,
        channel=body.channel,
        partner_id=partner_id,
        user_ids=body.user_ids,
        emails=emails,
    )

    def document():
        yield json.dumps({"purpose": purpose.code, "channel": body.channel})[:-1]
        yield ', "results": ['
        people, first = [], True
        for kind, key, allowed in answers:
            yield ("" if first else ",") + json.dumps({kind: key, "contactable": allowed})
            first = False
            people.append(Subject(user_id=key) if kind == "user_id" else Subject(email=key))
            if len(people) == selectors.CHUNK:
                services.api_call_audit_many(call=call, subjects=people, purpose=purpose.code)
                people = []
        if people:
            services.api_call_audit_many(call=call, subjects=people, purpose=purpose.code)
        yield "]}"

    return StreamingHttpResponse(document(), content_type="application/json")


# --- The ledger and the preferences ---------------------------------------------------------------


@router.post("/consents", response={201: schemas.ConsentOut, **ERRORS_404}, tags=["consent"])
def consent_record(request, body: schemas.ConsentIn):
    """Record one grant or withdrawal in the consent ledger, with where the person made it
    (`source`). A withdrawal without a channel stops the purpose everywhere, at once. Scope
    consent:write."""
    call = call_for(request, scope=Scope.CONSENT_WRITE, operation="consent_recorded")
    person = _subject_known(body.subject)
    event = consent_services.consent_record(
        subject=person,
        purpose=body.purpose,
        action=body.action,
        method=ConsentEvent.Method.API,
        partner=_partner_id(body.partner),
        channel=body.channel or "",
        reason=_source(call, body.source),
    )
    services.api_call_audit(call=call, subject=person, obj=event, consent=event.action)
    return Status(
        201,
        {
            "id": event.pk,
            "purpose": event.purpose.code,
            "action": event.action,
            "channel": event.channel,
            "partner": body.partner,
            "at": event.at,
        },
    )


@router.get("/preferences", response={200: schemas.PreferencesOut, **ERRORS_404}, tags=["consent"])
def preferences_read(
    request, user_id: schemas.UserId | None = None, email: schemas.Email | None = None
):
    """A person's preferences as the preference centre shows them. Scope consent:read."""
    call = call_for(request, scope=Scope.CONSENT_READ, operation="preferences_read")
    person = _known(_query_subject(user_id, email))
    services.api_call_audit(call=call, subject=person)
    return selectors.preferences_of(subject=person)


@router.put("/preferences", response={200: schemas.PreferencesOut, **ERRORS_404}, tags=["consent"])
def preferences_change(request, body: schemas.PreferencesIn):
    """Set the switches the person set in your product: purposes as a whole, channels of a
    message purpose, reselling partners. Only what differs is written to the ledger, as the
    preference centre does. Scope consent:write."""
    call = call_for(request, scope=Scope.CONSENT_WRITE, operation="preferences_changed")
    person = _subject_known(body.subject)
    partner_ids = dict(Partner.objects.filter(code__in=body.partners).values_list("code", "pk"))
    unknown = sorted(set(body.partners) - set(partner_ids))
    if unknown:
        raise Problem(400, f"There is no reselling partner {', '.join(unknown)}.")
    changes = consent_services.consent_preferences_save(
        subject=person,
        purposes=body.purposes,
        channels=body.channels,
        partners={partner_ids[code]: on for code, on in body.partners.items()},
        method=ConsentEvent.Method.API,
        reason=_source(call, body.source),
    )
    services.api_call_audit(call=call, subject=person, changes=len(changes))
    return selectors.preferences_of(subject=person)


@router.post("/unsubscribe", response={200: schemas.UnsubscribeOut, **ERRORS_404}, tags=["consent"])
def unsubscribe(request, body: schemas.UnsubscribeIn):
    """Unsubscribe the person from one kind of mail (or, with `everything`, from all
    non-essential mail), as the one-click link does. Idempotent. Scope consent:write."""
    call = call_for(request, scope=Scope.CONSENT_WRITE, operation="unsubscribed")
    person = _subject_known(body.subject)
    try:
        recorded = consent_services.consent_unsubscribe(
            subject=person,
            purpose=body.purpose,
            partner=_partner_id(body.partner),
            everything=body.everything,
        )
    except consent_selectors.SubjectGone:
        raise Problem(404, NO_ACCOUNT) from None
    services.api_call_audit(call=call, subject=person, withdrawn=len(recorded))
    return {"withdrawn": [event.purpose.code for event in recorded]}


# --- Privacy requests ---------------------------------------------------------------------------


def _request_out(request: DataSubjectRequest, *, joined: bool = False) -> dict:
    return {
        "id": request.public_id,
        "reference": request.reference,
        "kind": request.kind,
        "state": request.state,
        "state_label": str(request.get_state_display()),
        "filed_at": request.filed_at,
        "received_at": request.received_at,
        "verified_at": request.verified_at,
        "due_at": request.due_at,
        "original_due_at": request.original_due_at,
        "extended": request.extended_at is not None,
        "closed_at": request.closed_at,
        "next_step": request_next_step(request),
        "joined": joined,
    }


@router.post("/requests", response={201: schemas.RequestOut, **ERRORS_404}, tags=["requests"])
def request_file(request, body: schemas.RequestIn):
    """File a privacy request on the person's behalf, saying how their identity is checked
    (`identity_check`). A second open request of the same kind joins the first. Scope
    requests:write."""
    call = call_for(request, scope=Scope.REQUESTS_WRITE, operation="request_filed")
    if body.kind not in RequestKind.values:
        raise Problem(400, f"Unknown kind of request; one of {', '.join(RequestKind.values)}.")
    person = _subject_known(body.subject)
    user = None
    if body.identity_check == "account_login":
        if person.user_id is None:
            raise Problem(400, "account_login needs the person's user_id.")
        user = get_user_model().objects.get(pk=person.user_id)
        email = user.email
    else:
        email = consent_selectors.subject_resolve(subject=person).email
    until = filing_refused_until(request, kind=body.kind, user=user, email=email, per_ip=False)
    if until is not None:
        raise RateLimited(until, timezone.now())
    filed, joined = dsar_services.dsar_request_file(
        kind=body.kind,
        user=user,
        email=email,
        details=body.details,
        purposes=body.purposes,
        country=body.country,
        region=body.region,
    )
    services.api_call_audit(
        call=call,
        subject=dsar_services.request_subject(filed),
        obj=filed,
        identity_check=body.identity_check,
        joined=joined,
    )
    return Status(201, _request_out(filed, joined=joined))


@router.get(
    "/requests/{request_id}", response={200: schemas.RequestOut, **ERRORS_404}, tags=["requests"]
)
def request_read(request, request_id: UUID):
    """A request's state, its deadline (and whether it was extended) and what happens next.
    Scope requests:read."""
    call = call_for(request, scope=Scope.REQUESTS_READ, operation="request_read")
    found = DataSubjectRequest.objects.filter(public_id=request_id).first()
    if found is None:
        raise Problem(404, "There is no request with this id.")
    services.api_call_audit(call=call, subject=dsar_services.request_subject(found), obj=found)
    return _request_out(found)
