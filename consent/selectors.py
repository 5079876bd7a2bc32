"""Reads of the consent app, and the one gate every message passes: `can_contact` (one subject)
and `contactable` (a whole recipient queryset, in a constant number of queries).

Who a subject is: an account holder by user id, a person without an account by a verified email
address. A subject's ledger rows are the rows of their account plus the email-only rows of their
account's address (what they agreed to before they had an account, or by a form). The latest row
for a purpose (and, for a per-partner purpose, for that partner or for every partner) decides.

Channels (email, push): a purpose-wide row (`channel` empty: every row written before channels
existed, every grant from a form or the signup, every withdrawal and unsubscribe) decides whether
the purpose stands on any channel. A channel row ("email" or "push") switches one channel of a
standing purpose on or off. For channel C the gate asks two things: is the latest purpose-wide row
a grant, and what is the latest C row written after the latest purpose-wide withdrawal (rows from
before a withdrawal are void: granting the purpose again starts afresh). Without such a row, email
is on (a purpose grant has always meant mail) and push is off (push needs its own "yes").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar.jobstatus import JobStatus, job_status, job_when
from dsar.purposes import ALL_USES_BLOCK, DIRECT_MARKETING
from dsar.registry import Subject
from dsar.selectors import (
    blocked_emails,
    blocked_use_codes,
    blocked_user_ids,
    subject_processing_blocked,
)
from dsar.textinput import text_refuse_unstorable

from .models import (
    Channel,
    ConsentEvent,
    FormSubmission,
    MessageChannel,
    Partner,
    PolicyAcknowledgement,
    PolicyNotice,
    PolicyVersion,
    Purpose,
)

PURPOSE_WIDE = ""  # ConsentEvent.channel of a row about the purpose as a whole
EMAIL = MessageChannel.EMAIL.value
PUSH = MessageChannel.PUSH.value
# A channel's state when no channel row of it counts: mail follows the purpose, push is opt-in.
CHANNEL_DEFAULT_ON = {EMAIL: True, PUSH: False}

# Uses of data a restriction or an objection may name besides the purposes (dsar.purposes; the
# labels are in consent.processing_uses). Each is honoured where that processing happens.
PUSH_NOTIFICATIONS = "push_notifications"  # the gate, on the push channel
BEHAVIOUR_ANALYTICS = "behaviour_analytics"  # the page-view counter (views.analytics_page_view)
SERVICE_IMPROVEMENT = "service_improvement"  # trends from the ledger (desk.consent_insights)


def purpose_block_uses(purpose: Purpose, channel: str = EMAIL) -> list[str]:
    """The uses of data (codes of `dsar.purposes`) that a message of `purpose` on `channel`, or
    a use of data for `purpose`, falls under. A restriction or objection naming one of them (or
    every use) stops it; one naming anything else does not."""
    uses = [purpose.code]
    if purpose.is_direct_marketing:
        uses.append(DIRECT_MARKETING)
    if channel == PUSH and purpose.channel == Channel.EMAIL:
        uses.append(PUSH_NOTIFICATIONS)
    return uses


def purpose_paused_by(purpose: Purpose, blocked_codes: dict, channel: str = EMAIL):
    """The restriction or objection in force (from `blocked_codes`, by use code, as
    `purposes_paused` gives them) that stops `purpose` on `channel`, or None: the pages show
    such a purpose paused, never on."""
    if purpose.is_essential:
        return None
    for use in (ALL_USES_BLOCK, *purpose_block_uses(purpose, channel)):
        if use in blocked_codes:
            return blocked_codes[use]
    return None


def purposes_paused(*, subject: Subject) -> dict:
    """The subject's blocks in force by use code, for `purpose_paused_by` (one query)."""
    return blocked_use_codes(subject=subject)


class UnknownPurpose(ValidationError):
    """A purpose code we do not have: a refusal like any other bad input."""


def _policy_versions_in_force(at: datetime | None) -> QuerySet:
    return PolicyVersion.objects.filter(
        published_at__isnull=False, effective_at__lte=at or timezone.now()
    ).order_by("-effective_at", "-id")


def policy_version_in_force(*, at: datetime | None = None) -> PolicyVersion | None:
    """The published policy version that applies at `at` (now by default)."""
    return _policy_versions_in_force(at).first()


