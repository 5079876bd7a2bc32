"""The consent app's section of the privacy dashboard (dsar.dashboard): what the person has
agreed to right now, the policy in force and what they acknowledged, with links to change it."""

from dsar.dashboard import DashboardSection, dashboard_section
from dsar.registry import Subject

from .models import Channel, MessageChannel, PolicyAcknowledgement
from .selectors import (
    consent_state,
    policy_version_in_force,
    purpose_paused_by,
    purposes_for_preferences,
    purposes_paused,
)


def _item(purpose, state, paused: dict) -> dict:
    """One purpose as the dashboard shows it: on, off, or paused by a restriction or objection
    (never "on" while one stops it); channels listed only while they really work."""
    block = purpose_paused_by(purpose, paused)
    return {
        "purpose": purpose,
        "granted": purpose.is_essential or (block is None and state.granted(purpose)),
        "paused_by": block,
        "channels": [
            MessageChannel(channel).label
            for channel in purpose.message_channels
            if purpose.has_channel_switches
            and state.granted(purpose, channel=channel)
            and purpose_paused_by(purpose, paused, channel) is None
        ],
    }


@dashboard_section
def consents_section(request):
    subject = Subject(user_id=request.user.pk, email=request.user.email)
    state = consent_state(subject=subject)
    paused = purposes_paused(subject=subject)
    purposes = [
        _item(purpose, state, paused)
        for purpose in purposes_for_preferences().exclude(channel=Channel.COOKIE)
    ]
    acknowledged = (
        PolicyAcknowledgement.objects.filter(user=request.user)
        .select_related("version")
        .order_by("-version__effective_at")
        .first()
    )
    return DashboardSection(
        template="consent/dashboard/consents.html",
        context={
            "consent_purposes": purposes,
            "policy_in_force": policy_version_in_force(),
            "policy_acknowledged": acknowledged,
        },
        order=10,
    )
