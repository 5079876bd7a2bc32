"""Privacy-policy versions and the 30-day change notices: every write and rule.

Publishing a material version is one transaction: the version gets its publication and
notice-start time, and one `PolicyNotice` row per active account holder is made by a single
INSERT … SELECT (nothing per person in Python). After the commit a Celery message wakes the
fan-out; the rows are the work, the message only wakes it, and the beat sweep wakes it again
for anything due that a lost message left behind.

The fan-out claims a bounded batch of due rows with SELECT … FOR UPDATE SKIP LOCKED (so any
number of workers share the work without overlap), marks them `sending` with a fresh claim token
and commits; then sends the batch over one connection outside any transaction; then records each
message's outcome, for rows that still carry its token. The queries per batch are a constant.

Outages. Only the mail server's answer about a message is an attempt on it (`consent.mail`'s
`MailResult.answered`): a connection refused or broken before the server spoke about the message
is not. Every try, answered or not, backs off from the notice's first try (1, 1, 2, 4 … minutes,
at most NOTICE_BACKOFF_MAX), and a transient failure is retried for NOTICE_RETRY_FOR (72 hours)
before the notice is recorded failed; an officer can send failed notices again in bulk
(`policy_notices_retry`). A worker that loses its database connection after sending reconnects
and writes what the server said before anything else (`_results_record`).

Exactly once. A notice can be sent twice only if the worker dies after the mail server accepted
some messages of its claimed batch and before the batch was marked sent (the "hand-over window",
at most one batch), or its database stays away for longer than `NOTICE_STUCK_AFTER`. Those rows
stay `sending`; after `NOTICE_STUCK_AFTER` the sweep returns them to `pending` and they are sent
again **with the same Message-ID** (`notice_message_id`), which mail stores and clients use to
recognise the repeat as the same message. Everywhere else (a
duplicated or lost Celery message, two workers, a broker restart, a crash before the hand-over
or after the marking) the claim and the unique (version, user) constraint make a repeat a no-op.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    PositiveSmallIntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dsar.claims import claim_due, stuck_rows
from dsar.models import WebhookEventType
from dsar.registry import Subject
from dsar.services import audit_record, webhook_emit
from dsar.wake import job_wake

from . import mail
from .app_settings import app_settings
from .models import MATERIAL_NOTICE_PERIOD, PolicyAcknowledgement, PolicyNotice, PolicyVersion

logger = logging.getLogger(__name__)

NOTICE_PURPOSE = "policy_changes"
NOTICE_TEMPLATE = "consent/mail/policy_notice"
State = PolicyNotice.State


class PolicyError(ValidationError):
    """A refused change to a policy version; nothing was changed."""


# --- Versions ---------------------------------------------------------------------------------


def _latest_published(exclude_pk=None) -> PolicyVersion | None:
    rows = PolicyVersion.objects.filter(published_at__isnull=False)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.order_by("-effective_at", "-pk").first()


def policy_version_publish_errors(
    *, policy: PolicyVersion, now: datetime | None = None
) -> list[str]:
    """Why `policy` cannot be published now (empty when it can). Shared by the service and the
    admin form, so the form shows the same reasons the service enforces."""
    now = now or timezone.now()
    errors = []
    if policy.published_at is not None:
        errors.append(_("Version %(v)s is already published.") % {"v": policy.version})
        return errors
    if not (policy.text or "").strip():
        errors.append(_("The policy text is empty."))
    if policy.effective_at is None:
        errors.append(_("Say from when the version applies."))
        return errors
    if policy.is_material:
        earliest = now + MATERIAL_NOTICE_PERIOD
        if not (policy.summary_of_changes or "").strip():
            errors.append(_("A material change needs a summary of changes: the notice shows it."))
        if policy.effective_at < earliest:
            errors.append(
                _(
                    "A material change applies at least 30 days after its notices go out: "
                    "choose %(date)s or later."
                )
                % {"date": date_format(timezone.localtime(earliest), "DATETIME_FORMAT")}
            )
    elif policy.effective_at < now - timedelta(minutes=1):
        errors.append(_("A version cannot apply in the past."))
    latest = _latest_published(exclude_pk=policy.pk)
    if latest is not None and policy.effective_at <= latest.effective_at:
        errors.append(
            _("It must apply after version %(v)s, which applies from %(date)s.")
            % {
                "v": latest.version,
                "date": date_format(timezone.localtime(latest.effective_at), "DATETIME_FORMAT"),
            }
        )
    return errors


@transaction.atomic
def policy_version_draft(
    *,
    version: str,
    text: str,
    summary_of_changes: str,
    is_material: bool,
    effective_at: datetime,
    actor=None,
) -> PolicyVersion:
    """A new, unpublished version: nobody sees it until it is published."""
    policy = PolicyVersion(
        version=version.strip(),
        text=text,
        summary_of_changes=summary_of_changes.strip(),
        is_material=is_material,
        effective_at=effective_at,
    )
    policy.full_clean()
    policy.save()
    audit_record(
        action="policy_version_drafted",
        actor=actor,
        obj=policy,
        detail={"version": policy.version, "material": is_material},
    )
    return policy


@transaction.atomic
def policy_version_update(*, policy: PolicyVersion, actor=None, **changes) -> PolicyVersion:
    """Change a draft. A published version never changes: publish a new one instead."""
    locked = PolicyVersion.objects.select_for_update().get(pk=policy.pk)
    if locked.published_at is not None:
        raise PolicyError(_("A published version cannot be changed: publish a new version."))
    allowed = {"version", "text", "summary_of_changes", "is_material", "effective_at"}
    unknown = set(changes) - allowed
    if unknown:
        raise PolicyError(_("These fields cannot be changed: %(f)s.") % {"f": ", ".join(unknown)})
    for name, value in changes.items():
        setattr(locked, name, value.strip() if name in ("version", "summary_of_changes") else value)
    locked.full_clean()
    locked.save(update_fields=list(changes))
    audit_record(action="policy_version_changed", actor=actor, obj=locked)
    return locked


@transaction.atomic
def policy_version_publish(
    *, policy: PolicyVersion, actor=None, now: datetime | None = None
) -> PolicyVersion:
    """Publish a draft. A minor version is simply shown at /policy/. A material one gets a
    notice row per active account holder, and the fan-out is woken after the commit.

    Refuses (PolicyError, nothing changed) a material version that would apply less than 30
    days after its notices go out, among the other rules of `policy_version_publish_errors`.
    """
    now = now or timezone.now()
    locked = PolicyVersion.objects.select_for_update().get(pk=policy.pk)
    errors = policy_version_publish_errors(policy=locked, now=now)
    if errors:
        raise PolicyError(errors)
    locked.published_at = now
    if locked.is_material:
        locked.notices_started_at = now
    elif locked.effective_at < now:
        locked.effective_at = now  # "from now", chosen a moment before publishing
    locked.full_clean()
    locked.save(update_fields=["published_at", "notices_started_at", "effective_at"])
    created = _notices_create(locked, now) if locked.is_material else 0
    audit_record(
        action="policy_version_published",
        actor=actor,
        obj=locked,
        detail={
            "version": locked.version,
            "material": locked.is_material,
            "effective_at": locked.effective_at.isoformat(),
            "notices": created,
        },
    )
    webhook_emit(
        type=WebhookEventType.POLICY_PUBLISHED,
        data={
            "version": locked.version,
            "material": locked.is_material,
            "published_at": now.isoformat(),
            "effective_at": locked.effective_at.isoformat(),
        },
    )
    if created:
        _wake(locked.pk)
    return locked


def _notices_create(policy: PolicyVersion, now: datetime) -> int:
    """One pending notice per active account holder, in one INSERT … SELECT; a row that exists
    already is left alone (the unique constraint), so running it twice adds nothing."""
    quote = connection.ops.quote_name
    users = get_user_model()._meta
    # Only quoted identifiers from the models are formatted in; every value is a parameter.
    notices, user_id, user_table = (
        quote(PolicyNotice._meta.db_table),
        quote(users.pk.column),
        quote(users.db_table),
    )
    sql = (
        f"INSERT INTO {notices} "  # noqa: S608
        "(version_id, user_id, state, attempts, next_attempt_at, error, created_at) "
        f"SELECT %s, {user_id}, %s, 0, %s, '', %s FROM {user_table} WHERE is_active = %s "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [policy.pk, State.PENDING, now, now, True])
        return cursor.rowcount


def _wake(version_id: int) -> None:
    job_wake(task="consent.tasks.policy_notices_send_task", args=[version_id])


# --- The fan-out --------------------------------------------------------------------------------


def notice_message_id(notice_id: int, *, domain: str = "") -> str:
    """The Message-ID of a notice: the same on every attempt, so a repeat is the same mail.
    (`domain`: MESSAGE_ID_DOMAIN, when the caller has read it once for a whole batch.)"""
    return f"<policy-notice.{notice_id}@{domain or app_settings.MESSAGE_ID_DOMAIN}>"


def notice_backoff(waited: timedelta) -> timedelta:
    """Wait before the next try of a notice first tried `waited` ago: as long again, so the waits
    double (1, 1, 2, 4 … minutes), at least a minute and at most NOTICE_BACKOFF_MAX. Counted
    from the first try, not from the attempts, so tries that never reached the mail server back
    off as well."""
    return min(app_settings.NOTICE_BACKOFF_MAX, max(timedelta(minutes=1), waited))


def _notices_claim(*, version_id: int, batch_size: int, now: datetime) -> tuple[uuid.UUID, list]:
    """Claim a batch of due notices; returns the claim token and, per notice, (pk, first try,
    user id, email, full name, language, active), read under the same lock. Claiming is not an
    attempt: only the mail server's answer about the message is (`_results_write`)."""
    token = uuid.uuid4()
    rows = claim_due(
        PolicyNotice.objects.filter(
            version_id=version_id, state=State.PENDING, next_attempt_at__lte=now
        )
        # The due index's order: ordered by pk alone, PostgreSQL walked the primary key past
        # every notice of the version sent so far, a longer walk each batch.
        .order_by("next_attempt_at", "pk")
        .values_list(
            "pk", "first_tried_at", "user_id", "user__email", "user__full_name",
            "user__language", "user__is_active",
        ),
        batch_size=batch_size,
        mark={
            "state": State.SENDING,
            "claim_token": token,
            "claimed_at": now,
            "first_tried_at": Coalesce("first_tried_at", Value(now)),
        },
    )  # fmt: skip
    return token, [(pk, first or now, *user) for pk, first, *user in rows]


