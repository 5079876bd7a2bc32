import json
import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client

from consent import mail as consent_mail
from consent import selectors, tokens
from consent.models import ConsentEvent, FormSubmission, PageViewCount
from dsar.registry import Subject
from tests.accounts.test_signup import signup_data
from tests.mail_backends import url_path

from .conftest import grant

pytestmark = pytest.mark.django_db
COOKIE = "wpx_cookie_choices"


def unsubscribe_path(subject, purpose="newsletter", partner_id=None):
    token = tokens.unsubscribe_token_make(subject=subject, purpose=purpose, partner_id=partner_id)
    return f"/unsubscribe/{token}/"


# --- One-click unsubscribe -------------------------------------------------------------------


def test_get_shows_one_button_and_changes_nothing(client, user_subject):
    grant(user_subject, "newsletter")
    response = client.get(unsubscribe_path(user_subject))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Newsletter" in page
    assert "Unsubscribe from all non-essential mail" in page
    assert selectors.can_contact(user_subject, "newsletter")  # a scanner following links: no harm


def test_one_click_post_unsubscribes_without_login_and_is_idempotent(user_subject):
    grant(user_subject, "newsletter")
    client = Client(enforce_csrf_checks=True)  # as a mail client would post: no CSRF token
    path = unsubscribe_path(user_subject)
    body = "List-Unsubscribe=One-Click"
    first = client.post(path, body, content_type="application/x-www-form-urlencoded")
    second = client.post(path, body, content_type="application/x-www-form-urlencoded")
    assert first.status_code == second.status_code == 200
    # Nobody sees the answer to a mail client's post: a short text, not a page.
    assert first["Content-Type"].startswith("text/plain")
    assert first.content.decode() == "You are unsubscribed."
    german = client.post(
        path, body, content_type="application/x-www-form-urlencoded", HTTP_ACCEPT_LANGUAGE="de"
    )
    assert german.content.decode() == "Sie sind abgemeldet."
    assert not selectors.can_contact(user_subject, "newsletter")
    withdrawals = ConsentEvent.objects.filter(action="withdrawn")
    assert withdrawals.count() == 1 and withdrawals.get().method == "unsubscribe_link"
    assert withdrawals.get().ip_hash and "127.0.0.1" not in withdrawals.get().ip_hash


