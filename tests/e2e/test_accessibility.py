"""axe-core on every page of the portal: no serious or critical violation, no broken structure.

The pages come from the URL resolver: `test_every_page_is_audited` fails, naming the URL, when a
URL of ours is in none of PUBLIC_PAGES, SIGNED_IN_PAGES, STAFF_PAGES or NOT_PAGES, so a new page
cannot slip past the audit. Each browser test audits many pages in one Chromium (the conftest
starts one per test) and lists every failure at the end (see tests/e2e/accessibility.py).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.urls import get_resolver
from django.utils import timezone

from accounts import workspaces
from consent import services as consent_services
from consent import tokens
from consent.models import FormSubmission, PolicyVersion
from consent.policies import policy_version_draft, policy_version_publish
from dsar import services
from dsar.models import DataSubjectRequest, RequestKind
from dsar.registry import Subject
from dsar.services import transfers
from dsar.services.requests import CONFIRM_SALT
from notifications import services as notifications_services
from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.accessibility import AxeAudit, axe_violations
from tests.e2e.conftest import log_in
from tests.security.test_url_access import _is_parameterised, _transfer_to, _walk


@dataclass
class Scene:
    """What the parameterised pages need: real rows and real signed links."""

    person: object
    request: DataSubjectRequest
    workspace_id: int
    submission_id: int
    policy_version: str
    unsubscribe_token: str
    preferences_token: str
    request_confirm_token: str
    password_reset: tuple[str, str]  # the emailed link, and where allauth shows the form
    transfer_token: str  # a third party's download link for a released portability package


def make_scene() -> Scene:
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    person = UserFactory(full_name="Grace Hopper")
    uid = user_pk_to_url_str(person)
    # An upcoming material change: the policy banner for account holders, the upcoming version
    # and its differences on /policy/, and the notice on the signup page.
    in_force = PolicyVersion.objects.filter(published_at__isnull=False).first()
    policy_version_publish(
        policy=policy_version_draft(
            version="9.0",
            text=in_force.text.replace("\n\n", "\n\nWe share less with partners.\n\n", 1),
            summary_of_changes="We share less.",
            is_material=True,
            effective_at=timezone.now() + timedelta(days=31),
        )
    )
    request, _ = services.dsar_request_file(
        kind=RequestKind.ACCESS,
        user=person,
        email="",
        details="Everything you hold about me.",
        purposes=(),
        country="",
        rectification_target="",
        rectification_value="",
    )
    email_only, _ = services.dsar_request_file(
        kind=RequestKind.ERASURE,
        user=None,
        email="ada@example.com",
        details="",
        purposes=(),
        country="",
        rectification_target="",
        rectification_value="",
    )
    workspace = workspaces.workspace_create(owner=person, name="Customers")
    submission = consent_services.form_submission_create(
        kind="newsletter_signup",
        email="ada@example.com",
        name="Ada Lovelace",
        message="Hello",
        details={},
        source="",
        marketing=True,
        user=None,
        ip_hash="",
    )
    notifications_services.device_register(
        user=person, platform="google", token="g" * 90, name="Grace's phone"
    )
    return Scene(
        person=person,
        request=request,
        workspace_id=workspace.pk,
        submission_id=submission.pk,
        policy_version=in_force.version,
        unsubscribe_token=tokens.unsubscribe_token_make(
            subject=Subject(user_id=person.pk), purpose="newsletter"
        ),
        preferences_token=tokens.preferences_token_make(email="ada@example.com"),
        request_confirm_token=signing.dumps(str(email_only.public_id), salt=CONFIRM_SALT),
        password_reset=(
            f"/accounts/password/reset/key/{uid}-{default_token_generator.make_token(person)}/",
            f"/accounts/password/reset/key/{uid}-set-password/",
        ),
        transfer_token=transfer_link_make(),
    )


def transfer_link_make() -> str:
    """A live download link for a third party (the real one goes only into the recipient's mail,
    so the scene mints one the way the service does and stores its hash)."""
    _request, transfer = _transfer_to(UserFactory())
    token = signing.dumps([str(transfer.public_id), "scene"], salt=transfers.TOKEN_SALT)
    transfer.token_hash = transfers._token_hash(token)
    transfer.save(update_fields=["token_hash"])
    return token


FORM_KINDS = FormSubmission.Kind.values

# URL name -> the paths to audit: a path, or a function of the Scene giving paths.
PUBLIC_PAGES = {
    "home": "/",
    "account_login": "/accounts/login/",
    "account_signup": "/accounts/signup/",
    "account_inactive": "/accounts/inactive/",
    "account_email_verification_sent": "/accounts/confirm-email/",
    "account_confirm_email": "/accounts/confirm-email/not-a-real-key/",
    "account_reset_password": "/accounts/password/reset/",
    "account_reset_password_done": "/accounts/password/reset/done/",
    # allauth moves the key out of the address before showing the form.
    "account_reset_password_from_key": lambda s: [s.password_reset],
    "account_reset_password_from_key_done": "/accounts/password/reset/key/done/",
    "accounts:child_report": "/accounts/report-child-data/",
    "accounts:child_report_thanks": "/accounts/report-child-data/thanks/",
    "testimonials": "/testimonials/",
    "consent:policy": "/policy/",
    "consent:policy_version": lambda s: [f"/policy/{s.policy_version}/"],
    "consent:processing": "/policy/processing/",
    "consent:preferences": "/preferences/",
    "consent:unsubscribe": lambda s: [f"/unsubscribe/{s.unsubscribe_token}/"],
    "consent:cookies": "/cookies/",
    "consent:form": lambda s: [f"/forms/{kind}/" for kind in FORM_KINDS],
    "consent:form_thanks": lambda s: ["/forms/contact_request/thanks/1/"],
    "consent:form_confirm": lambda s: [
        f"/forms/confirm/{tokens.confirmation_token_make(submission_id=s.submission_id)}/"
    ],
    "dsar:request_new": "/privacy/requests/new/",
    "ccpa_public:index": "/ccpa-metrics/",
    "ccpa_public:year": lambda s: [ccpa_year_published()],
    "dsar:request_confirm": lambda s: [f"/privacy/requests/confirm/{s.request_confirm_token}/"],
    "dsar:transfer_download": lambda s: [f"/privacy/transfers/{s.transfer_token}/"],
}
# Signed in as an account holder (no TOTP).
SIGNED_IN_PAGES = {
    "dsar:dashboard": "/privacy/",
    "dsar:request_detail": lambda s: [f"/privacy/requests/{s.request.public_id}/"],
    "accounts:profile": "/accounts/profile/",
    "accounts:security_question": "/accounts/profile/security-question/",
    "accounts:testimonial": "/accounts/testimonial/",
    "accounts:workspace_list": "/accounts/workspaces/",
    "accounts:workspace_detail": lambda s: [f"/accounts/workspaces/{s.workspace_id}/"],
    "accounts:integration_enable": "/accounts/integrations/",
    "accounts:payment_methods": "/accounts/payments/",
    "account_email": "/accounts/email/",
    "account_change_password": "/accounts/password/change/",
    "account_reauthenticate": "/accounts/reauthenticate/",
    "account_logout": "/accounts/logout/",
    "mfa_activate_totp": "/accounts/2fa/totp/activate/",
    "notifications:devices": "/accounts/devices/",
    "review:workspace_reviews": lambda s: [f"/accounts/workspaces/{s.workspace_id}/review/"],
}
# Signed in as a privacy officer who passed the TOTP step.
STAFF_PAGES = {
    "mfa_index": "/accounts/2fa/",
    "mfa_view_recovery_codes": "/accounts/2fa/recovery-codes/",
    "mfa_generate_recovery_codes": "/accounts/2fa/recovery-codes/generate/",
    "mfa_deactivate_totp": "/accounts/2fa/totp/deactivate/",
    "desk:home": "/admin/desk/",
    "desk:records": "/admin/desk/records-of-processing/",
    "desk:request_metrics": "/admin/desk/request-metrics/",
    "desk:ccpa": "/admin/desk/ccpa-disclosure/",
    "desk:consent": "/admin/desk/consent-insights/",
}
# The main pages of Django's admin that officers work in (not in the resolver walk: the admin's
# model URLs are Django's own).
ADMIN_PAGES = [
    "/admin/",
    "/admin/dsar/datasubjectrequest/",
    "/admin/dsar/datasubjectrequest/add/",
    "/admin/dsar/auditevent/",
    "/admin/dsar/webhookendpoint/",
    "/admin/dsar/webhookendpoint/add/",
    "/admin/dsar/webhookdelivery/",
    "/admin/consent/consentevent/",
    "/admin/consent/policyversion/",
    "/admin/accounts/childdatareport/",
    "/admin/review/spamreview/",
    "/admin/review/scanreview/",
    "/admin/notifications/device/",
    "/admin/dsar/processingactivity/",
    "/admin/dsar/processingactivity/1/change/",
    "/admin/datastores/connectedsystem/",
    "/admin/datastores/connectedsystem/add/",
    "/admin/datastores/systempart/",
]
NOT_PAGES = {
    "healthz": "JSON for monitoring",
    "consent:gpc_json": "JSON (/.well-known/gpc.json)",
    "consent:jwks_json": "JSON (/.well-known/jwks.json, the receipts' signing keys)",
    "consent:receipt": "a JSON download",
    "consent:analytics_page_view": "POST only, no page",
    "consent:preferences_link": "a signed link that redirects to /preferences/ (audited there)",
    "consent:preferences_link_request": "POST only, no page",
    "consent:preferences_leave": "POST only, no page",
    "consent:partners_opt_out": "POST only, no page",
    "consent:policy_acknowledge": "POST only, no page",
    "set_language": "POST only, no page",
    "account_set_password": "redirects to the password change page for people with a password",
    "account_confirm_login_code": "login by code is off; redirects to the login page",
    "mfa_authenticate": "the TOTP step: audited in the staff test, between login and admin",
    "mfa_reauthenticate": "redirects to the password reauthentication page (audited)",
    "mfa_download_recovery_codes": "a text file download",
    "accounts:profile_photo": "the owner's photo as image/jpeg",
    "accounts:collaborator_photo": "a collaborator's photo as image/jpeg",
    "accounts:security_question_clear": "POST only, no page",
    "accounts:testimonial_approve": "POST only, no page",
    "accounts:testimonial_withdraw": "POST only, no page",
    "accounts:workspace_record_delete": "POST only, no page",
    "accounts:workspace_member_remove": "POST only, no page",
    "accounts:workspace_invitation_answer": "POST only, no page",
    "accounts:integration_revoke": "POST only, no page",
    "accounts:payment_method_delete": "POST only, no page",
    "dsar:request_withdraw": "POST only, no page",
    "dsar:erasure_cancel": "POST only, no page",
    "dsar:export_download": "a file download (HTML/JSON/ZIP as attachment)",
    "dsar:transfer_create": "POST only, no page (the form is on the request's page)",
    "dsar:transfer_revoke": "POST only, no page",
    "notifications:device_remove": "POST only, no page",
    "notifications:api_device_register": "JSON API for the mobile apps",
    "notifications:api_device_sign_out": "JSON API for the mobile apps",
    "api-v1:api-root": "the API's root: a 404 problem (JSON), the operations are below it",
    "api-v1:openapi-json": "the API's OpenAPI schema (JSON)",
    "api-v1:contact_check": "JSON API for other systems (docs/api.md)",
    "api-v1:contact_check_batch": "JSON API for other systems (docs/api.md)",
    "api-v1:consent_record": "JSON API for other systems (docs/api.md)",
    "api-v1:preferences_read": "JSON API for other systems (docs/api.md)",
    "api-v1:preferences_change": "JSON API for other systems (docs/api.md)",
    "api-v1:unsubscribe": "JSON API for other systems (docs/api.md)",
    "api-v1:request_file": "JSON API for other systems (docs/api.md)",
    "api-v1:request_read": "JSON API for other systems (docs/api.md)",
    "api-v1:system_part_done": "JSON API for other systems (docs/api.md)",
    "api-v1:webhook_endpoints_list": "JSON API for other systems (docs/api.md)",
    "api-v1:webhook_endpoint_create": "JSON API for other systems (docs/api.md)",
    "api-v1:webhook_endpoint_read": "JSON API for other systems (docs/api.md)",
    "api-v1:webhook_endpoint_change": "JSON API for other systems (docs/api.md)",
    "api-v1:webhook_endpoint_switch_off": "JSON API for other systems (docs/api.md)",
    "api-v1:webhook_endpoint_secret_rotate": "JSON API for other systems (docs/api.md)",
    "api-v1:webhook_deliveries_list": "JSON API for other systems (docs/api.md)",
    "api-v1:webhook_delivery_replay": "JSON API for other systems (docs/api.md)",
    "api-docs": "Swagger UI as django-ninja ships it, for developers among staff (3rd party)",
}


def ccpa_year_published() -> str:
    """Last year's CCPA disclosure, published by an officer as the desk does it."""
    from desk.services import ccpa_disclosure_publish

    year = timezone.now().year - 1
    ccpa_disclosure_publish(year=year, actor=UserFactory(is_staff=True))
    return f"/ccpa-metrics/{year}/"