def _notice_context(policy: PolicyVersion) -> dict:
    """What every notice of `policy` says; each adds the person's `name`."""
    return {
        "version": policy.version,
        "summary_of_changes": policy.summary_of_changes,
        "effective_at": policy.effective_at,
        "policy_url": mail.absolute_url(reverse("consent:policy_version", args=[policy.version])),
        "diff_url": mail.absolute_url(reverse("consent:policy")) + "#changes",
    }


def policy_notices_send_batch(
    *, policy: PolicyVersion, batch_size: int | None = None, now: datetime | None = None
) -> int:
    """Claim, send and record one batch of due notices of `policy`; returns how many rows were
    claimed (0: nothing due, or everything due is being worked by others)."""
    batch_size = batch_size or app_settings.NOTICE_BATCH_SIZE
    now = now or timezone.now()
    token, rows = _notices_claim(version_id=policy.pk, batch_size=batch_size, now=now)
    if not rows:
        return 0
    items, first_tried, skipped = [], {}, []
    domain = app_settings.MESSAGE_ID_DOMAIN
    for pk, first, user_id, email, name, language, active in rows:
        first_tried[pk] = first
        if not active or not email:
            skipped.append(pk)
            continue
        items.append(
            mail.OutgoingMail(
                key=pk,
                subject=Subject(user_id=user_id),
                to=email,
                values={"name": name},
                language=language,
                message_id=notice_message_id(pk, domain=domain),
            )
        )
    try:
        results = mail.mail_send_batch_now(
            purpose=NOTICE_PURPOSE,
            template=NOTICE_TEMPLATE,
            context=_notice_context(policy),
            items=items,
            deadline=time.monotonic() + app_settings.NOTICE_BATCH_SECONDS,
        )
    except SoftTimeLimitExceeded:
        # The task's soft time limit: hand the batch back now rather than after
        # NOTICE_STUCK_AFTER; what the mail server already accepted is sent again with the same
        # Message-ID, as after a dead worker.
        _notices_release(PolicyNotice.objects.filter(claim_token=token), now=timezone.now())
        raise
    _results_record(
        token=token,
        results=results,
        first_tried=first_tried,
        skipped=skipped,
        write_until=now + app_settings.NOTICE_STUCK_AFTER,
    )
    return len(rows)


