import json

from dsar.models import DataSubjectRequest, ExportFile
from tests.accounts.factories import PASSWORD, UserFactory
from tests.conftest import wait_for
from tests.e2e.conftest import log_in


def test_file_an_access_request_then_download_and_open_the_report(
    page, open_page, screenshot, celery_worker_process, make_staff, tmp_path
):
    """The whole right of access in Chromium: the person files it; a privacy officer, in the
    admin, takes it on, has a real worker build the package, downloads it to review it and
    releases it; the person downloads the report and opens it. On both databases."""
    person = UserFactory(full_name="Hedy Lamarr <b>Markey</b>")
    officer, secret = make_staff("Privacy officer")

    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(person.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto("/privacy/")
    page.get_by_role("link", name="Make a privacy request").click()
    page.get_by_label("See a copy of my data (access)").check()
    page.get_by_label("Details").fill("Everything you hold about me, please.")
    screenshot("access-request-filled")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**/privacy/requests/*/")
    screenshot("access-request-filed")
    request = DataSubjectRequest.objects.get(user=person)

    # The privacy officer works it in the admin: take it on, start it, build, review, release.
    desk = open_page()
    change_url = f"/admin/dsar/datasubjectrequest/{request.pk}/change/"
    log_in(desk, officer, totp_secret=secret, next_url=change_url)
    desk.get_by_role("button", name="Assign to me").click()
    desk.get_by_label("Move to").select_option(label="In progress")
    desk.get_by_role("button", name="Apply", exact=True).click()
    desk.locator("form:has(input[name=action][value=apply]) button").click()
    wait_for(lambda: ExportFile.objects.filter(request=request, state="ready").exists(), timeout=90)
    desk.goto(change_url)
    with desk.expect_download() as review_download:
        desk.get_by_role("link", name="download report.html to review").click()
    reviewed = tmp_path / "reviewed.html"
    review_download.value.save_as(reviewed)
    assert "Hedy Lamarr" in reviewed.read_text()
    desk.get_by_role("button", name="Release to the person").click()
    assert ExportFile.objects.get(request=request).state == "released"

    page.reload()
    screenshot("report-ready")
    with page.expect_download() as html_download:
        page.get_by_role("link", name="Your report (HTML, for reading)").click()
    html_path = tmp_path / "report.html"
    html_download.value.save_as(html_path)
    with page.expect_download() as json_download:
        page.get_by_role("link", name="Your report (JSON, for machines)").click()
    json_path = tmp_path / "report.json"
    json_download.value.save_as(json_path)

    report = json.loads(json_path.read_text())
    assert report["subject"] == f"user:{person.pk}"
    page.goto(html_path.as_uri())
    screenshot("report-opened")
    assert page.get_by_role("heading", name="Account and profile").count() == 1
    assert page.get_by_text("Hedy Lamarr <b>Markey</b>").count() >= 1  # shown, not interpreted