def our_url_names() -> set[str]:
    names = set()
    for route, namespace, entry in _walk(get_resolver()):
        if namespace == "admin":
            continue  # the admin's model pages: its main ones are in ADMIN_PAGES
        assert entry.name, f"URL {route!r} has no name"
        names.add(f"{namespace}:{entry.name}" if namespace else entry.name)
    return names


def paths(pages: dict, scene: Scene | None = None) -> list[tuple[str, str]]:
    """(path, where it lands) for each page of a group."""
    found = []
    for entry in pages.values():
        for path in [entry] if isinstance(entry, str) else entry(scene):
            found.append(path if isinstance(path, tuple) else (path, path))
    return found


def test_every_page_is_audited():
    groups = [PUBLIC_PAGES, SIGNED_IN_PAGES, STAFF_PAGES, NOT_PAGES]
    listed = [name for group in groups for name in group]
    assert len(listed) == len(set(listed)), "a URL name is in two groups"
    missing = sorted(our_url_names() - set(listed))
    assert missing == [], f"URLs with no accessibility entry (add them to a group): {missing}"
    stale = sorted(set(listed) - our_url_names())
    assert stale == [], f"entries for URLs that no longer exist: {stale}"
    for group in groups[:3]:
        for name, entry in group.items():
            if isinstance(entry, str):
                assert not _is_parameterised(entry), name