def _results_record(*, token, results, first_tried: dict, skipped: list, write_until) -> None:
    """Write the batch's outcomes, whatever happened to the database connection meanwhile.

    The mail is gone; what the server accepted must be written down, or the sweep would send it
    again. So a lost connection is reopened and the outcomes written first, before anything
    else, retried with short waits until the sweep may hand the batch out again (`write_until`):
    past that the rows are no longer this batch's, and the token makes a late write a no-op.
    """
    wait = 0.5
    while True:
        try:
            with transaction.atomic():
                _results_write(
                    token=token, results=results, first_tried=first_tried, skipped=skipped
                )
            return
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or timezone.now() + timedelta(seconds=wait) > write_until:
                raise  # a caller's transaction cannot be reopened; or the sweep's turn has come
            logger.warning("Database lost while recording a notice batch; reconnecting")
            connection.close()  # the next query opens a fresh connection
            time.sleep(wait)
            wait = min(wait * 2, 10)


def _results_write(*, token, results, first_tried: dict, skipped: list) -> None:
    """Each outcome onto its row, in a constant number of UPDATEs whatever the batch size; only
    rows still holding this batch's token (the sweep may have handed them out again). A
    transient failure is tried again after `notice_backoff`, until NOTICE_RETRY_FOR after the
    notice's first try (the last try falls on that moment); then it is failed."""
    now = timezone.now()
    mine = PolicyNotice.objects.filter(claim_token=token)
    sent = [r.key for r in results if r.outcome == mail.SENT]
    if sent:
        mine.filter(pk__in=sent).update(
            state=State.SENT, sent_at=now, claim_token=None, error="", attempts=F("attempts") + 1
        )
    if skipped:
        mine.filter(pk__in=skipped).update(state=State.SKIPPED, claim_token=None)
    retry_at: dict = {}
    failed = []
    for result in results:
        if result.outcome == mail.SENT:
            continue
        give_up_at = first_tried[result.key] + app_settings.NOTICE_RETRY_FOR
        if result.outcome == mail.TRANSIENT and now < give_up_at:
            waited = now - first_tried[result.key]
            retry_at[result.key] = min(now + notice_backoff(waited), give_up_at)
        else:
            failed.append(result)
    retried = [r for r in results if r.key in retry_at]
    if retried:
        mine.filter(pk__in=list(retry_at)).update(
            state=State.PENDING,
            next_attempt_at=Case(
                *[When(pk=key, then=Value(when)) for key, when in retry_at.items()],
                output_field=DateTimeField(),
            ),
            claim_token=None,
            error=_errors(retried),
            attempts=_attempts(retried),
        )
    if failed:
        mine.filter(pk__in=[r.key for r in failed]).update(
            state=State.FAILED, claim_token=None, error=_errors(failed), attempts=_attempts(failed)
        )


