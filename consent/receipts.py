"""Consent receipts: the fields of the Kantara Initiative Consent Receipt 1.1 (which ISO/IEC
TS 27560 builds on), with the full consent history and current state added."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from dsar.mail import absolute_url
from dsar.registry import Subject

from .app_settings import app_settings
from .models import Channel, ConsentEvent, MessageChannel, Partner, PolicyVersion, Purpose

if TYPE_CHECKING:
    from .selectors import ConsentState

DPV_CONFORMS_TO = "https://w3id.org/dpv/schema/iso-27560#receipt-summary"

# What each consent purpose really uses (what the registry holds for it), for the receipt's
# piiCategory. A purpose not named here uses what its channel needs (CHANNEL_PII_CATEGORIES).
PURPOSE_PII_CATEGORIES = {
    "partner_notifications": (
        _l("Name"),
        _l("Email address (shared with the partners you chose)"),
    ),
    "testimonial": (
        _l("The name and details you chose to show with it"),
        _l("Your feedback and the testimonial text you approved"),
    ),
    "stored_payment_method": (
        _l("Payment processor's token for your card (encrypted)"),
        _l("Cardholder name"),
        _l("Billing address"),
        _l("Card expiry date and last four digits"),
    ),
}
CHANNEL_PII_CATEGORIES = {
    Channel.EMAIL: (_l("Name"), _l("Email address")),
    Channel.DATA_USE: (_l("Account and profile details"),),
}
# Added to the categories of a purpose whose messages may also come as push notifications.
PUSH_PII_CATEGORY = _l("Push notification subscription of your devices")
# GDPR Art. 6(1) points of the bases, as DPV's eu-gdpr extension names them.
LEGAL_BASIS_DPV = {
    "consent": "eu-gdpr:A6-1-a",
    "contract": "eu-gdpr:A6-1-b",
    "legal_obligation": "eu-gdpr:A6-1-c",
    "legitimate_interests": "eu-gdpr:A6-1-f",
}


def _iso(value) -> str:
    return value.isoformat() if value else ""


def purpose_pii_categories(purpose: Purpose) -> list[str]:
    """The kinds of personal data a purpose uses, in words."""
    categories = PURPOSE_PII_CATEGORIES.get(purpose.code) or CHANNEL_PII_CATEGORIES.get(
        purpose.channel, ()
    )
    words = [str(c) for c in categories]
    if MessageChannel.PUSH in purpose.message_channels:
        words.append(str(PUSH_PII_CATEGORY))
    return words


def _withdrawal_method(purpose: Purpose, preferences_url: str) -> str:
    if purpose.channel == Channel.EMAIL:
        return _(
            "Switch it off in the preference centre (%(url)s) or use the unsubscribe link in "
            "any of our mails; it takes effect at once."
        ) % {"url": preferences_url}
    return _("Switch it off in the preference centre (%(url)s); it takes effect at once.") % {
        "url": preferences_url
    }


def _record_id(subject: Subject, purpose: Purpose, partner_id: int | None) -> str:
    """A stable id of one consent record (person, purpose, partner) across receipts."""
    name = f"{subject.ref}|{purpose.code}|{partner_id or ''}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{app_settings.SITE_URL}/consent-record/{name}"))


def _controller() -> dict:
    controller = app_settings.CONTROLLER
    return {
        "piiController": controller["name"],
        "onBehalf": False,
        "contact": controller["contact"],
        "address": dict(controller["address"]),
        "email": controller["email"],
        "phone": controller["phone"],
        "piiControllerUrl": controller["url"],
    }


def receipt_build(
    *,
    subject: Subject,
    state: ConsentState,
    history: list[ConsentEvent],
    purposes: list[Purpose],
    partners: list[Partner],
    policy: PolicyVersion | None,
    receipt_id: str,
    language: str,
) -> dict:
    """The receipt as a dict: the Kantara v1.1 fields (which its JSON schema checks), the
    ISO/IEC TS 27560 record fields as DPV names them (`iso27560`), the current state and the
    whole history. Each consented purpose carries the time and method of the grant in force."""
    now = timezone.now()
    preferences_url = absolute_url(reverse("consent:preferences"))
    # The text the person agreed to: the version in force, on this portal, where it stays.
    policy_url = absolute_url(
        reverse("consent:policy_version", args=[policy.version])
        if policy
        else reverse("consent:policy")
    )
    controller = app_settings.CONTROLLER
    principal_id = subject.email or subject.ref
    party_type = "dpv:User" if subject.user_id is not None else "dpv:DataSubject"
    storage = list(app_settings.RECEIPT_STORAGE_LOCATIONS)
    consented = []
    current = []
    records = []
    grants_in_force: list[ConsentEvent] = []
    for purpose in purposes:
        if purpose.channel == Channel.COOKIE:
            continue  # cookie choices belong to a browser, not to the person
        targets = [(None, None)]
        if purpose.per_partner:
            targets = [(p.pk, p.name) for p in partners]
        categories = purpose_pii_categories(purpose)
        withdrawal = _withdrawal_method(purpose, preferences_url)
        for partner_id, partner_name in targets:
            granted = state.granted(purpose, partner_id)
            event = state.event_for(purpose, partner_id)
            current.append(
                {
                    "purpose": purpose.code,
                    "purposeName": purpose.name,
                    "partner": partner_name,
                    "legalBasis": purpose.legal_basis,
                    "essential": purpose.is_essential,
                    "state": "granted" if granted else "not granted",
                    "since": _iso(event.at) if event else "",
                    "channels": {
                        channel: state.granted(purpose, partner_id, channel=channel)
                        for channel in purpose.message_channels
                    },
                }
            )
            if purpose.is_essential:
                continue
            in_force = event if granted and event is not None else None
            if event is None:
                status = "dpv:ConsentUnknown"
            elif granted:
                status = "dpv:ConsentGiven"
            else:
                status = "dpv:ConsentWithdrawn"
            records.append(
                {
                    "dct:identifier": _record_id(subject, purpose, partner_id),
                    "dpv:hasPurpose": purpose.code,
                    "purposeName": purpose.name,
                    "dpv:hasLegalBasis": LEGAL_BASIS_DPV.get(purpose.legal_basis, ""),
                    "dpv:hasPersonalData": categories,
                    "dpv:hasRecipient": [partner_name] if partner_name else [controller["name"]],
                    "dpv:hasConsentStatus": status,
                    "dct:date": _iso(event.at) if event else "",
                    "dpv:hasMethod": event.get_method_display() if event else "",
                    "withdrawalMethod": withdrawal,
                    # Consent stands until withdrawn: no fixed end (DPV's until-event duration).
                    "dpv:hasDuration": {
                        "@type": "dpv:UntilEventDuration",
                        "description": _("Until you withdraw it"),
                    },
                    "dpv:hasStorageCondition": [
                        {"@type": "dpv:StorageLocation", "dpv:hasLocation": storage},
                    ],
                }
            )
            if in_force is None:
                continue
            grants_in_force.append(in_force)
            consented.append(
                {
                    "purpose": purpose.name,
                    "purposeCategory": [purpose.code],
                    "consentType": "EXPLICIT",
                    "piiCategory": categories,
                    "primaryPurpose": False,
                    "termination": _("Until you withdraw it"),
                    "thirdPartyDisclosure": partner_name is not None,
                    "thirdPartyName": partner_name or "",
                    "consentTimestamp": int(in_force.at.timestamp()),
                    "collectionMethod": in_force.get_method_display(),
                    "withdrawalMethod": withdrawal,
                }
            )
    # The receipt's own time and method: the latest grant still in force. With none in force,
    # the receipt states what it is at the time it is issued (Kantara needs an integer here).
    latest_grant = max(grants_in_force, key=lambda e: (e.at, e.pk), default=None)
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": app_settings.RECEIPT_JURISDICTION,
        "consentTimestamp": int((latest_grant.at if latest_grant else now).timestamp()),
        "collectionMethod": (
            latest_grant.get_method_display()
            if latest_grant
            else _("No consent in force; receipt downloaded from the preference centre")
        ),
        "consentReceiptID": receipt_id,
        "language": language,
        "piiPrincipalId": principal_id,
        "piiControllers": [_controller()],
        "policyUrl": policy_url,
        "policyVersion": policy.version if policy else "",
        "services": [{"service": controller["name"], "purposes": consented}],
        "sensitive": False,
        "spiCat": [],
        "iso27560": {
            "dct:identifier": receipt_id,
            "dct:conformsTo": DPV_CONFORMS_TO,
            "dct:created": _iso(now),
            "dpv:hasDataSubject": {"@id": principal_id, "@type": party_type},
            "dpv:hasDataController": {
                "@id": controller["entity_id"],
                "name": controller["name"],
                "contact": controller["contact"],
                "email": controller["email"],
                "phone": controller["phone"],
                "address": dict(controller["address"]),
            },
            "dpv:hasJurisdiction": [app_settings.RECEIPT_JURISDICTION],
            "dpv:hasApplicableLaw": "eu-gdpr:GDPR",
            "dpv:hasStorageCondition": [
                {"@type": "dpv:StorageLocation", "dpv:hasLocation": storage},
            ],
            "records": records,
        },
        "consentState": current,
        "consentHistory": [
            {
                "timestamp": _iso(e.at),
                "purpose": e.purpose.code,
                "purposeName": e.purpose.name,
                "partner": e.partner.name if e.partner_id else None,
                "state": e.action,
                "channel": e.channel or "all",
                "collectionMethod": e.method,
                "policyVersion": e.policy_version.version,
            }
            for e in history
        ],
        "portalUrl": app_settings.SITE_URL,
        "jwksUrl": f"{app_settings.SITE_URL}/.well-known/jwks.json",
    }