def test_one_click_post_takes_seven_statements_and_a_repeat_four(
    user_subject, django_assert_num_queries
):
    """The hot path's statements, so that none creeps back (bench/NOTES.md): no purpose
    look-up (a per-process copy), no savepoint, no foreign-key check of the locked account."""
    grant(user_subject, "newsletter")
    client = Client(enforce_csrf_checks=True)
    path = unsubscribe_path(user_subject)
    body = "List-Unsubscribe=One-Click"
    assert selectors.purpose_cached("newsletter")  # a running worker has its copy already
    # BEGIN, the account's row lock with its address, the purpose's latest ledger row, the
    # policy in force, the INSERT, the webhook endpoints subscribed to consent changes (none
    # here: no event is written), COMMIT (SAVEPOINT/RELEASE inside the test's transaction).
    with django_assert_num_queries(7):
        response = client.post(path, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert not selectors.can_contact(user_subject, "newsletter")
    with django_assert_num_queries(4):  # nothing stands any more: no policy look-up, no row
        again = client.post(path, body, content_type="application/x-www-form-urlencoded")
    assert again.status_code == 200
    assert ConsentEvent.objects.filter(action="withdrawn").count() == 1


def test_unsubscribe_sees_a_purpose_edit_here_at_once_and_from_elsewhere_soon(
    client, user_subject, monkeypatch
):
    from consent.models import Purpose

    path = unsubscribe_path(user_subject)
    assert "Newsletter" in client.get(path).content.decode()  # the copy is made
    newsletter = Purpose.objects.get(code="newsletter")
    newsletter.name = "Monthly letter"
    newsletter.save()  # in this process: the copy is dropped at once
    assert "Monthly letter" in client.get(path).content.decode()
    # Another process's edit (no signal here, like a bulk update): seen once the copy expires.
    Purpose.objects.filter(code="newsletter").update(name="Quarterly letter")
    assert "Monthly letter" in client.get(path).content.decode()
    monkeypatch.setattr(selectors, "PURPOSES_CACHED_SECONDS", 0.0)
    assert "Quarterly letter" in client.get(path).content.decode()


def test_unsubscribe_from_all_non_essential_mail(client, user_subject):
    for code in ("newsletter", "events"):
        grant(user_subject, code)
    response = client.post(unsubscribe_path(user_subject), {"scope": "all"})
    assert "no more non-essential mail" in response.content.decode()
    assert not selectors.can_contact(user_subject, "events")
    assert selectors.can_contact(user_subject, "policy_changes")


def test_partner_link_unsubscribes_from_that_partner_only(client, user_subject, partners):
    for partner in partners:
        grant(user_subject, "partner_notifications", partner=partner)
    client.post(unsubscribe_path(user_subject, "partner_notifications", partners[0].pk))
    assert not selectors.can_contact(user_subject, "partner_notifications", partner=partners[0])
    assert selectors.can_contact(user_subject, "partner_notifications", partner=partners[1])


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-3] + ("abc" if not token.endswith("abc") else "xyz"),
        lambda token: token.replace(
            token.split(":")[0], signing.dumps({"u": 1, "p": "newsletter"})
        ),
        lambda token: "not-a-token",
        lambda token: signing.dumps(
            {"u": 1, "p": "newsletter"}, salt="consent.preferences-link.v1"
        ),
    ],
    ids=["tampered-signature", "swapped-payload", "garbage", "other-kind-of-token"],
)
def test_a_forged_token_changes_nothing(client, user_subject, forge):
    grant(user_subject, "newsletter")
    before = ConsentEvent.objects.count()
    token = tokens.unsubscribe_token_make(subject=user_subject, purpose="newsletter")
    for method in (client.get, client.post):
        response = method(f"/unsubscribe/{forge(token)}/")
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
        assert "Nothing has been changed" in response.content.decode()
    assert ConsentEvent.objects.count() == before
    assert selectors.can_contact(user_subject, "newsletter")


def test_an_expired_token_changes_nothing(client, user_subject, settings):
    grant(user_subject, "newsletter")
    path = unsubscribe_path(user_subject)
    settings.CONSENT_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS = -1
    response = client.post(path)
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert selectors.can_contact(user_subject, "newsletter")


def test_a_token_for_something_unknown_changes_nothing(client, user_subject):
    for path in (
        unsubscribe_path(user_subject, purpose="carrier_pigeons"),
        unsubscribe_path(user_subject, purpose="account_security"),  # essential: never issued
        unsubscribe_path(Subject(user_id=987654), purpose="newsletter"),
    ):
        assert client.get(path).status_code == 404
        response = client.post(path)
        assert response.status_code == 404
    assert not ConsentEvent.objects.exists()


# --- Preference centre -----------------------------------------------------------------------


def test_preferences_show_every_purpose_and_partner_as_a_switch(user_client, partners):
    page = user_client.get("/preferences/").content.decode()
    for name in (
        "purpose_newsletter",
        "purpose_product_updates",
        "purpose_events",
        "purpose_marketing",
        "purpose_testimonial",
        "purpose_stored_payment_method",
        f"partner_{partners[0].pk}",
        f"partner_{partners[1].pk}",
    ):
        assert f'name="{name}"' in page
    assert page.count('role="switch"') >= 8
    assert "Account and security" in page and "Opt out of every partner" in page
    assert "checked" not in re.search(r'<input[^>]*name="purpose_newsletter"[^>]*>', page).group(0)


def test_saving_preferences_records_the_changes(user_client, user_subject, partners):
    response = user_client.post(
        "/preferences/", {"purpose_newsletter": "on", f"partner_{partners[1].pk}": "on"}
    )
    assert response.status_code == 302
    assert selectors.can_contact(user_subject, "newsletter")
    assert selectors.can_contact(user_subject, "partner_notifications", partner=partners[1])
    assert set(ConsentEvent.objects.values_list("method", flat=True)) == {"preference_centre"}
    user_client.post("/preferences/", {})
    assert not selectors.can_contact(user_subject, "newsletter")


def test_partner_opt_out_button(user_client, user_subject, partners):
    grant(user_subject, "partner_notifications", partner=partners[0])
    user_client.post("/preferences/partners/opt-out/")
    assert not selectors.can_contact(user_subject, "partner_notifications", partner=partners[0])