def _attempts(results) -> Case:
    """Each row's attempts, one more where the mail server answered about its message."""
    answered = [r.key for r in results if r.answered]
    return Case(
        When(pk__in=answered, then=F("attempts") + 1),
        default=F("attempts"),
        output_field=PositiveSmallIntegerField(),
    )


def _errors(results) -> Case:
    """Each row's own error message, in one UPDATE."""
    return Case(
        *[When(pk=r.key, then=Value(r.error[:500])) for r in results],
        default=Value(""),
        output_field=CharField(),
    )


def policy_notices_send(
    *, version_id: int, batch_size: int | None = None, max_batches: int | None = None
) -> tuple[int, bool]:
    """Send due notices of a version batch after batch. Returns (rows claimed, whether it
    stopped at `max_batches` with work possibly left). Quietly 0 if the version is gone."""
    policy = PolicyVersion.objects.filter(pk=version_id, notices_started_at__isnull=False).first()
    if policy is None:
        return 0, False
    total = batches = 0
    while max_batches is None or batches < max_batches:
        claimed = policy_notices_send_batch(policy=policy, batch_size=batch_size)
        if not claimed:
            return total, False
        total += claimed
        batches += 1
    return total, True


def _notices_release(claimed, *, now: datetime) -> int:
    """Claimed rows whose worker stopped while sending go back to `pending`, due at once."""
    return claimed.update(
        state=State.PENDING,
        claim_token=None,
        next_attempt_at=now,
        error="The worker stopped while sending; sent again with the same Message-ID.",
    )


