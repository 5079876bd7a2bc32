"""Consent receipts: the fields of the Kantara Initiative Consent Receipt 1.1 (which ISO/IEC
TS 27560 builds on), with the full consent history and current state added."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from dsar.registry import Subject

from .app_settings import app_settings
from .models import Channel, ConsentEvent, Partner, PolicyVersion, Purpose

if TYPE_CHECKING:
    from .selectors import ConsentState

CONTROLLER = {
    "piiController": "Workpex",
    "onBehalf": False,
    "contact": "Workpex privacy team",
    "email": "privacy@workpex.example",
    "piiControllerUrl": "https://www.workpex.com",
}
POLICY_URL = "https://www.Workpex.com/privacy-policy"


def _iso(value) -> str:
    return value.isoformat() if value else ""


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
    consented = []
    current = []
    for purpose in purposes:
        if purpose.channel == Channel.COOKIE:
            continue  # cookie choices belong to a browser, not to the person
        targets = [(None, None)]
        if purpose.per_partner:
            targets = [(p.pk, p.name) for p in partners]
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
            if granted and not purpose.is_essential:
                consented.append(
                    {
                        "purpose": purpose.name,
                        "purposeCategory": [purpose.code],
                        "consentType": "EXPLICIT",
                        "piiCategory": [_("Contact details (email address)")],
                        "primaryPurpose": False,
                        "termination": _("Until you withdraw it"),
                        "thirdPartyDisclosure": partner_name is not None,
                        "thirdPartyName": partner_name or "",
                    }
                )
    latest = history[-1] if history else None
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "EU",
        "consentTimestamp": int(latest.at.timestamp()) if latest else None,
        "collectionMethod": latest.get_method_display() if latest else "",
        "consentReceiptID": receipt_id,
        "language": language,
        "piiPrincipalId": subject.email or subject.ref,
        "piiControllers": [CONTROLLER],
        "policyUrl": POLICY_URL,
        "policyVersion": policy.version if policy else "",
        "services": [{"service": "Workpex", "purposes": consented}],
        "sensitive": False,
        "spiCat": [],
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
    }