def test_public_pages_error_pages_and_the_cookie_banner(page, axe, settings):
    settings.ROOT_URLCONF = "tests.security.error_urls"  # the portal plus /test-errors/<status>/
    scene = make_scene()
    # First visit: the cookie banner is on every page until a choice is made.
    for path, lands in paths(PUBLIC_PAGES, scene):
        axe.visit(path, lands=lands)
    for status in (400, 403, 404, 500):
        axe.visit(f"/test-errors/{status}/", status=status)
    axe.visit("/no-such-page/", status=404)
    # The preference centre opened from the emailed link, for a person without an account.
    page.goto(f"/preferences/link/{scene.preferences_token}/")
    page.wait_for_url("**/preferences/")
    axe.check("/preferences/ (from the emailed link)")
    # Unsubscribing from the mailed link, and the page that confirms it.
    axe.visit(f"/unsubscribe/{scene.unsubscribe_token}/", label="/unsubscribe/<token>/ (again)")
    page.get_by_role("button", name="Unsubscribe", exact=True).click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    axe.check("/unsubscribe/<token>/ (done)")
    # A refused form shows its errors.
    axe.visit("/privacy/requests/new/")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_load_state("load")
    axe.check("/privacy/requests/new/ (errors)")
    # The choice made: the banner is gone.
    page.goto("/")
    page.get_by_role("button", name="Refuse all").first.click()
    page.wait_for_load_state("load")
    assert page.locator(".cookie-banner").count() == 0
    axe.visit("/", label="/ (cookie choice made)")
    axe.visit("/cookies/", label="/cookies/ (cookie choice made)")
    axe.assert_clean()


