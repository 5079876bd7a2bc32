"""Every write of the consent app: ledger rows, preferences, unsubscribes, form submissions."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.adapter import get_adapter as get_account_adapter
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dsar.models import WebhookEventType
from dsar.registry import Subject
from dsar.services import audit_record, webhook_emit
from dsar.textinput import text_refuse_unstorable

from . import selectors, signals
from .app_settings import app_settings
from .models import (
    CampaignUnsubscribeCount,
    Channel,
    ConsentEvent,
    FormSubmission,
    PageViewCount,
    Partner,
    PrivacySignalCount,
    Purpose,
)
from .policies import (  # noqa: F401  (the policy services, importable from here too)
    PolicyError,
    policy_acknowledge,
    policy_acknowledge_upcoming_at_signup,
    policy_notices_retry,
    policy_notices_send,
    policy_notices_sweep,
    policy_version_draft,
    policy_version_publish,
    policy_version_update,
)

Action = ConsentEvent.Action
Method = ConsentEvent.Method


# --- The request's IP, pseudonymised -------------------------------------------------------------


def request_ip(request) -> str:
    """The client's address, by the one policy the rate limits use too: allauth's adapter,
    configured by TRUSTED_PROXY_COUNT (settings). Empty when there is none to read."""
    if request is None:
        return ""
    try:
        raw = get_account_adapter(request).get_client_ip(request)
    except (PermissionDenied, ImproperlyConfigured):
        return ""
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return ""


def ip_hash(ip: str) -> str:
    """A keyed hash (HMAC-SHA256) of an IP address: the raw address is never stored."""
    if not ip:
        return ""
    return hmac.new(app_settings.IP_HASH_KEY, ip.encode(), hashlib.sha256).hexdigest()


def request_ip_hash(request) -> str:
    return ip_hash(request_ip(request))


# --- The ledger -----------------------------------------------------------------------------------


def _normalise(subject: Subject) -> Subject:
    if subject.user_id is not None:
        return Subject(user_id=subject.user_id)
    return Subject(email=subject.email.strip().lower())


def consent_record(
    *,
    subject: Subject,
    purpose: Purpose | str,
    action: str,
    method: str,
    partner: Partner | int | None = None,
    ip_hash: str = "",
    recorded_by=None,
    reason: str = "",
    at: datetime | None = None,
    channel: str = "",
    subject_locked: bool = False,
) -> ConsentEvent:
    """Append one grant or withdrawal to the ledger, checking that it makes sense.

    Without `channel` the row decides the purpose as a whole (a withdrawal stops every channel);
    with `channel` ("email" or "push") it switches that channel of the purpose only.
    `subject_locked`: the caller holds the account's row lock (subject_resolve(lock=True)), so
    the account is known to exist and its foreign key needs no second look.
    """
    text_refuse_unstorable(action, method, ip_hash, reason, channel)
    purpose = selectors.purpose_get(purpose)
    partner_id = selectors.partner_id_of(partner)
    at = at or timezone.now()
    if purpose.is_essential:
        raise ValidationError(
            _("%(purpose)s is essential: it cannot be switched on or off.")
            % {"purpose": purpose.name}
        )
    if channel and (not purpose.has_channel_switches or channel not in purpose.message_channels):
        raise ValidationError(
            _("%(purpose)s cannot be switched channel by channel.") % {"purpose": purpose.name}
        )
    if partner_id is not None and not purpose.per_partner:
        raise ValidationError(_("This purpose is not given partner by partner."))
    if purpose.channel == Channel.COOKIE and method != Method.COOKIE_BANNER:
        raise ValidationError(_("Cookie choices are made in the cookie settings."))
    if action == Action.GRANTED:
        if not purpose.is_active:
            raise ValidationError(_("This purpose is no longer in use."))
        if (
            partner_id is not None
            and not Partner.objects.filter(pk=partner_id, is_active=True).exists()
        ):
            raise ValidationError(_("This partner is no longer one of our reselling partners."))
    policy_id = selectors.policy_version_id_in_force(at=at)
    if policy_id is None:
        raise ValidationError(_("No privacy policy is in force: consent cannot be recorded."))
    subject = _normalise(subject)
    event = ConsentEvent(
        user_id=subject.user_id,
        email=subject.email,
        purpose=purpose,
        partner_id=partner_id,
        action=action,
        channel=channel,
        method=method,
        policy_version_id=policy_id,
        at=at,
        ip_hash=ip_hash,
        recorded_by=recorded_by,
        reason=reason,
    )
    # The ledger's check constraints are enforced by the database at the INSERT; validating
    # them here too cost a savepoint and a query each (18 of the 34 statements of a one-click
    # unsubscribe, bench/NOTES.md), and the purpose and the policy were just read from the
    # database, so their foreign keys need no second look. Fields, choices and (unless the
    # caller holds its row lock) the subject's foreign key are still validated.
    exclude = ["purpose", "policy_version", *(["user"] if subject_locked else [])]
    event.full_clean(exclude=exclude, validate_constraints=False)
    # Everything above only reads and checks, so a refusal leaves the caller's transaction
    # usable; the row and what other apps stop with it are one unit of the caller's transaction
    # (no savepoint of its own: a one-click unsubscribe paid two statements for one).
    with transaction.atomic(savepoint=False):
        event.save()
        webhook_emit(
            type=WebhookEventType.CONSENT_CHANGED,
            subject=subject,
            data={
                "purpose": purpose.code,
                "action": action,
                "channel": channel or None,
                "partner_id": partner_id,
                "at": at.isoformat(),
            },
        )
        if action == Action.WITHDRAWN and not channel:
            # Other apps stop what the consent allowed at once, in this transaction.
            signals.consent_withdrawn.send(
                sender=ConsentEvent, subject=subject, purpose=purpose.code, event=event
            )
    return event


def consent_grant(
    *, subject: Subject, purpose: Purpose | str, method: str, partner=None, ip_hash: str = ""
) -> ConsentEvent:
    return consent_record(
        subject=subject,
        purpose=purpose,
        action=Action.GRANTED,
        method=method,
        partner=partner,
        ip_hash=ip_hash,
    )


def consent_withdraw(
    *, subject: Subject, purpose: Purpose | str, method: str, partner=None, ip_hash: str = ""
) -> ConsentEvent:
    return consent_record(
        subject=subject,
        purpose=purpose,
        action=Action.WITHDRAWN,
        method=method,
        partner=partner,
        ip_hash=ip_hash,
    )


@transaction.atomic
def consent_signup_record(
    *, user, purposes: Iterable[str], ip_hash: str = ""
) -> list[ConsentEvent]:
    """The marketing boxes a person ticked when they created their account."""
    subject = Subject(user_id=user.pk)
    return [
        consent_grant(subject=subject, purpose=code, method=Method.SIGNUP, ip_hash=ip_hash)
        for code in purposes
    ]


@transaction.atomic
def consent_preferences_save(
    *,
    subject: Subject,
    purposes: dict[str, bool],
    partners: dict[int, bool] | None = None,
    channels: dict[str, dict[str, bool]] | None = None,
    method: str = Method.PREFERENCE_CENTRE,
    ip_hash: str = "",
    reason: str = "",
) -> list[ConsentEvent]:
    """Record what changed between the current state and the switches the person set.

    `purposes` maps purpose codes to on/off; `channels` maps the codes of purposes switched
    channel by channel to {"email": on/off, "push": on/off} (a purpose in both: `channels`
    wins); `partners` maps partner ids to on/off for the per-partner purpose. Switches that did
    not change add nothing to the ledger. `reason` is kept on each row (where the person made
    the choice, for a change another system reports through the API).
    """
    text_refuse_unstorable(*purposes, *(channels or {}), reason)
    state = selectors.consent_state(subject=subject)
    recorded = []
    channels = channels or {}
    wanted_by_code = {**purposes, **{code: any(c.values()) for code, c in channels.items()}}
    by_code = {p.code: p for p in Purpose.objects.filter(code__in=wanted_by_code)}
    unknown = set(wanted_by_code) - set(by_code)
    if unknown:
        raise ValidationError(
            _("Unknown purpose: %(codes)s.") % {"codes": ", ".join(sorted(unknown))}
        )
    for code, wanted in wanted_by_code.items():
        purpose = by_code[code]
        if purpose.is_essential or purpose.per_partner or purpose.channel == Channel.COOKIE:
            continue
        granted = state.granted(purpose)
        if granted != wanted:
            # Every switch off: the purpose is withdrawn, on every channel.
            recorded.append(
                _record_change(
                    subject, purpose, wanted, method=method, ip_hash=ip_hash, reason=reason
                )
            )
        if wanted and code in channels:
            recorded += _channels_save(
                subject,
                purpose,
                channels[code],
                state=state,
                fresh=not granted,
                method=method,
                ip_hash=ip_hash,
                reason=reason,
            )
    if partners:
        partner_purposes = Purpose.objects.filter(per_partner=True, is_active=True)
        known = set(Partner.objects.filter(pk__in=partners).values_list("pk", flat=True))
        if set(partners) - known:
            raise ValidationError(_("Unknown reselling partner."))
        for purpose in partner_purposes:
            for partner_id, wanted in partners.items():
                if state.granted(purpose, partner_id) != wanted:
                    recorded.append(
                        _record_change(
                            subject,
                            purpose,
                            wanted,
                            partner=partner_id,
                            method=method,
                            ip_hash=ip_hash,
                            reason=reason,
                        )
                    )
    return recorded


def _record_change(subject, purpose, wanted: bool, **kwargs) -> ConsentEvent:
    action = Action.GRANTED if wanted else Action.WITHDRAWN
    return consent_record(subject=subject, purpose=purpose, action=action, **kwargs)


def _channels_save(
    subject, purpose, wanted: dict[str, bool], *, state, fresh: bool, **kwargs
) -> list[ConsentEvent]:
    """Channel rows for the switches that differ from the purpose's channels as they stand (for
    a purpose granted just now: as the fresh grant left them)."""
    history = list(reversed(state.rows.get(purpose.pk, [])))  # newest first
    if fresh:
        history.insert(0, (selectors.PURPOSE_WIDE, Action.GRANTED))
    recorded = []
    for channel in purpose.message_channels:
        if channel in wanted and selectors.channel_decides(history, channel)[1] != wanted[channel]:
            recorded.append(
                _record_change(subject, purpose, wanted[channel], channel=channel, **kwargs)
            )
    return recorded


@transaction.atomic
def consent_partners_opt_out(
    *, subject: Subject, method: str = Method.PREFERENCE_CENTRE, ip_hash: str = ""
) -> list[ConsentEvent]:
    """Opt out of every reselling partner, present and future: one withdrawal without a partner
    overrides every earlier per-partner grant. Does nothing if nothing is granted."""
    state = selectors.consent_state(subject=subject)
    partner_ids = list(Partner.objects.values_list("pk", flat=True))
    recorded = []
    for purpose in Purpose.objects.filter(per_partner=True):
        granted_any = any(state.granted(purpose, pid) for pid in partner_ids)
        if granted_any or state.granted(purpose):
            recorded.append(
                consent_record(
                    subject=subject,
                    purpose=purpose,
                    action=Action.WITHDRAWN,
                    method=method,
                    ip_hash=ip_hash,
                )
            )
    return recorded


@transaction.atomic
def consent_unsubscribe(
    *,
    subject: Subject,
    purpose: Purpose | str,
    partner: Partner | int | None = None,
    everything: bool = False,
    ip_hash: str = "",
    campaign: str = "",
) -> list[ConsentEvent]:
    """Unsubscribe from one kind of mail (or, with `everything`, from all non-essential mail).

    Idempotent: what is already withdrawn gets no new row (and is not counted again for the
    `campaign` whose link was used). Essential mail is never affected. An account that no
    longer exists raises selectors.SubjectGone, and nothing is written.
    """
    # Serialise concurrent changes for one account holder (two clicks on one link).
    resolved = selectors.subject_resolve(subject=subject, lock=True)
    purpose = selectors.purpose_get(purpose)
    partner_id = selectors.partner_id_of(partner)
    recorded = []
    if everything:
        state = selectors.consent_state(subject=resolved)
        targets = Purpose.objects.filter(channel=Channel.EMAIL, is_essential=False)
        for target in targets:
            partner_ids = [None]
            if target.per_partner:
                partner_ids += list(Partner.objects.values_list("pk", flat=True))
            if any(state.granted(target, pid) for pid in partner_ids):
                recorded.append(
                    consent_record(
                        subject=subject,
                        purpose=target,
                        action=Action.WITHDRAWN,
                        method=Method.UNSUBSCRIBE_LINK,
                        ip_hash=ip_hash,
                        subject_locked=True,
                    )
                )
        _campaign_unsubscribe_count(campaign=campaign, purpose=purpose, recorded=recorded)
        return recorded
    if purpose.is_essential:
        return recorded
    if selectors.consent_is_granted(
        subject=resolved, purpose=purpose, partner=partner_id, resolved=True
    ):
        recorded.append(
            consent_record(
                subject=subject,
                purpose=purpose,
                partner=partner_id,
                action=Action.WITHDRAWN,
                method=Method.UNSUBSCRIBE_LINK,
                ip_hash=ip_hash,
                subject_locked=True,
            )
        )
    _campaign_unsubscribe_count(campaign=campaign, purpose=purpose, recorded=recorded)
    return recorded


def _campaign_unsubscribe_count(*, campaign: str, purpose: Purpose, recorded: list) -> None:
    """One more unsubscribe for the mailing whose link was used, if anything changed."""
    if not campaign or not recorded:
        return
    counter, _created = CampaignUnsubscribeCount.objects.get_or_create(
        campaign=campaign[:100], purpose=purpose, day=timezone.localdate()
    )
    CampaignUnsubscribeCount.objects.filter(pk=counter.pk).update(count=F("count") + 1)


def privacy_signal_count(*, gpc: bool) -> None:
    """Count a page served, and whether the browser sent GPC (aggregate only)."""
    today = timezone.localdate()
    changes = {"pages": F("pages") + 1}
    if gpc:
        changes["gpc_pages"] = F("gpc_pages") + 1
    if not PrivacySignalCount.objects.filter(day=today).update(**changes):
        try:
            with transaction.atomic():
                PrivacySignalCount.objects.create(day=today, pages=1, gpc_pages=int(gpc))
        except IntegrityError:  # another request made today's row first
            PrivacySignalCount.objects.filter(day=today).update(**changes)


@transaction.atomic
def consent_record_on_request(
    *,
    subject: Subject,
    purpose: Purpose | str,
    action: str,
    reason: str,
    staff,
    partner: Partner | int | None = None,
) -> ConsentEvent:
    """A privacy officer records a change the person asked for in writing; the reason is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say which written request this change comes from."))
    if not staff.has_perm("consent.record_on_request"):
        raise ValidationError(_("You are not allowed to record consent changes."))
    event = consent_record(
        subject=subject,
        purpose=purpose,
        action=action,
        method=Method.ADMIN_REQUEST,
        partner=partner,
        recorded_by=staff,
        reason=reason,
    )
    audit_record(
        action="consent_recorded_on_request",
        actor=staff,
        subject=subject,
        reason=reason,
        obj=event,
        detail={
            "purpose": event.purpose.code,
            "partner": event.partner_id,
            "consent": event.action,
        },
    )
    return event


