"""The one way the portal sends push notifications (as `consent.mail` is for mail).

Every notification names its subject (an account holder: only they have devices) and its
purpose. Essential purposes (account and security) always go out. Anything else goes only
through the consent gate on the push channel (`consent.selectors.can_contact` / `contactable`
with `channel="push"`): the purpose must stand, its push switch must be on, and no restriction
or objection may stop it. Withdrawing the purpose, or switching its push channel off, stops the
next notification at once; the person's email for the purpose is untouched by the latter.

Texts come from templates, `<template>_title.txt` and `<template>_body.txt`, rendered in each
person's language. Notifications leave after the surrounding transaction commits, through the
provider adapter (`notifications.providers`, `NOTIFICATIONS_PUSH_PROVIDER`). Devices whose token
the provider reports dead are deleted.

For many people use `push_send_bulk` / `push_campaign_send` (or the Celery task
`notifications.tasks.push_campaign_task`): the gate runs in the database, devices are read in
batches keyed by id, and each batch costs the same few queries whatever its size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import translation

from consent import selectors as consent_selectors
from consent.models import Purpose
from dsar.registry import Subject

from .app_settings import app_settings
from .models import Device
from .providers import PushNotification, push_provider
from .services import devices_delete_gone

logger = logging.getLogger(__name__)
PUSH = "push"


def _render(template: str, context: dict, language: str) -> tuple[str, str]:
    with translation.override(language or settings.LANGUAGE_CODE):
        title = " ".join(render_to_string(f"{template}_title.txt", context).split())
        body = render_to_string(f"{template}_body.txt", context).strip()
    return title, body


def _deliver_after_commit(notifications: list[PushNotification]) -> None:
    def deliver():
        if not notifications:
            return
        try:
            result = push_provider().send(notifications)
        except SoftTimeLimitExceeded:
            raise  # the task's time is up: stop the campaign here, not one batch later
        except Exception:  # the provider failed the batch: logged, never raised into the caller
            logger.exception("push provider failed a batch of %d", len(notifications))
            return
        devices_delete_gone(device_ids=result.gone_device_ids)

    transaction.on_commit(deliver)


def _notification(device, purpose: Purpose, title: str, body: str, url: str) -> PushNotification:
    device_id, user_id, platform, token = device
    return PushNotification(
        device_id=device_id,
        user_id=user_id,
        platform=platform,
        token=token,
        purpose=purpose.code,
        title=title,
        body=body,
        url=url,
    )


def push_send(
    *,
    subject: Subject,
    purpose: Purpose | str,
    template: str,
    context: dict | None = None,
    url: str = "",
    exclude_device_ids: Iterable[int] = (),
) -> int:
    """Send one notification to every device of one account holder. Returns how many devices it
    goes to: 0 when the gate says no (or the person has no device)."""
    purpose = consent_selectors.purpose_get(purpose)
    if subject.user_id is None:
        subject = consent_selectors.subject_resolve(subject=subject)
        if subject.user_id is None:
            return 0  # people without an account have no devices
    if not consent_selectors.can_contact(subject, purpose, channel=PUSH):
        logger.info("push not sent: %s may not be contacted for %s", subject.ref, purpose.code)
        return 0
    devices = list(
        Device.objects.filter(user_id=subject.user_id)
        .exclude(pk__in=list(exclude_device_ids))
        .values_list("pk", "user_id", "platform", "token")
    )
    if not devices:
        return 0
    language = (
        get_user_model()
        .objects.filter(pk=subject.user_id)
        .values_list("language", flat=True)
        .first()
    )
    title, body = _render(template, context or {}, language or "")
    _deliver_after_commit([_notification(d, purpose, title, body, url) for d in devices])
    return len(devices)


def push_send_bulk(
    *,
    recipients: QuerySet,
    purpose: Purpose | str,
    template: str,
    context: dict | None = None,
    url: str = "",
    batch_size: int | None = None,
) -> int:
    """Send one notification to every device of every account holder in `recipients` (a
    queryset of users) that the bulk gate lets through on the push channel.

    Devices are read in batches keyed by id; each batch costs three queries, whatever its size
    and however many people: the devices (with their owners' language), the gate over their
    owners (`contactable`, one query), and the provider's. Returns how many devices it goes to.
    """
    purpose = consent_selectors.purpose_get(purpose)
    batch_size = batch_size or app_settings.PUSH_BATCH_SIZE
    texts: dict[str, tuple[str, str]] = {}
    sent = 0
    last_pk = 0
    while True:
        batch = list(
            Device.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "user_id", "platform", "token", "user__language")[:batch_size]
        )
        if not batch:
            return sent
        last_pk = batch[-1][0]
        owners = {row[1] for row in batch}
        allowed = set(
            consent_selectors.contactable(
                recipients.filter(pk__in=owners), purpose=purpose, channel=PUSH
            ).values_list("consent_uid", flat=True)
        )
        notifications = []
        for *device, language in batch:
            if device[1] not in allowed:
                continue
            if language not in texts:  # each language rendered once
                texts[language] = _render(template, context or {}, language or "")
            title, body = texts[language]
            notifications.append(_notification(device, purpose, title, body, url))
        _deliver_after_commit(notifications)
        sent += len(notifications)


def push_campaign_send(
    *, purpose: Purpose | str, template: str, context: dict | None = None, url: str = ""
) -> int:
    """Send a notification for a purpose to every active account holder who may receive it."""
    return push_send_bulk(
        recipients=get_user_model().objects.filter(is_active=True),
        purpose=purpose,
        template=template,
        context=context,
        url=url,
    )