def policy_notices_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat's safety net: rows left `sending` by a worker that died go back to `pending` (they
    are sent again with the same Message-ID), and every version with due notices gets a message,
    whether or not its own message was lost."""
    now = now or timezone.now()
    stuck = _notices_release(
        PolicyNotice.objects.filter(
            stuck_rows(
                state=State.SENDING,
                since="claimed_at",
                after=app_settings.NOTICE_STUCK_AFTER,
                now=now,
            )
        ),
        now=now,
    )
    versions = list(
        PolicyNotice.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .order_by()
        .values_list("version_id", flat=True)
        .distinct()
    )
    for version_id in versions:
        job_wake(
            task="consent.tasks.policy_notices_send_task", args=[version_id], after_commit=False
        )
    return {"stuck": stuck, "woken": len(versions)}


@transaction.atomic
def policy_notices_retry(*, notices: QuerySet, actor) -> int:
    """An officer's retry of failed notices (e.g. once a long mail outage is over): each goes
    back to pending, due now, with a fresh retry window; its last error stays shown until it
    is sent. Notices in any other state are left alone. Audited per version; the fan-out is
    woken after the commit. Returns how many were sent back."""
    # A subquery, not a list of ids: "select all" in admin may pick thousands of rows. One UPDATE
    # per version counts exactly what it sent back (the fan-out never touches failed rows).
    failed = PolicyNotice.objects.filter(pk__in=notices.order_by().values("pk"), state=State.FAILED)
    version_ids = list(failed.order_by().values_list("version_id", flat=True).distinct())
    retried = 0
    for policy in PolicyVersion.objects.filter(pk__in=version_ids):
        count = failed.filter(version_id=policy.pk).update(
            state=State.PENDING,
            next_attempt_at=timezone.now(),
            first_tried_at=None,
            claim_token=None,
        )
        if not count:
            continue
        retried += count
        audit_record(
            action="policy_notices_retried",
            actor=actor,
            obj=policy,
            detail={"version": policy.version, "notices": count},
        )
        _wake(policy.pk)
    return retried


def policy_notice_progress(*, version_ids) -> dict[int, dict[str, int]]:
    """Notices per state for each version, in one query."""
    progress = {pk: dict.fromkeys(State.values, 0) for pk in version_ids}
    rows = (
        PolicyNotice.objects.filter(version_id__in=list(version_ids))
        .order_by()
        .values("version_id", "state")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        progress[row["version_id"]][row["state"]] = row["n"]
    return progress


# --- Acknowledgements ---------------------------------------------------------------------------


def policy_acknowledge(
    *, user, policy: PolicyVersion, method: str = PolicyAcknowledgement.Method.BANNER
) -> PolicyAcknowledgement:
    """The person read a material version (idempotent: a second click records nothing new)."""
    if policy.published_at is None or not policy.is_material:
        raise PolicyError(_("There is nothing to acknowledge for this version."))
    acknowledgement, _created = PolicyAcknowledgement.objects.get_or_create(
        user=user, version=policy, defaults={"method": method}
    )
    return acknowledgement


def policy_acknowledge_upcoming_at_signup(*, user, now: datetime | None = None) -> int:
    """Someone who signs up between a material version's publication and its effective date was
    shown it on the signup page: record that, so they are not reminded of it again."""
    from .selectors import policy_versions_upcoming

    upcoming = [p for p in policy_versions_upcoming(now=now) if p.is_material]
    for policy in upcoming:
        policy_acknowledge(user=user, policy=policy, method=PolicyAcknowledgement.Method.SIGNUP)
    return len(upcoming)
