"""The API's interactive docs (Swagger UI from django-ninja's own static files) work for an
officer under the portal's strict Content-Security-Policy, with nothing from a CDN."""

import re

from api.api import api
from tests.e2e.conftest import log_in
from tests.e2e.test_content_security_policy import WATCH_VIOLATIONS


def test_the_api_docs_render_under_the_csp(page, make_staff, live_server):
    officer, secret = make_staff("Privacy officer")
    console, outside = [], []
    page.on("console", lambda message: console.append(message.text))
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else outside.append(request.url)
        ),
    )
    page.add_init_script(WATCH_VIOLATIONS)
    log_in(page, officer, totp_secret=secret, next_url="/api/v1/docs")
    page.locator(".opblock-summary-path", has_text="/api/v1/contact/batch").wait_for()
    operations = sum(len(methods) for methods in api.get_openapi_schema()["paths"].values())
    assert page.locator(".opblock").count() == operations
    read_request = re.compile(r"^/api/v1/requests/\{request_id\}$")
    page.locator(".opblock-summary-path", has_text=read_request).click()
    page.get_by_text("requests:read", exact=False).first.wait_for()
    assert page.evaluate("window.__cspViolations") == []
    assert [m for m in console if "Content Security Policy" in m] == []
    assert outside == []
    for url in ["/admin/api/apiclient/", "/admin/api/apiclient/add/"]:
        page.goto(url)
        page.wait_for_load_state("load")
    assert page.evaluate("window.__cspViolations") == []