@transaction.atomic
def consent_gpc_apply(*, subject: Subject, ip_hash: str = "") -> list[ConsentEvent]:
    """The browser sent Global Privacy Control: stop sharing with reselling partners."""
    return consent_partners_opt_out(
        subject=subject, method=Method.GLOBAL_PRIVACY_CONTROL, ip_hash=ip_hash
    )


@transaction.atomic
def cookie_choices_record(
    *, user, choices: dict[str, bool], ip_hash: str = ""
) -> list[ConsentEvent]:
    """For an account holder, keep the cookie banner's choices in the ledger as evidence. The
    choice itself lives in the browser's cookie (it is per browser)."""
    text_refuse_unstorable(*choices)
    subject = Subject(user_id=user.pk)
    state = selectors.consent_state(subject=subject)
    recorded = []
    for purpose in Purpose.objects.filter(
        channel=Channel.COOKIE, is_essential=False, code__in=choices
    ):
        wanted = choices[purpose.code]
        if state.granted(purpose) != wanted:
            recorded.append(
                consent_record(
                    subject=subject,
                    purpose=purpose,
                    action=Action.GRANTED if wanted else Action.WITHDRAWN,
                    method=Method.COOKIE_BANNER,
                    ip_hash=ip_hash,
                )
            )
    return recorded


