"""Reads for the API that are more than a call: a person's preferences as data, the bulk
gate over a batch of ids and addresses (the consent app's `contactable`, chunk by chunk), and a
client's own webhook endpoints and their deliveries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db.models import Min, QuerySet
from django.db.models.functions import Lower

from consent import selectors as consent_selectors
from consent.models import Channel, ConsentEvent, Partner, Purpose
from dsar.models import WebhookDelivery, WebhookEndpoint
from dsar.registry import Subject

from .models import ApiClient

CHUNK = 500


def preferences_of(*, subject: Subject) -> dict:
    """What the preference centre shows the person, as data: each purpose (cookie categories
    are per browser, not per person), its channels where it has switches, whether a restriction
    or objection pauses it, and each reselling partner."""
    state = consent_selectors.consent_state(subject=subject)
    paused = consent_selectors.purposes_paused(
        subject=consent_selectors.subject_resolve(subject=subject)
    )
    purposes = [
        p for p in consent_selectors.purposes_for_preferences() if p.channel != Channel.COOKIE
    ]
    out = []
    for purpose in purposes:
        channels = None
        if purpose.has_channel_switches:
            channels = {c: state.granted(purpose, channel=c) for c in purpose.message_channels}
        out.append(
            {
                "code": purpose.code,
                "name": purpose.name,
                "essential": purpose.is_essential,
                "granted": state.granted(purpose),
                "channels": channels,
                "paused": consent_selectors.purpose_paused_by(purpose, paused) is not None,
            }
        )
    partner_purpose = next((p for p in purposes if p.per_partner), None)
    partners = []
    if partner_purpose is not None:
        partners = [
            {"code": p.code, "name": p.name, "granted": state.granted(partner_purpose, p.pk)}
            for p in Partner.objects.filter(is_active=True)
        ]
    return {"purposes": out, "partners": partners}


def _chunks(values: Sequence, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def contact_batch(
    *, purpose: Purpose, channel: str, partner_id: int | None, user_ids, emails
) -> Iterator[tuple[str, object, bool]]:
    """("user_id", id, allowed) for each id, then ("email", address, allowed) for each
    address, as `can_contact` would answer one by one, in a few queries per chunk of 500:
    account holders (by id, or by their account's address) through `contactable` over users,
    people without an account through `contactable` over one ledger row per address."""
    User = get_user_model()
    gate = {"purpose": purpose, "partner": partner_id, "channel": channel}
    for chunk in _chunks(list(dict.fromkeys(user_ids))):
        if purpose.is_essential:  # as can_contact: essential mail always passes
            allowed = set(chunk)
        else:
            users = User.objects.filter(pk__in=chunk)
            allowed = set(consent_selectors.contactable(users, **gate).values_list("pk", flat=True))
        for user_id in chunk:
            yield "user_id", user_id, user_id in allowed
    for chunk in _chunks(list(dict.fromkeys(e.strip().lower() for e in emails))):
        if purpose.is_essential:
            for email in chunk:
                yield "email", email, True
            continue
        users = User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=chunk)
        allowed = set(
            consent_selectors.contactable(users, **gate).values_list("consent_email", flat=True)
        )
        with_account = set(users.values_list("email_lower", flat=True))
        without = [e for e in chunk if e not in with_account]
        if without:
            one_row_each = (
                ConsentEvent.objects.filter(user__isnull=True, email__in=without)
                .values("email")
                .annotate(first=Min("pk"))
                .values("first")
            )
            rows = ConsentEvent.objects.filter(pk__in=one_row_each)
            allowed |= set(
                consent_selectors.contactable(rows, email_field="email", **gate).values_list(
                    "consent_email", flat=True
                )
            )
        for email in chunk:
            yield "email", email, email in allowed


def webhook_endpoints_of(*, client: ApiClient) -> QuerySet[WebhookEndpoint]:
    """The webhook endpoints the client subscribed through the API (an officer's are not its
    own), oldest first."""
    return WebhookEndpoint.objects.filter(api_client_link__client=client).order_by(
        "created_at", "pk"
    )


def webhook_endpoint_of(*, client: ApiClient, endpoint_id: UUID) -> WebhookEndpoint | None:
    """The client's own endpoint with this id; None for one of another client's, an officer's,
    or none at all (the caller cannot tell them apart)."""
    return webhook_endpoints_of(client=client).filter(public_id=endpoint_id).first()


def webhook_deliveries_of(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first, with their events (one query per page)."""
    return endpoint.deliveries.select_related("event").order_by("-created_at", "-pk")
