"""The consent app's section of the privacy dashboard (dsar.dashboard): what the person has
agreed to right now, the policy in force and what they acknowledged, with links to change it."""

from dsar.dashboard import DashboardSection, dashboard_section
from dsar.registry import Subject

from .models import Channel, MessageChannel, PolicyAcknowledgement
from .selectors import consent_state, policy_version_in_force, purposes_for_preferences


@dashboard_section
def consents_section(request):
    state = consent_state(subject=Subject(user_id=request.user.pk, email=request.user.email))
    purposes = [
        {
            "purpose": purpose,
            "granted": purpose.is_essential or state.granted(purpose),
            "channels": [
                MessageChannel(channel).label
                for channel in purpose.message_channels
                if purpose.has_channel_switches and state.granted(purpose, channel=channel)
            ],
        }
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