# --- Form submissions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FormKind:
    # Why we keep it, in plain words: stored in English with the submission, shown translated.
    purpose: str
    marketing_purpose: str | None  # the purpose of the optional, unticked marketing box


FORM_KINDS: dict[str, FormKind] = {
    "event_registration": FormKind(
        gettext_noop("To register you for the event and send you its joining details."), "events"
    ),
    "newsletter_signup": FormKind(
        gettext_noop("To send you the newsletter you asked for."), "newsletter"
    ),
    "material_download": FormKind(
        gettext_noop("To give you the material you asked for."), "product_updates"
    ),
    "contest_entry": FormKind(
        gettext_noop("To run the contest and contact the winners."), "marketing"
    ),
    "survey_response": FormKind(
        gettext_noop("To learn from your answers and improve our services."), None
    ),
    "support_request": FormKind(gettext_noop("To answer your support request."), None),
    "quote_request": FormKind(
        gettext_noop("To prepare the quote you asked for."), "product_updates"
    ),
    "contact_request": FormKind(gettext_noop("To answer your message."), None),
}


def form_retention(kind: str) -> timedelta:
    return timedelta(days=app_settings.FORM_RETENTION_DAYS[kind])


@transaction.atomic
def form_submission_create(
    *,
    kind: str,
    email: str,
    name: str,
    company_name: str = "",
    message: str = "",
    details: dict | None = None,
    source: str = "",
    marketing: bool = False,
    user=None,
    ip_hash: str = "",
) -> FormSubmission:
    """Store a form and, when a marketing consent is asked for, get it confirmed.

    A newsletter signup is a request for the newsletter: it is the marketing consent. Marketing
    consents of people without a verified account address are recorded only once they confirm
    from the mail we send (double opt-in); a signed-in account holder's verified address needs no
    second check.
    """
    text_refuse_unstorable(kind, email, name, company_name, message, source, ip_hash)
    text_refuse_unstorable(
        *(details or {}), *(v for v in (details or {}).values() if not isinstance(v, int | bool))
    )
    if kind not in FORM_KINDS:
        raise ValidationError(_("Unknown kind of form."))
    config = FORM_KINDS[kind]
    if kind == "newsletter_signup":
        marketing = True
    marketing_purpose = None
    if marketing and config.marketing_purpose:
        marketing_purpose = selectors.purpose_get(config.marketing_purpose)
    now = timezone.now()
    submission = FormSubmission(
        kind=kind,
        user=user if user is not None and user.is_authenticated else None,
        email=email.strip().lower(),
        name=name.strip(),
        company_name=company_name.strip(),
        message=message.strip(),
        details=details or {},
        purpose=config.purpose,
        source=source.strip()[:200],
        marketing_purpose=marketing_purpose,
        created_at=now,
        retain_until=now + form_retention(kind),
    )
    submission.full_clean()
    submission.save()
    if marketing_purpose is None:
        return submission
    if submission.user_id is not None and _account_address_verified(submission):
        submission.confirmed_at = now
        submission.save(update_fields=["confirmed_at"])
        consent_grant(
            subject=Subject(user_id=submission.user_id),
            purpose=marketing_purpose,
            method=Method.FORM_SUBMISSION,
            ip_hash=ip_hash,
        )
        _welcome_after_commit(submission)
    else:
        from .mail import confirmation_mail_send

        confirmation_mail_send(submission=submission)
    return submission


