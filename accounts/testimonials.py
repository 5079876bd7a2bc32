"""Testimonials: written by the person, or drafted by staff from the person's feedback; published
only as the person approved them, word for word; changed or withdrawn by the person at any time,
which takes them off the public page at once.

The consent ledger's "testimonial" purpose follows: approving grants it, withdrawing the
testimonial withdraws it, and withdrawing the consent (preferences, unsubscribe) withdraws the
testimonial (consent.signals.consent_withdrawn).
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar.registry import Subject
from dsar.selectors import blocked_emails, blocked_user_ids
from dsar.services import audit_record

from .models import Testimonial, User

TESTIMONIAL_PURPOSE = "testimonial"
State = Testimonial.State


def testimonial_fingerprint(testimonial: Testimonial) -> str:
    """What the person is shown and approves: text, name and details, exactly."""
    content = "\x1f".join((testimonial.text, testimonial.display_name, testimonial.display_details))
    return hashlib.sha256(content.encode()).hexdigest()


def _consent(user: User, *, grant: bool) -> None:
    from consent import selectors as consent_selectors
    from consent import services as consent_services

    subject = Subject(user_id=user.pk)
    granted = consent_selectors.consent_is_granted(subject=subject, purpose=TESTIMONIAL_PURPOSE)
    if grant and not granted:
        consent_services.consent_grant(
            subject=subject,
            purpose=TESTIMONIAL_PURPOSE,
            method=consent_services.Method.FORM_SUBMISSION,
        )
    elif not grant and granted:
        consent_services.consent_withdraw(
            subject=subject,
            purpose=TESTIMONIAL_PURPOSE,
            method=consent_services.Method.PREFERENCE_CENTRE,
        )


def _approve(testimonial: Testimonial, now) -> None:
    testimonial.state = State.APPROVED
    testimonial.approved_text = testimonial.text
    testimonial.approved_name = testimonial.display_name
    testimonial.approved_details = testimonial.display_details
    testimonial.approved_at = now
    testimonial.published_at = None


def _audit(action: str, testimonial: Testimonial, actor) -> None:
    audit_record(
        action=action,
        actor=actor,
        subject=Subject(user_id=testimonial.user_id),
        obj=testimonial,
        detail={"state": testimonial.state},
    )


@transaction.atomic
def testimonial_write(
    *, user: User, text: str, display_name: str, display_details: str = ""
) -> Testimonial:
    """The person writes (or changes) their testimonial; writing it is approving this text.

    A changed testimonial leaves the public page at once and waits to be published again.
    """
    testimonial = Testimonial.objects.select_for_update().filter(user=user).first()
    testimonial = testimonial or Testimonial(user=user)
    testimonial.text = text.strip()
    testimonial.display_name = display_name.strip()
    testimonial.display_details = display_details.strip()
    testimonial.drafted_by = None
    _approve(testimonial, timezone.now())
    testimonial.full_clean()
    testimonial.save()
    _consent(user, grant=True)
    _audit("testimonial_approved", testimonial, user)
    return testimonial


@transaction.atomic
def testimonial_draft(
    *,
    staff: User,
    user: User,
    feedback: str,
    text: str,
    display_name: str,
    display_details: str = "",
) -> Testimonial:
    """Staff propose a testimonial from the person's feedback; it waits for their approval."""
    testimonial = Testimonial.objects.select_for_update().filter(user=user).first()
    if testimonial is not None and testimonial.state in (State.APPROVED, State.PUBLISHED):
        raise ValidationError(
            _("This person already has an approved testimonial; only they can change it.")
        )
    testimonial = testimonial or Testimonial(user=user)
    testimonial.state = State.AWAITING_APPROVAL
    testimonial.feedback = feedback.strip()
    testimonial.text = text.strip()
    testimonial.display_name = display_name.strip()
    testimonial.display_details = display_details.strip()
    testimonial.drafted_by = staff
    testimonial.approved_text = testimonial.approved_name = testimonial.approved_details = ""
    testimonial.approved_at = testimonial.published_at = None
    testimonial.full_clean()
    testimonial.save()
    _audit("testimonial_drafted", testimonial, staff)
    return testimonial


