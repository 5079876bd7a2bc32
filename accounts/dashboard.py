"""The accounts app's sections of the privacy dashboard (dsar.dashboard)."""

from dsar.dashboard import DashboardSection, dashboard_section

from .integrations import INTEGRATIONS, SCOPES
from .models import IntegrationGrant


@dashboard_section
def integrations_section(request):
    grants = [
        {
            "grant": grant,
            "name": INTEGRATIONS[grant.integration].name
            if grant.integration in INTEGRATIONS
            else grant.integration,
            "scopes": [SCOPES.get(s, s) for s in grant.scopes],
        }
        for grant in IntegrationGrant.objects.filter(
            user=request.user, revoked_at__isnull=True
        ).select_related("workspace")
    ]
    return DashboardSection(
        template="accounts/dashboard/integrations.html", context={"grants": grants}, order=20
    )