def _account_address_verified(submission: FormSubmission) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(
        user_id=submission.user_id, email__iexact=submission.email, verified=True
    ).exists()


def _welcome_after_commit(submission: FormSubmission) -> None:
    if submission.marketing_purpose and submission.marketing_purpose.code == "newsletter":
        from .mail import newsletter_welcome_send

        newsletter_welcome_send(submission=submission)


@transaction.atomic
def form_submission_confirm(*, submission_id: int, ip_hash: str = "") -> FormSubmission | None:
    """The person confirmed their address from the double opt-in mail: record the consent.

    Idempotent: a second confirmation changes nothing. Returns None if the submission is gone.
    """
    submission = (
        FormSubmission.objects.select_for_update(of=("self",))
        .select_related("marketing_purpose")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None:
        return None
    if submission.confirmed_at is not None or submission.marketing_purpose is None:
        return submission
    submission.confirmed_at = timezone.now()
    submission.save(update_fields=["confirmed_at"])
    subject = (
        Subject(user_id=submission.user_id)
        if submission.user_id is not None
        else Subject(email=submission.email)
    )
    consent_grant(
        subject=subject,
        purpose=submission.marketing_purpose,
        method=Method.FORM_SUBMISSION,
        ip_hash=ip_hash,
    )
    _welcome_after_commit(submission)
    return submission


# --- First-party analytics: aggregate counts only ---


def page_view_count(*, route: str, first_visit: bool, day=None) -> None:
    text_refuse_unstorable(route)
    day = day or timezone.localdate()
    row, _ = PageViewCount.objects.get_or_create(day=day, route=route[:200])
    PageViewCount.objects.filter(pk=row.pk).update(
        views=F("views") + 1, visits=F("visits") + (1 if first_visit else 0)
    )


# --- Forms sent by children ----------------------------------------------------------------------


@transaction.atomic
def form_submission_flag_child(*, submission: FormSubmission, actor, reason: str) -> FormSubmission:
    """An officer found that a form was sent by a child under 16: the under-16 sweep removes
    everything held about the sender. Idempotent; audited with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why you believe the form was sent by a child."))
    locked = FormSubmission.objects.select_for_update().get(pk=submission.pk)
    if locked.from_child:
        return locked
    locked.from_child = True
    locked.save(update_fields=["from_child"])
    audit_record(
        action="form_submission_flagged_child",
        actor=actor,
        subject=Subject(user_id=locked.user_id, email=locked.email),
        reason=reason,
        obj=locked,
    )
    return locked