@transaction.atomic
def testimonial_approve(*, user: User, fingerprint: str) -> Testimonial:
    """The person approves the draft they were shown. If it changed since, nothing happens."""
    testimonial = Testimonial.objects.select_for_update().filter(user=user).first()
    if testimonial is None or testimonial.state != State.AWAITING_APPROVAL:
        raise ValidationError(_("There is no testimonial waiting for your approval."))
    if fingerprint != testimonial_fingerprint(testimonial):
        raise ValidationError(
            _("The testimonial changed since you opened the page. Read it again before approving.")
        )
    _approve(testimonial, timezone.now())
    testimonial.save()
    _consent(user, grant=True)
    _audit("testimonial_approved", testimonial, user)
    return testimonial


@transaction.atomic
def testimonial_publish(*, staff: User, testimonial: Testimonial) -> Testimonial:
    testimonial = Testimonial.objects.select_for_update().get(pk=testimonial.pk)
    if testimonial.state != State.APPROVED:
        raise ValidationError(_("Only a testimonial its author approved can be published."))
    from consent import selectors as consent_selectors

    if not consent_selectors.consent_is_granted(
        subject=Subject(user_id=testimonial.user_id), purpose=TESTIMONIAL_PURPOSE
    ):
        raise ValidationError(_("The author has not allowed us to publish a testimonial."))
    if not consent_selectors.data_use_allowed(
        subject=Subject(user_id=testimonial.user_id), purpose=TESTIMONIAL_PURPOSE
    ):
        raise ValidationError(
            _("The author restricted or objected to the use of their testimonial.")
        )
    testimonial.state = State.PUBLISHED
    testimonial.published_at = timezone.now()
    testimonial.save(update_fields=["state", "published_at", "updated_at"])
    _audit("testimonial_published", testimonial, staff)
    return testimonial


@transaction.atomic
def testimonial_withdraw(*, user: User) -> Testimonial | None:
    """The person withdraws their testimonial (or declines a draft): off the page at once."""
    testimonial = _withdraw(user_id=user.pk, actor=user)
    _consent(user, grant=False)
    return testimonial


def _withdraw(*, user_id: int, actor) -> Testimonial | None:
    testimonial = Testimonial.objects.select_for_update().filter(user_id=user_id).first()
    if testimonial is None or testimonial.state == State.WITHDRAWN:
        return testimonial
    testimonial.state = State.WITHDRAWN
    testimonial.published_at = None
    testimonial.approved_text = testimonial.approved_name = testimonial.approved_details = ""
    testimonial.approved_at = None
    testimonial.save()
    _audit("testimonial_withdrawn", testimonial, actor)
    return testimonial


def on_consent_withdrawn(sender, *, subject: Subject, purpose: str, **kwargs) -> None:
    """Withdrawing the "testimonial" consent anywhere withdraws the testimonial at once."""
    if purpose == TESTIMONIAL_PURPOSE and subject.user_id is not None:
        _withdraw(user_id=subject.user_id, actor=None)


def testimonials_published() -> QuerySet:
    """For the public page: only what each author approved, only while it is published, and
    not while the author restricts or objects to its use (it comes back when that is lifted)."""
    uses = [TESTIMONIAL_PURPOSE]
    return (
        Testimonial.objects.filter(state=State.PUBLISHED, published_at__isnull=False)
        .exclude(user_id__in=blocked_user_ids(uses=uses))
        .annotate(author_email=Lower("user__email"))
        .exclude(author_email__in=blocked_emails(uses=uses))
        .only("approved_text", "approved_name", "approved_details", "published_at")
    )
