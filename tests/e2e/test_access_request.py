import json

from django.contrib.auth.models import Group

from dsar import services
from dsar.models import DataSubjectRequest, ExportFile
from tests.conftest import wait_for
from tests.factories import PASSWORD, UserFactory


def test_file_an_access_request_then_download_and_open_the_report(
    page, screenshot, celery_worker_process, tmp_path
):
    person = UserFactory(full_name="Hedy Lamarr <b>Markey</b>")
    officer = UserFactory(is_staff=True)
    officer.groups.add(Group.objects.get(name="Privacy officer"))  # may work requests

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

    # The privacy officer takes it on; a real worker builds the package; the officer releases it.
    services.dsar_request_assign(request=request, assignee=officer, actor=officer)
    request = services.dsar_request_transition(
        request=request, to_state="in_progress", actor=officer
    )
    services.dsar_request_apply(request=request, actor=officer)
    export = wait_for(
        lambda: ExportFile.objects.filter(request=request, state="ready").first(), timeout=60
    )
    services.export_release(export=export, actor=officer)

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
