import re

from django.core import mail

from consent import mail as consent_mail
from consent import selectors, services
from consent.models import PageViewCount
from dsar.registry import Subject
from tests.accounts.factories import UserFactory

THIRD_PARTY = re.compile(r"^https?://(?!localhost|127\.0\.0\.1)")


def block_third_parties(page):
    """The test has no internet; the widget scripts may be requested but never answered."""
    requested = []

    def handle(route):
        requested.append(route.request.url)
        route.abort()

    page.route(THIRD_PARTY, handle)
    return requested


def script_sources(page) -> list[str]:
    return page.eval_on_selector_all("script[src]", "nodes => nodes.map(n => n.src)")


def cookie_names(page) -> set[str]:
    return {c["name"] for c in page.context.cookies()}


def test_accepting_the_banner_adds_analytics_and_widgets(page, screenshot):
    requested = block_third_parties(page)
    page.goto("/")
    banner = page.get_by_role("region", name="Your cookie choices")
    assert banner.is_visible()
    screenshot("banner")
    assert not any("analytics.js" in s or "twitter" in s for s in script_sources(page))
    assert cookie_names(page) <= {"csrftoken"}  # nothing but the necessary before a choice

    banner.get_by_role("button", name="Accept all").click()
    page.wait_for_load_state("networkidle")
    screenshot("accepted")
    assert page.get_by_role("region", name="Your cookie choices").count() == 0
    sources = script_sources(page)
    assert any(s.endswith("/static/consent/analytics.js") for s in sources)
    assert "https://platform.twitter.com/widgets.js" in sources
    assert page.locator("a.twitter-share-button").count() == 1
    assert {"wpx_cookie_choices", "wpx_analytics_visit"} <= cookie_names(page)
    assert any("platform.twitter.com" in url for url in requested)
    assert PageViewCount.objects.filter(route="/").exists()


def test_refusing_the_banner_keeps_the_page_clean(page, screenshot):
    requested = block_third_parties(page)
    page.goto("/")
    page.get_by_role("region", name="Your cookie choices").get_by_role(
        "button", name="Refuse all"
    ).click()
    page.wait_for_load_state("networkidle")
    screenshot("refused")
    sources = script_sources(page)
    assert not any("analytics.js" in s or "twitter" in s or "facebook" in s for s in sources)
    assert page.locator("a.twitter-share-button").count() == 0
    assert page.get_by_role("link", name="Share on X (Twitter)").is_visible()
    assert cookie_names(page) == {"csrftoken", "wpx_cookie_choices"}
    assert requested == [] and not PageViewCount.objects.exists()

    # The footer link reopens the choices; accept only the social widgets.
    page.get_by_role("link", name="Cookie settings").click()
    page.get_by_label("Social media widgets").check()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_url(re.compile(r".*/$"))
    sources = script_sources(page)
    assert "https://platform.twitter.com/widgets.js" in sources
    assert not any("analytics.js" in s for s in sources)


def test_gpc_browser_gets_no_analytics(browser, live_server):
    context = browser.new_context(base_url=live_server.url, extra_http_headers={"Sec-GPC": "1"})
    page = context.new_page()
    block_third_parties(page)
    page.goto("/")
    assert page.get_by_label("Analytics").is_disabled()
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_load_state("networkidle")
    assert not any("analytics.js" in s for s in script_sources(page))
    assert "wpx_analytics_visit" not in cookie_names(page)
    context.close()


def test_unsubscribe_from_a_mails_link_in_one_click(page, screenshot, settings, live_server):
    settings.SITE_URL = live_server.url
    person = UserFactory()
    subject = Subject(user_id=person.pk)
    services.consent_grant(subject=subject, purpose="newsletter", method="signup")
    consent_mail.mail_send(
        subject=subject,
        purpose="newsletter",
        template="consent/mail/announcement",
        context={"title": "News", "body": "Hello"},
    )  # outside a transaction: sent at once
    message = mail.outbox[-1]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert link in message.body

    page.goto(link)
    screenshot("unsubscribe-page")
    assert selectors.can_contact(subject, "newsletter")  # opening the link changed nothing
    page.get_by_role("button", name="Unsubscribe", exact=True).click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    screenshot("unsubscribed")
    assert not selectors.can_contact(subject, "newsletter")
    assert selectors.can_contact(subject, "account_security")
