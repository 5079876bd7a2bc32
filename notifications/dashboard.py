"""The notifications app's section of the privacy dashboard (dsar.dashboard)."""

from dsar.dashboard import DashboardSection, dashboard_section

from .selectors import devices_for


@dashboard_section
def devices_section(request):
    return DashboardSection(
        template="notifications/dashboard/devices.html",
        context={"devices": list(devices_for(user=request.user))},
        order=25,
    )