def reauthenticate(page):
    page.goto("/accounts/reauthenticate/?next=/privacy/")
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/privacy/")


def test_signed_in_pages(page, axe):
    scene = make_scene()
    log_in(page, scene.person)
    assert page.locator(".policy-banner").count() == 1
    reauthenticate(page)  # setting up TOTP asks for the password again first
    for path, lands in paths(SIGNED_IN_PAGES, scene):
        axe.visit(path, lands=lands)
    axe.visit("/preferences/", label="/preferences/ (signed in)")
    axe.visit("/privacy/requests/new/", label="/privacy/requests/new/ (signed in)")
    axe.assert_clean()


def test_officer_pages(page, axe, make_staff):
    scene = make_scene()
    officer, secret = make_staff("Privacy officer")
    page.goto("/accounts/login/?next=/admin/")
    axe.check("/accounts/login/?next=/admin/")
    log_in(page, officer, totp_secret=secret, next_url="/admin/")
    reauthenticate(page)  # the recovery codes and turning TOTP off ask for the password again
    # The officer makes recovery codes as anyone would, so their pages have codes to show.
    page.goto("/accounts/2fa/recovery-codes/generate/")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    for path, lands in paths(STAFF_PAGES) + [(path, path) for path in ADMIN_PAGES]:
        axe.visit(path, lands=lands)
    axe.visit(f"/admin/dsar/datasubjectrequest/{scene.request.pk}/change/")
    axe.visit(f"/admin/consent/policyversion/{PolicyVersion.objects.first().pk}/change/")
    axe.assert_clean()


def test_german_pages_say_they_are_german(open_page, axe_source):
    german_page = open_page("de-DE")
    axe = AxeAudit(german_page, axe_source)
    person = UserFactory()
    for path in ["/", "/accounts/login/", "/privacy/requests/new/", "/policy/"]:
        axe.visit(path)
        assert german_page.locator("html").get_attribute("lang") == "de", path
    log_in(german_page, person)
    axe.visit("/privacy/")
    assert german_page.locator("html").get_attribute("lang") == "de"
    axe.assert_clean()


def test_the_audit_finds_what_it_should(page, axe_source):
    """A page with known faults: the audit must name each, or a quiet pass would prove nothing."""
    page.set_content(
        "<html><head><title>Broken</title></head><body><main><h1>Broken</h1><h3>Skipped</h3>"
        '<p style="color:#bbb;background:#fff">Pale text</p><input type="text" name="q">'
        "</main></body></html>"
    )
    found = "\n".join(axe_violations(page, axe_source))
    for rule in ("html-has-lang", "color-contrast", "label", "heading-order"):
        assert f"] {rule} (" in found, rule
