"""The Content-Security-Policy refuses inline scripts and styles: no page of ours may need one.
Chromium reports every refusal as a `securitypolicyviolation` event and a console error."""

from tests.accounts.factories import PASSWORD
from tests.conftest import totp_now

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile);
});
"""


def visit(page, url, console):
    page.goto(url)
    page.wait_for_load_state("load")
    violations = page.evaluate("window.__cspViolations")
    refused = [m for m in console if "Content Security Policy" in m]
    console.clear()
    return violations + refused


def test_no_page_breaks_the_content_security_policy(page, make_staff):
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(WATCH_VIOLATIONS)
    found = {}
    for url in [
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/privacy/requests/new/",
        "/preferences/",
        "/policy/",
        "/cookies/",
        "/forms/contact/",
        "/no-such-page/",
    ]:
        found[url] = visit(page, url, console)
    # The banner's choice, then the home page with social widgets accepted (the widgets' own
    # scripts cannot load offline; only our origin's policy is checked here).
    page.get_by_role("button", name="Refuse all").first.click()
    page.wait_for_load_state("load")
    # Bootstrap's JavaScript works: the collapsed menu opens on a narrow screen.
    page.set_viewport_size({"width": 400, "height": 800})
    page.goto("/")
    page.locator(".navbar-toggler").click()
    page.locator("#main-nav.show").wait_for()
    page.set_viewport_size({"width": 1280, "height": 800})

    officer, secret = make_staff("Privacy officer")
    page.goto("/accounts/login/?next=/admin/")
    page.get_by_label("Username or email").fill(officer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.locator("input[name=code]").fill(totp_now(secret))
    page.locator("main button[type=submit]").first.click()
    page.wait_for_url("**/admin/")
    for url in [
        "/admin/",
        "/admin/dsar/datasubjectrequest/",
        "/admin/dsar/auditevent/",
        "/admin/consent/consentevent/",
        "/admin/consent/policyversion/1/change/",
        "/admin/desk/",
        "/admin/desk/request-metrics/",
        "/admin/desk/consent-insights/",
        "/privacy/",
        "/accounts/profile/",
        "/accounts/2fa/",
    ]:
        found[url] = visit(page, url, console)
    assert {url: v for url, v in found.items() if v} == {}
