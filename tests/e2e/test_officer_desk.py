from datetime import timedelta

from django.utils import timezone

from dsar.models import DataSubjectRequest, RequestKind, RequestState
from tests.accounts.factories import PASSWORD, UserFactory
from tests.conftest import totp_now


def test_officer_desk_pages_and_charts_render(page, screenshot, make_staff):
    now = timezone.now()
    for i, kind in enumerate([RequestKind.ACCESS, RequestKind.ERASURE, RequestKind.ACCESS]):
        received = now - timedelta(days=20 + i * 7)
        DataSubjectRequest.objects.create(
            kind=kind,
            state=RequestState.COMPLETED,
            user=UserFactory(),
            received_at=received,
            due_at=received + timedelta(days=30),
            closed_at=received + timedelta(days=5 + i * 10),
        )
    officer, secret = make_staff("Privacy officer")

    page.goto("/admin/desk/")
    page.get_by_label("Username or email").fill(officer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.locator("input[name=code]").fill(totp_now(secret))
    page.locator("main button[type=submit]").first.click()
    page.wait_for_url("**/admin/desk/")
    screenshot("desk-home")
    assert page.get_by_text("Overdue requests").count() == 1

    page.get_by_role("link", name="Request metrics").click()
    page.wait_for_url("**/request-metrics/")
    for chart in ("chart-weekly", "chart-time"):
        drawn = page.evaluate(f"!!Chart.getChart(document.getElementById('{chart}'))")
        assert drawn, chart
    screenshot("request-metrics")
    assert page.locator("#m-completed").inner_text() == "3"

    page.goto("/admin/desk/records-of-processing/")
    screenshot("records-of-processing")
    assert page.get_by_role("row", name="Your account").count() >= 1
    page.goto("/admin/desk/ccpa-disclosure/")
    screenshot("ccpa-disclosure")
    page.goto("/admin/desk/consent-insights/")
    assert page.evaluate("!!Chart.getChart(document.getElementById('chart-consent'))")
    screenshot("consent-insights")
