"""A person sends a scan from their workspace; a reviewer takes it with a purpose, sees the image
and corrects the text, in Chromium, with no Content-Security-Policy refusal on the way."""

from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts import workspaces
from review.models import ScanReview
from tests.accounts.factories import PASSWORD, UserFactory
from tests.conftest import totp_now
from tests.e2e.test_content_security_policy import WATCH_VIOLATIONS, visit
from tests.review.test_review import png_upload

RECOGNISED = "Invoice 4711, total 120.00 EUR"


def sign_in(page, user, secret=None, next_url="/"):
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if secret:
        page.locator("input[name=code]").fill(totp_now(secret))
        page.locator("main button[type=submit]").first.click()
    page.wait_for_url(f"**{next_url}")


def test_a_scan_goes_from_the_workspace_to_its_reviewer_and_back(
    page, browser, live_server, screenshot, make_staff, tmp_path
):
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(WATCH_VIOLATIONS)
    owner = UserFactory(full_name="Olga Owner")
    workspace = workspaces.workspace_create(owner=owner, name="Olga's office")
    url = f"/accounts/workspaces/{workspace.pk}/review/"

    sign_in(page, owner, next_url=url)
    scan_file = tmp_path / "scan.png"
    scan_file.write_bytes(png_upload().read())
    page.get_by_label("Scanned image").set_input_files(str(scan_file))
    page.get_by_label("Recognised text").fill(RECOGNISED)
    page.get_by_role("button", name="Send the scan").click()
    page.get_by_text("A reviewer will check the recognised text").wait_for()
    screenshot("sent")
    assert visit(page, url, console) == []
    item = ScanReview.objects.get()

    reviewer, secret = make_staff("Reviewer")
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    staff_page = context.new_page()
    staff_page.set_default_timeout(15_000)
    staff_page.add_init_script(WATCH_VIOLATIONS)
    staff_page.on("console", lambda message: console.append(message.text))
    sign_in(staff_page, reviewer, secret, next_url="/admin/review/scanreview/")
    assert Group.objects.get(name="Reviewer") in reviewer.groups.all()
    # The queue shows no content, and the item is not open to a reviewer who has not taken it.
    assert RECOGNISED not in staff_page.content()
    staff_page.locator(f"input[name=_selected_action][value='{item.pk}']").check()
    staff_page.locator("select[name=action]").select_option("take_items")
    staff_page.get_by_role("button", name="Go").click()
    staff_page.get_by_label("Purpose").fill("Checking the recognised text, ticket OCR-12.")
    staff_page.get_by_role("button", name="Confirm").click()
    staff_page.get_by_role("link", name="Open").click()
    staff_page.get_by_role("img", name="The scanned image to check").wait_for()
    # expect() polls from Playwright's side (wait_for_function's in-page polling needs eval,
    # which the page's CSP refuses).
    expect(staff_page.locator("img.review-scan")).to_have_js_property("complete", True)
    assert staff_page.evaluate("document.querySelector('img.review-scan').naturalWidth") == 120
    staff_page.get_by_label("Text the scan shows").fill("Invoice 4711, total 126.00 EUR")
    staff_page.get_by_role("button", name="Save the checked text").click()
    staff_page.get_by_text("The content has been deleted").wait_for()
    violations = staff_page.evaluate("window.__cspViolations")
    context.close()

    item.refresh_from_db()
    assert item.decision == "corrected" and not item.image
    page.goto(url)
    assert page.get_by_text("Invoice 4711, total 126.00 EUR").count() == 1
    screenshot("checked")
    assert violations == [] and [m for m in console if "Content Security Policy" in m] == []