def test_gpc_browser_cannot_switch_partners_on(user_client, user_subject, partners):
    response = user_client.get("/preferences/", HTTP_SEC_GPC="1")
    assert "Global Privacy Control" in response.content.decode()
    user_client.post("/preferences/", {f"partner_{partners[0].pk}": "on"}, HTTP_SEC_GPC="1")
    assert not selectors.can_contact(user_subject, "partner_notifications", partner=partners[0])


def test_gpc_from_a_signed_in_browser_withdraws_partner_sharing(
    user_client, user_subject, partners
):
    grant(user_subject, "partner_notifications", partner=partners[0])
    user_client.get("/", HTTP_SEC_GPC="1")
    user_client.get("/", HTTP_SEC_GPC="1")  # once per session
    assert not selectors.can_contact(user_subject, "partner_notifications", partner=partners[0])
    assert ConsentEvent.objects.filter(method="gpc").count() == 1


def test_consent_receipt_download(user_client, user_subject):
    grant(user_subject, "newsletter", method="signup")
    response = user_client.get("/preferences/receipt.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    receipt = json.loads(response.content)
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["consentHistory"][0]["collectionMethod"] == "signup"


def test_email_only_subject_gets_a_signed_link(
    client, django_capture_on_commit_callbacks, celery_eager
):
    grant(Subject(email="reader@example.org"), "newsletter", method="form_submission")
    page = client.get("/preferences/").content.decode()
    assert "Email me a link" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/preferences/link/", {"email": "Reader@Example.org"})
        client.post("/preferences/link/", {"email": "stranger@example.org"})
    assert [m.to for m in mail.outbox] == [["reader@example.org"]]  # unknown: nothing sent
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers  # a reply to a request
    link = re.search(r"https?://\S+/preferences/link/\S+/", mail.outbox[0].body).group(0)
    response = client.get(url_path(link), follow=True)
    assert 'name="purpose_newsletter"' in response.content.decode()
    assert "reader@example.org" in response.content.decode()
    client.post("/preferences/", {})
    assert not selectors.can_contact(Subject(email="reader@example.org"), "newsletter")


def test_preferences_link_for_an_account_holder_says_log_in(
    client, user, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/preferences/link/", {"email": user.email})
    assert (
        "/accounts/login/" in mail.outbox[0].body
        and "/preferences/link/" not in mail.outbox[0].body
    )


def test_preferences_link_request_does_the_same_work_for_known_and_unknown_addresses(
    client, django_capture_on_commit_callbacks
):
    """The web answer neither looks nor takes different for a subscriber and a stranger: the
    same queries and one task queued for each (the worker decides whether to mail)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    grant(Subject(email="reader@example.org"), "newsletter", method="form_submission")
    client.post("/preferences/link/", {"email": "warm-up@example.org"}, follow=True)  # caches
    seen = []
    for email in ("reader@example.org", "stranger@example.org"):
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks() as callbacks,
        ):
            response = client.post("/preferences/link/", {"email": email}, follow=True)
        page = response.content.decode().replace(email, "ADDRESS")
        seen.append((response.status_code, page, len(queries), len(callbacks)))
    assert seen[0][0] == seen[1][0] == 200
    assert seen[0][2:] == seen[1][2:] and seen[0][3] == 1
    assert re.sub(r'value="[^"]+"', "", seen[0][1]) == re.sub(r'value="[^"]+"', "", seen[1][1])
    assert mail.outbox == []  # nothing is mailed by the web request itself


def test_a_forged_preferences_link_is_refused(client):
    forged = signing.dumps({"e": "victim@example.org"}, salt="wrong")
    response = client.get(f"/preferences/link/{forged}/")
    assert response.status_code == 400
    assert "Email me a link" in client.get("/preferences/").content.decode()


def test_bad_email_on_the_link_form_is_a_clear_error(client):
    response = client.post("/preferences/link/", {"email": "not an address"})
    assert response.status_code == 400 and "valid email" in response.content.decode()


# --- Cookies, widgets and GPC ------------------------------------------------------------------


def test_banner_is_shown_until_a_choice_and_no_optional_script_before(client):
    page = client.get("/").content.decode()
    assert 'id="cookie-banner"' in page
    assert "analytics.js" not in page and "platform.twitter.com" not in page
    assert "twitter-share-button" not in page and "Share on X (Twitter)" in page
    assert not any(name != "csrftoken" for name in client.cookies)


def test_accepting_everything_renders_analytics_and_widgets(client):
    response = client.post("/cookies/", {"choice": "accept_all", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.cookies[COOKIE].value == "analytics=1&social=1"
    page = client.get("/").content.decode()
    assert 'id="cookie-banner"' not in page
    assert "consent/analytics.js" in page
    assert "twitter-share-button" in page and "https://platform.twitter.com/widgets.js" in page


def test_refusing_everything_keeps_the_page_clean(client):
    client.post("/cookies/", {"choice": "refuse_all"})
    page = client.get("/").content.decode()
    assert 'id="cookie-banner"' not in page
    assert "analytics.js" not in page and "widgets.js" not in page
    assert "Share on X (Twitter)" in page


def test_choosing_one_category(client):
    client.post("/cookies/", {"choice": "save", "social": "on"})
    page = client.get("/").content.decode()
    assert "analytics.js" not in page and "widgets.js" in page


def test_gpc_counts_as_refusing_analytics(client):
    client.post("/cookies/", {"choice": "accept_all"})
    page = client.get("/", HTTP_SEC_GPC="1").content.decode()
    assert "analytics.js" not in page
    client.post(
        "/analytics/page-view/", '{"path": "/"}', content_type="application/json", HTTP_SEC_GPC="1"
    )
    assert not PageViewCount.objects.exists()


def test_cookie_choices_of_account_holders_are_kept_as_evidence(user_client, user_subject):
    user_client.post("/cookies/", {"choice": "accept_all"}, HTTP_SEC_GPC="1")
    # GPC refuses every third party: neither analytics nor widgets are granted.
    assert not ConsentEvent.objects.filter(method="cookie_banner", action="granted").exists()
    user_client.post("/cookies/", {"choice": "accept_all"})
    rows = set(ConsentEvent.objects.values_list("purpose__code", "action", "method"))
    assert ("social_widgets", "granted", "cookie_banner") in rows
    user_client.post("/cookies/", {"choice": "refuse_all"})
    assert not selectors.consent_is_granted(subject=user_subject, purpose="social_widgets")


def test_gpc_keeps_every_third_party_script_out_whatever_was_accepted(client):
    client.post("/cookies/", {"choice": "accept_all"})
    page = client.get("/").content.decode()
    assert "https://platform.twitter.com/widgets.js" in page  # accepted, no signal: they load
    response = client.get("/", HTTP_SEC_GPC="1")
    page = response.content.decode()
    for third_party in ("platform.twitter.com", "connect.facebook.net", "analytics.js"):
        assert third_party not in page
    assert "twitter-share-button" not in page and "Share on X (Twitter)" in page  # plain links
    assert "platform.twitter.com" not in response.get("Content-Security-Policy", "")
    # The banner and the settings page say so truthfully.
    settings_page = client.get("/cookies/", HTTP_SEC_GPC="1").content.decode()
    assert "social media widgets" in settings_page and 'id="gpc-note"' in settings_page


def test_pages_vary_by_the_gpc_signal(client):
    for path in ("/", "/cookies/", "/policy/"):
        vary = client.get(path)["Vary"]
        assert "Sec-GPC" in [part.strip() for part in vary.split(",")], path


def test_gpc_json_answers_head(client):
    response = client.head("/.well-known/gpc.json")
    assert response.status_code == 200
    assert client.post("/.well-known/gpc.json").status_code == 405


def test_cookie_settings_page_reopens_the_choices_and_refuses_open_redirects(client):
    client.post("/cookies/", {"choice": "accept_all"})
    page = client.get("/cookies/").content.decode()
    assert 'name="analytics"' in page and "checked" in page
    response = client.post("/cookies/", {"choice": "refuse_all", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert "Cookie settings" in client.get("/").content.decode()


def test_gpc_json_is_served(client):
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200 and response.json()["gpc"] is True


def test_analytics_counts_routes_only_and_only_with_consent(client, user_subject):
    body = json.dumps({"path": "/preferences/", "first": True})
    client.post("/analytics/page-view/", body, content_type="application/json")
    assert not PageViewCount.objects.exists()
    client.post("/cookies/", {"choice": "accept_all"})
    client.post("/analytics/page-view/", body, content_type="application/json")
    token_path = unsubscribe_path(user_subject)
    client.post(
        "/analytics/page-view/", json.dumps({"path": token_path}), content_type="application/json"
    )
    routes = dict(PageViewCount.objects.values_list("route", "views"))
    assert routes == {"/preferences/": 1, "/unsubscribe/<str:token>/": 1}  # never the token
    assert (
        client.post("/analytics/page-view/", "{", content_type="application/json").status_code
        == 400
    )


# --- Signup --------------------------------------------------------------------------------------


def test_signup_marketing_boxes_are_unticked_and_recorded_when_ticked(client):
    page = client.get("/accounts/signup/").content.decode()
    box = re.search(r'<input[^>]*name="marketing_newsletter"[^>]*>', page).group(0)
    assert "checked" not in box
    client.post("/accounts/signup/", signup_data(marketing_newsletter="on"))
    event = ConsentEvent.objects.get()
    assert (event.purpose.code, event.method, event.action) == ("newsletter", "signup", "granted")
    assert event.user.username == "aoife" and event.ip_hash


def test_signup_without_ticking_records_nothing(client):
    client.post("/accounts/signup/", signup_data())
    assert not ConsentEvent.objects.exists()


# --- Form submissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FormSubmission.Kind.values)
def test_every_form_renders_with_an_unticked_marketing_box(client, kind):
    page = client.get(f"/forms/{kind}/").content.decode()
    assert "Why we ask:" in page
    box = re.search(r'<input[^>]*name="marketing"[^>]*>', page)
    if box:
        assert "checked" not in box.group(0)


def test_unknown_form_is_404(client):
    assert client.get("/forms/lottery/").status_code == 404


def test_support_request_is_stored_with_kind_purpose_source_and_retention(client):
    response = client.post(
        "/forms/support_request/?source=help-page",
        {"name": "Ana", "email": "Ana@Example.org", "message": "My export is stuck."},
    )
    assert response.status_code == 302
    submission = FormSubmission.objects.get()
    assert submission.kind == "support_request" and submission.email == "ana@example.org"
    assert submission.source == "help-page" and submission.purpose.startswith("To answer")
    assert submission.retain_until - submission.created_at == timedelta(days=730)
    assert submission.marketing_purpose is None and not mail.outbox


def test_invalid_form_stores_nothing(client):
    response = client.post("/forms/contact_request/", {"name": "", "email": "nope"})
    assert response.status_code == 400 and not FormSubmission.objects.exists()


def test_newsletter_signup_is_confirmed_before_any_newsletter(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/forms/newsletter_signup/", {"name": "Mia", "email": "mia@example.org"})
    person = Subject(email="mia@example.org")
    assert not selectors.can_contact(person, "newsletter")
    assert not ConsentEvent.objects.exists()
    assert len(mail.outbox) == 1 and "confirm" in mail.outbox[0].subject.lower()
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers
    link = re.search(r"https?://\S+(/forms/confirm/\S+/)", mail.outbox[0].body).group(1)

    client.get(link)  # a mail scanner opening the link confirms nothing
    assert not selectors.can_contact(person, "newsletter")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link)
        client.post(link)  # twice: still one grant
    assert response.status_code == 200
    assert selectors.can_contact(person, "newsletter")
    event = ConsentEvent.objects.get()
    assert event.method == "form_submission" and event.email == "mia@example.org"
    welcome = mail.outbox[-1]
    assert welcome.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(mail.outbox) == 2


def test_marketing_box_on_another_form_also_needs_confirmation(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/forms/event_registration/",
            {"name": "Leo", "email": "leo@example.org", "event": "GDPR webinar", "marketing": "on"},
        )
    submission = FormSubmission.objects.get()
    assert submission.marketing_purpose.code == "events" and submission.confirmed_at is None
    assert submission.details == {"event": "GDPR webinar"}
    assert not ConsentEvent.objects.exists() and len(mail.outbox) == 1


def test_signed_in_verified_account_needs_no_second_confirmation(
    user_client, user, user_subject, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post("/forms/newsletter_signup/", {"name": "X", "email": user.email})
    assert selectors.can_contact(user_subject, "newsletter")
    assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_forged_confirmation_link_changes_nothing(client):
    client.post("/forms/newsletter_signup/", {"name": "Mia", "email": "mia@example.org"})
    submission = FormSubmission.objects.get()
    forged = signing.dumps({"s": submission.pk}, salt="consent.unsubscribe.v1")
    response = client.post(f"/forms/confirm/{forged}/")
    assert response.status_code == 400
    assert not ConsentEvent.objects.exists()
    submission.refresh_from_db()
    assert submission.confirmed_at is None


def test_material_download_gives_the_material(client):
    response = client.post(
        "/forms/material_download/",
        {"name": "Ola", "email": "ola@example.org", "material": "privacy-by-design"},
        follow=True,
    )
    assert "privacy-by-design.txt" in response.content.decode()


def test_mail_links_point_at_the_site_url(settings, user_subject):
    settings.SITE_URL = "https://privacy.workpex.example"
    assert consent_mail.unsubscribe_url(subject=user_subject, purpose="newsletter").startswith(
        "https://privacy.workpex.example/unsubscribe/"
    )


@pytest.mark.django_db
def test_privacy_dashboard_shows_consents_and_the_policy(user_client, user):
    from consent.services import consent_grant
    from dsar.registry import Subject

    consent_grant(subject=Subject(user_id=user.pk), purpose="newsletter", method="signup")
    page = user_client.get("/privacy/").content.decode()
    assert "Your consents" in page and "consent receipt" in page
    assert "Version 1.0 is in force." in page


@pytest.mark.django_db
def test_unsubscribe_posts_are_rate_limited_per_link_and_change_nothing_when_limited(
    client, user, settings
):
    from consent.mail import unsubscribe_url
    from consent.models import ConsentEvent
    from consent.services import consent_grant
    from dsar.registry import Subject

    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "unsubscribe": "2/m/key"}
    subject = Subject(user_id=user.pk)
    consent_grant(subject=subject, purpose="newsletter", method="signup")
    consent_grant(subject=subject, purpose="events", method="signup")
    path = lambda purpose, campaign="": url_path(  # noqa: E731
        unsubscribe_url(subject=subject, purpose=purpose, campaign=campaign)
    )
    assert client.post(path("newsletter")).status_code == 200
    assert client.post(path("newsletter")).status_code == 200  # idempotent
    # The same link again, even from another mailing of the list: refused, nothing changes.
    before = ConsentEvent.objects.count()
    consent_grant(subject=subject, purpose="newsletter", method="signup")
    response = client.post(path("newsletter", campaign="2026-12"))
    assert response.status_code == 429
    assert "Nothing was changed" in response.content.decode()
    assert ConsentEvent.objects.count() == before + 1
    assert selectors.can_contact(subject, "newsletter")
    # Another link from the same address (a mailbox provider posting for many people) passes.
    assert client.post(path("events")).status_code == 200
    assert not selectors.can_contact(subject, "events")


@pytest.mark.django_db
def test_public_forms_are_rate_limited_per_ip(client, settings):
    from consent.models import FormSubmission

    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "consent_form": "1/h/ip"}
    data = {"email": "a@example.org", "name": "Ann", "message": "Hello there"}
    client.post("/forms/contact_request/", data)
    count = FormSubmission.objects.count()
    response = client.post("/forms/contact_request/", data)
    assert response.status_code == 429
    assert FormSubmission.objects.count() == count


@pytest.mark.django_db
def test_preferences_link_mails_are_rate_limited_per_address(
    client, settings, django_capture_on_commit_callbacks, celery_eager
):
    from django.core import mail

    from consent.services import consent_grant
    from dsar.registry import Subject

    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "preferences_link": "1/h/key"}
    consent_grant(
        subject=Subject(email="walkin@example.org"), purpose="newsletter", method="form_submission"
    )
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/preferences/link/", {"email": "walkin@example.org"})
        assert response.status_code == 302  # the same answer every time
    assert len([m for m in mail.outbox if "walkin@example.org" in m.to]) == 1