def policy_version_id_in_force(*, at: datetime | None = None) -> int | None:
    """The id of policy_version_in_force, without reading the policy's text (tens of kB) for
    every ledger row."""
    return _policy_versions_in_force(at).values_list("pk", flat=True).first()


def policy_versions_published() -> QuerySet:
    """Every published version, newest effective date first: the history at /policy/."""
    return PolicyVersion.objects.filter(published_at__isnull=False).order_by("-effective_at", "-id")


def policy_versions_upcoming(*, now: datetime | None = None) -> list[PolicyVersion]:
    """Published versions that do not apply yet, soonest first."""
    now = now or timezone.now()
    return list(
        PolicyVersion.objects.filter(published_at__isnull=False, effective_at__gt=now).order_by(
            "effective_at", "id"
        )
    )


def policy_version_get(*, version: str) -> PolicyVersion | None:
    """A published version by its number (drafts are not public)."""
    return PolicyVersion.objects.filter(published_at__isnull=False, version=version).first()


def policy_banner_version(*, user, now: datetime | None = None) -> PolicyVersion | None:
    """The upcoming material version this account holder has not acknowledged yet, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    now = now or timezone.now()
    acknowledged = PolicyAcknowledgement.objects.filter(user_id=user.pk, version=OuterRef("pk"))
    return (
        PolicyVersion.objects.filter(
            published_at__isnull=False, is_material=True, effective_at__gt=now
        )
        .exclude(Exists(acknowledged))
        .order_by("effective_at", "id")
        .first()
    )


def purpose_get(purpose: Purpose | str) -> Purpose:
    if isinstance(purpose, Purpose):
        return purpose
    text_refuse_unstorable(purpose)
    try:
        return Purpose.objects.get(code=purpose)
    except Purpose.DoesNotExist:
        raise UnknownPurpose(f"There is no purpose with the code {purpose!r}.") from None


# How long another process's edit of a purpose may take to show in this process's copy.
PURPOSES_CACHED_SECONDS = 60.0
_purposes_cached: dict = {"at": None, "by_code": {}}


def purpose_cached(code: str) -> Purpose | None:
    """The purpose with this code from a per-process copy of the purposes (a few rows that
    rarely change), for hot paths that should not pay a query for them: one-click unsubscribe
    and the API's may-I-contact.
    A save or delete of a purpose in this process clears the copy (consent/apps.py); an edit in
    another process shows within PURPOSES_CACHED_SECONDS. The instances are shared: read only."""
    now = time.monotonic()
    at = _purposes_cached["at"]
    if at is None or now - at > PURPOSES_CACHED_SECONDS:
        _purposes_cached["by_code"] = {p.code: p for p in Purpose.objects.all()}
        _purposes_cached["at"] = now
    return _purposes_cached["by_code"].get(code)


def purposes_cached_clear(**kwargs) -> None:
    """Forget the copy (a signal receiver for Purpose's post_save and post_delete)."""
    _purposes_cached["at"] = None


def partner_id_of(partner: Partner | int | None) -> int | None:
    return partner.pk if isinstance(partner, Partner) else partner


def purposes_for_preferences() -> QuerySet:
    """Every active purpose, essential ones included, in display order."""
    return Purpose.objects.filter(is_active=True).order_by("position", "code")


class SubjectGone(LookupError):
    """The account a link or a message was made for no longer exists."""


def subject_resolve(*, subject: Subject, lock: bool = False) -> Subject:
    """The same person with both identifiers filled in when an account is known: an email-only
    subject whose address belongs to an account is that account holder.

    With `lock`, an account holder's row is locked for the rest of the transaction (to serialise
    changes for one person) and a missing account raises SubjectGone."""
    User = get_user_model()
    if subject.user_id is not None:
        accounts = User.objects.filter(pk=subject.user_id)
        if lock:
            accounts = accounts.select_for_update()
        email = accounts.values_list("email", flat=True).first()
        if email is None and lock:
            raise SubjectGone(subject.user_id)
        return Subject(user_id=subject.user_id, email=(email or subject.email).lower())
    user_id = User.objects.filter(email__iexact=subject.email).values_list("pk", flat=True).first()
    return Subject(user_id=user_id, email=subject.email.lower())


def subject_exists(*, subject: Subject) -> bool:
    """An email-only subject always exists; an account holder while the account does."""
    if subject.user_id is None:
        return True
    return get_user_model().objects.filter(pk=subject.user_id).exists()


def _subject_rows(subject: Subject) -> Q:
    rows = Q(user__isnull=True, email=subject.email.lower()) if subject.email else Q(pk__in=[])
    if subject.user_id is not None:
        rows |= Q(user_id=subject.user_id)
    return rows


def consent_events_for(*, subject: Subject) -> QuerySet:
    """The subject's whole consent history, oldest first."""
    return (
        ConsentEvent.objects.filter(_subject_rows(subject_resolve(subject=subject)))
        .select_related("purpose", "partner", "policy_version")
        .order_by("at", "id")
    )


def _latest(events) -> ConsentEvent | None:
    return max(events, key=lambda e: (e.at, e.pk), default=None)


def channel_check(purpose: Purpose, channel: str) -> str:
    """`channel` if messages of `purpose` may take it; a programming error otherwise."""
    if channel not in (EMAIL, PUSH):
        raise ValueError(f"Unknown channel {channel!r}.")
    if purpose.channel == Channel.EMAIL and channel not in purpose.message_channels:
        raise ValueError(f"Purpose {purpose.code!r} is not sent by {channel}.")
    return channel


def channel_decides(rows_newest_first, channel: str) -> tuple[str | None, bool]:
    """(the purpose-wide action, whether `channel` is on) from (channel, action) pairs of one
    purpose, newest first: the module's rule, for the Python side of the gate."""
    purpose_action = None
    channel_action = None
    for row_channel, action in rows_newest_first:
        if row_channel == PURPOSE_WIDE:
            if purpose_action is None:
                purpose_action = action
            if action == ConsentEvent.Action.WITHDRAWN:
                break  # channel rows older than a withdrawal are void
        elif row_channel == channel and channel_action is None:
            channel_action = action
        if purpose_action is not None and channel_action is not None:
            break
    if channel_action is None:
        return purpose_action, CHANNEL_DEFAULT_ON[channel]
    return purpose_action, channel_action == ConsentEvent.Action.GRANTED


@dataclass(frozen=True)
class ConsentState:
    """The current consent of one subject: the latest purpose-wide row per (purpose, partner),
    and the (channel, action) rows of each purpose, for the channel switches."""

    latest: dict[tuple[int, int | None], ConsentEvent]
    rows: dict[int, list[tuple[str, str]]]  # (channel, action) per purpose, oldest first

    def event_for(self, purpose: Purpose, partner_id: int | None = None) -> ConsentEvent | None:
        general = self.latest.get((purpose.pk, None))
        if not purpose.per_partner or partner_id is None:
            return general
        specific = self.latest.get((purpose.pk, partner_id))
        return _latest([e for e in (general, specific) if e is not None])

    def granted(
        self, purpose: Purpose, partner_id: int | None = None, *, channel: str | None = None
    ) -> bool:
        """The purpose stands (and, with `channel`, that channel of it is on)."""
        if purpose.is_essential:
            return True
        event = self.event_for(purpose, partner_id)
        if event is None or event.action != ConsentEvent.Action.GRANTED:
            return False
        if channel is None or not purpose.has_channel_switches:
            return True
        channel_check(purpose, channel)
        return channel_decides(reversed(self.rows.get(purpose.pk, [])), channel)[1]


def consent_state(*, subject: Subject) -> ConsentState:
    latest: dict[tuple[int, int | None], ConsentEvent] = {}
    rows: dict[int, list[tuple[str, str]]] = {}
    for event in consent_events_for(subject=subject):  # oldest first: the last one wins
        if event.channel == PURPOSE_WIDE:
            latest[(event.purpose_id, event.partner_id)] = event
        if event.partner_id is None:
            rows.setdefault(event.purpose_id, []).append((event.channel, event.action))
    return ConsentState(latest=latest, rows=rows)


def consent_is_granted(
    *,
    subject: Subject,
    purpose: Purpose | str,
    partner: Partner | int | None = None,
    channel: str | None = None,
    resolved: bool = False,
) -> bool:
    """What the ledger says, and nothing else (no restriction, no verification): the purpose
    stands, and with `channel`, that channel of it is on. One query (and one more to resolve the
    subject, unless `resolved` says it came from subject_resolve)."""
    purpose = purpose_get(purpose)
    if purpose.is_essential:
        return True
    partner_id = partner_id_of(partner)
    if not resolved:
        subject = subject_resolve(subject=subject)
    events = ConsentEvent.objects.filter(_subject_rows(subject), purpose=purpose)
    if purpose.per_partner:
        events = events.filter(Q(partner_id=partner_id) | Q(partner__isnull=True))
    if channel is None or not purpose.has_channel_switches:
        events = events.filter(channel=PURPOSE_WIDE)
        action = events.order_by("-at", "-id").values_list("action", flat=True).first()
        return action == ConsentEvent.Action.GRANTED
    channel_check(purpose, channel)
    # One query for all of them: a person's rows of one purpose are their own choices, few.
    rows = (
        events.filter(channel__in=[PURPOSE_WIDE, channel])
        .order_by("-at", "-id")
        .values_list("channel", "action")
    )
    action, on = channel_decides(rows, channel)
    return action == ConsentEvent.Action.GRANTED and on


def _check_partner(purpose: Purpose, partner_id: int | None) -> None:
    if purpose.per_partner and partner_id is None:
        raise ValueError(f"Purpose {purpose.code!r} is given per partner: say which partner.")
    if not purpose.per_partner and partner_id is not None:
        raise ValueError(f"Purpose {purpose.code!r} is not given per partner.")


def can_contact(
    subject: Subject,
    purpose: Purpose | str,
    *,
    partner: Partner | int | None = None,
    channel: str = EMAIL,
) -> bool:
    """The gate: may we send `subject` a message for `purpose` (from `partner`) on `channel`
    (email by default, or push) now?

    Essential purposes always pass, on every channel. Anything else needs a verified address, a
    standing grant in the ledger (no later withdrawal, unsubscribe or partner opt-out), the
    channel switched on for the purpose, and no restriction or objection from the DSAR app.
    """
    purpose = purpose_get(purpose)
    if purpose.is_essential:
        channel_check(purpose, channel)
        return True
    if purpose.channel == Channel.COOKIE:
        raise ValueError("Cookie choices belong to a browser, not to a subject.")
    channel_check(purpose, channel)
    partner_id = partner_id_of(partner)
    _check_partner(purpose, partner_id)
    if not purpose.is_active:
        return False
    if (
        partner_id is not None
        and not Partner.objects.filter(pk=partner_id, is_active=True).exists()
    ):
        return False
    subject = subject_resolve(subject=subject)
    if (
        subject.user_id is not None
        and not EmailAddress.objects.filter(
            user_id=subject.user_id, email__iexact=subject.email, verified=True
        ).exists()
    ):
        return False
    if not consent_is_granted(
        subject=subject, purpose=purpose, partner=partner_id, channel=channel, resolved=True
    ):
        return False
    return not subject_processing_blocked(
        subject=subject, uses=purpose_block_uses(purpose, channel)
    )


def data_use_allowed(*, subject: Subject, purpose: Purpose | str) -> bool:
    """The gate for a use of data on consent (a testimonial, a stored payment method): a
    standing consent, and no restriction or objection naming the use."""
    purpose = purpose_get(purpose)
    if purpose.channel != Channel.DATA_USE:
        raise ValueError(f"Purpose {purpose.code!r} is no use of data: ask can_contact.")
    subject = subject_resolve(subject=subject)
    if not purpose.is_active or not consent_is_granted(
        subject=subject, purpose=purpose, resolved=True
    ):
        return False
    return not subject_processing_blocked(subject=subject, uses=purpose_block_uses(purpose))


def recipient_identities(
    queryset: QuerySet, *, user_field: str | None = None, email_field: str | None = None
) -> QuerySet:
    """`queryset` annotated with who each row is: `consent_uid` (the account, also found from
    the address), `consent_email` (lower-cased) and `consent_language` (the account's)."""
    User = get_user_model()
    if queryset.model is User:
        user_field, email_field = user_field or "pk", email_field or "email"
    if not email_field:
        raise ValueError("Name the email field of the recipients (email_field=...).")
    uid = Subquery(User.objects.filter(email__iexact=OuterRef(email_field)).values("pk")[:1])
    if user_field == "pk" and queryset.model is User:
        uid = F("pk")
    elif user_field:
        uid = Coalesce(F(user_field), uid)
    language = Subquery(User.objects.filter(pk=OuterRef("consent_uid")).values("language")[:1])
    if queryset.model is User:
        language = F("language")
    return queryset.annotate(consent_email=Lower(email_field), consent_uid=uid).annotate(
        consent_language=language
    )


def _recipient_latest(ledger: QuerySet, field: str) -> Subquery:
    """`field` of the recipient's latest row among `ledger` (ledger rows, e.g. of one purpose).

    The candidates are the latest of their account's rows (`consent_uid`) and the latest of their
    address's email-only rows (`consent_email`), each one probe of an index ending in (at, id)
    (consent_event_user_idx, consent_event_email_idx); the later of the two, found by primary
    key, decides. One subquery with `user_id = … OR (email = … AND user_id IS NULL)` can use
    neither index for its ORDER BY … LIMIT 1 and sorts every recipient's rows (bench/NOTES.md,
    consent gate). Correlated subqueries, not a UNION of sliced ones, which SQLite refuses."""
    newest = ("-at", "-id")
    by_user = ledger.filter(user_id=OuterRef(OuterRef("consent_uid"))).order_by(*newest)
    by_email = ledger.filter(user__isnull=True, email=OuterRef(OuterRef("consent_email")))
    candidates = ConsentEvent.objects.filter(
        Q(pk=Subquery(by_user.values("pk")[:1]))
        | Q(pk=Subquery(by_email.order_by(*newest).values("pk")[:1]))
    )
    return Subquery(
        candidates.order_by(*newest).values(field)[:1],
        output_field=CharField(),
    )


def contactable(
    queryset: QuerySet,
    *,
    purpose: Purpose | str,
    partner: Partner | int | None = None,
    user_field: str | None = None,
    email_field: str | None = None,
    channel: str = EMAIL,
) -> QuerySet:
    """The bulk gate: `queryset` narrowed to the recipients `can_contact` would let through on
    `channel` (email by default, or push).

    One query however many recipients (subqueries do the work). For a queryset of users the
    fields are known; for anything else name the email field and, if rows may point at an
    account, the user field. The result carries the `recipient_identities` annotations.
    """
    purpose = purpose_get(purpose)
    if purpose.channel == Channel.COOKIE:
        raise ValueError("Cookie choices belong to a browser, not to a subject.")
    channel_check(purpose, channel)
    if purpose.is_essential:
        return recipient_identities(queryset, user_field=user_field, email_field=email_field)
    partner_id = partner_id_of(partner)
    _check_partner(purpose, partner_id)
    recipients = recipient_identities(queryset, user_field=user_field, email_field=email_field)
    if not purpose.is_active:
        return recipients.none()
    if (
        partner_id is not None
        and not Partner.objects.filter(pk=partner_id, is_active=True).exists()
    ):
        return recipients.none()
    ledger = ConsentEvent.objects.filter(purpose=purpose)
    if purpose.per_partner:
        ledger = ledger.filter(Q(partner_id=partner_id) | Q(partner__isnull=True))
    latest_action = _recipient_latest(ledger.filter(channel=PURPOSE_WIDE), "action")
    verified = EmailAddress.objects.filter(
        user_id=OuterRef("consent_uid"), email__iexact=OuterRef("consent_email"), verified=True
    )
    uses = purpose_block_uses(purpose, channel)
    blocked_user = blocked_user_ids(uses=uses).filter(user_id=OuterRef("consent_uid"))
    blocked_email = blocked_emails(uses=uses).filter(email_lower=OuterRef("consent_email"))
    recipients = recipients.annotate(consent_latest=latest_action).filter(
        Q(consent_latest=ConsentEvent.Action.GRANTED),
        Q(consent_uid__isnull=True) | Exists(verified),
        ~Exists(blocked_user),
        ~Exists(blocked_email),
    )
    if purpose.has_channel_switches:
        # Most people have no channel row: a cheap EXISTS on the partial index of channel rows
        # answers for them, and the CASE reads the deciding row only for the others.
        events = ledger.filter(
            Q(user_id=OuterRef("consent_uid"))
            | Q(user__isnull=True, email=OuterRef("consent_email"))
        )
        switched = Exists(events.filter(channel=channel))
        recipients = recipients.annotate(
            consent_channel=Case(
                When(
                    switched, then=Coalesce(Subquery(_channel_switch(events, channel)), Value(""))
                ),
                default=Value("reset"),
            )
        ).filter(_channel_on(channel))
    return recipients


def _channel_switch(events: QuerySet, channel: str) -> QuerySet:
    """The latest row that decides `channel`: a row of that channel, or a purpose-wide
    withdrawal (which voids the channel rows before it), as "on", "off" or "reset"."""
    granted = ConsentEvent.Action.GRANTED
    return (
        events.filter(Q(channel=channel) | Q(channel=PURPOSE_WIDE, action="withdrawn"))
        .annotate(
            switch=Case(
                When(channel=channel, action=granted, then=Value("on")),
                When(channel=channel, then=Value("off")),
                default=Value("reset"),
            )
        )
        .order_by("-at", "-id")
        .values("switch")[:1]
    )


def _channel_on(channel: str) -> Q:
    if CHANNEL_DEFAULT_ON[channel]:
        return ~Q(consent_channel="off")  # no row or a reset ("reset"): on
    return Q(consent_channel="on")


def consent_receipt(*, subject: Subject, language: str = "en") -> dict:
    """The subject's consents and their whole history, as a consent receipt whose fields follow
    the Kantara Initiative Consent Receipt 1.1 (the basis of ISO/IEC TS 27560)."""
    import uuid

    from .receipts import receipt_build

    subject = subject_resolve(subject=subject)
    return receipt_build(
        subject=subject,
        state=consent_state(subject=subject),
        history=list(consent_events_for(subject=subject)),
        purposes=list(purposes_for_preferences()),
        partners=list(Partner.objects.all()),
        policy=policy_version_in_force(),
        receipt_id=str(uuid.uuid4()),
        language=language,
    )


def address_known(email: str) -> bool:
    """Whether we hold anything under this address: an account, ledger rows or form
    submissions (who may ask for a link to the preference centre)."""
    email = email.strip().lower()
    return (
        get_user_model().objects.filter(email__iexact=email).exists()
        or ConsentEvent.objects.filter(user__isnull=True, email=email).exists()
        or FormSubmission.objects.filter(email=email).exists()
    )


def policy_notice_status(notice: PolicyNotice) -> JobStatus:
    """A notice's state for an officer in plain words (what happened, what was tried, what to
    do), the mail server's reply or the Python error folded away."""
    from .app_settings import app_settings

    State = PolicyNotice.State
    retry = _("select it in the list and choose “Send the selected failed notices again”.")
    answered = _("The mail server answered %(n)s time(s).") % {"n": notice.attempts}
    if notice.state == State.SENT:
        return job_status(_("Sent at %(when)s.") % {"when": job_when(notice.sent_at)})
    if notice.state == State.SKIPPED:
        return job_status(str(notice.get_state_display()))
    if notice.state == State.SENDING:
        return job_status(
            _("Being handed to the mail server (since %(when)s).")
            % {"when": job_when(notice.claimed_at)}
        )
    if notice.state == State.PENDING and not notice.error:
        return job_status(_("Waiting to be sent."))
    if notice.state == State.PENDING:
        until = (notice.first_tried_at or notice.next_attempt_at) + app_settings.NOTICE_RETRY_FOR
        return job_status(
            _(
                "Not delivered yet: the last try did not get through (the mail server could not "
                "be reached, or asked us to try later)."
            ),
            answered,
            _(
                "It is tried again automatically at %(next)s, and until %(until)s; nothing to do "
                "unless it ends as failed."
            )
            % {"next": job_when(notice.next_attempt_at), "until": job_when(until)},
            detail=notice.error,
        )
    gave_up = (
        notice.first_tried_at is not None
        and notice.claimed_at is not None
        and notice.claimed_at - notice.first_tried_at >= app_settings.NOTICE_RETRY_FOR
    )
    if gave_up:
        hours = int(app_settings.NOTICE_RETRY_FOR.total_seconds() // 3600)
        return job_status(
            _(
                "Not delivered: the mail server did not take this notice during %(hours)s hours "
                "of tries, so they stopped."
            )
            % {"hours": hours},
            answered,
            _("Once mail works again, %(retry)s") % {"retry": retry},
            detail=notice.error,
        )
    return job_status(
        _(
            "Not delivered: the mail server refused this notice for good (for example, the "
            "address does not exist)."
        ),
        answered,
        _("Check the person's email address, then %(retry)s") % {"retry": retry},
        detail=notice.error,
    )
