"""Fuzzing every form through its real view: arbitrary text, unicode (NUL, lone surrogates as the
bytes a broken client sends, right-to-left marks, very long strings), huge numbers, empty and
missing fields, several values where one is expected. Never a server error, and a refused input
leaves every table exactly as it was.

Each form the project has (tests/forms_walk.py) needs an entry in TARGETS: the page it is posted
to, who posts it, and a body the view accepts. The fuzzer starts from that body and spoils it.
"""

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from dsar.ratelimits import limits_reset
from tests.accounts.factories import PASSWORD, UserFactory
from tests.conftest import login_with_totp
from tests.consent.factories import FormSubmissionFactory
from tests.forms_walk import project_form_classes
from tests.fuzzing import (
    FUZZ_SETTINGS,
    database_snapshot,
    encode,
    payloads,
    refusal,
    snapshot_diff,
    texts,
)

NEW_PASSWORD = "another-long-passphrase-42"


@dataclass
class Target:
    who: str  # "anonymous", "user", "officer" or "support"
    url: object  # a path, or a function of the World
    valid: object  # a body the view accepts (a dict, or a function of the World)
    method: str = "post"
    prefix: str = ""
    fixed: dict = field(default_factory=dict)  # sent as is, never fuzzed (which button)
    accepts_valid: bool = True  # False where the valid body is refused by design
    samples: dict = field(default_factory=dict)  # other meaningful values of some fields


class World:
    """The people and rows the forms refer to, made when a target first needs them."""

    def __init__(self, make_staff):
        self.make_staff = make_staff
        self.clients: dict[str, Client] = {}

    @cached_property
    def user(self):
        return UserFactory()

    @cached_property
    def colleague(self):
        return UserFactory()

    @cached_property
    def workspace(self):
        from accounts import workspaces

        return workspaces.workspace_create(owner=self.user, name="Team")

    @cached_property
    def submission(self):

        return FormSubmissionFactory(email="walkin@example.com")

    @cached_property
    def dsar_request(self):
        from dsar import services

        return services.dsar_request_file(kind="access", user=self.colleague)[0]

    @cached_property
    def reset_url(self):
        """The set-password page of a password-reset link, opened in the "reset" browser."""
        client = self.clients["reset"] = Client()
        client.post("/accounts/password/reset/", {"email": self.user.email})
        link = re.search(
            r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body
        )
        return client.get(link.group(1))["Location"]

    def client(self, who: str) -> Client:
        if who == "anonymous":
            return Client()  # a fresh browser each time: a signup or login must not carry over
        if who == "reset":
            self.reset_url  # noqa: B018 (opens the link in that browser)
        if who not in self.clients:
            client = self.clients[who] = Client()
            if who == "user":
                client.force_login(self.user)
            elif who == "no_password":
                person = UserFactory()
                person.set_unusable_password()
                person.save()
                client.force_login(person)
            else:
                role = "Privacy officer" if who == "officer" else "Support"
                staff, secret = self.make_staff(role)
                login_with_totp(client, staff, secret)
        return self.clients[who]


_names = itertools.count()


def signup_valid(world):
    n = next(_names)
    return {
        "full_name": "Pat Doe",
        "email": f"fuzz{n}@example.com",
        "company_name": "Acme",
        "country": "IE",
        "date_of_birth": "1990-01-01",
        "username": f"fuzz{n}",
        "password1": "a-long-and-unusual-passphrase",
        "password2": "a-long-and-unusual-passphrase",
        "phone": "+353 1 555 0199",
        "marketing_newsletter": "on",
    }


CARD = {
    "cardholder_name": "Pat Doe",
    "card_number": "4242 4242 4242 4242",
    "expiry_month": "12",
    "expiry_year": "2099",
    "cvc": "123",
    "billing_line1": "1 Main St",
    "billing_city": "Dublin",
    "billing_postal_code": "D01",
    "billing_country": "IE",
    "store_for_future": "on",
}

SUBMISSIONS = {
    "event_registration": {"event": "Privacy day"},
    "newsletter_signup": {},
    "material_download": {"material": "privacy-by-design"},
    "contest_entry": {"entry": "My entry"},
    "survey_response": {"rating": "4", "comment": "Fine"},
    "support_request": {"message": "Help"},
    "quote_request": {"seats": "12", "message": "A quote please"},
    "contact_request": {"message": "Hello"},
}

TARGETS: dict[str, Target] = {
    "accounts.forms.LoginForm": Target(
        "anonymous", "/accounts/login/", lambda w: {"login": w.user.username, "password": PASSWORD}
    ),
    "accounts.forms.SignupForm": Target("anonymous", "/accounts/signup/", signup_valid),
    "accounts.forms.ResetPasswordForm": Target(
        "anonymous", "/accounts/password/reset/", lambda w: {"email": w.user.email}
    ),
    "accounts.forms.ResetPasswordKeyForm": Target(
        "reset",
        lambda w: w.reset_url,
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    ),
    "accounts.forms.ChildDataReportForm": Target(
        "anonymous",
        "/accounts/report-child-data/",
        {
            "reporter_name": "Parent",
            "reporter_email": "parent@example.com",
            "relationship": "parent",
            "child_name": "Kid",
            "child_email": "kid@example.com",
            "child_username": "kid",
            "details": "Age 12",
        },
    ),
    "accounts.forms.ProfileForm": Target(
        "user",
        "/accounts/profile/",
        {
            "full_name": "Nora Nolan",
            "phone": "+44 20 7946 0958",
            "company_name": "Nolan & Co",
            "country": "GB",
            "time_zone": "Europe/Berlin",
            "language": "de",
        },
    ),
    "accounts.forms.SecurityQuestionForm": Target(
        "user",
        "/accounts/profile/security-question/",
        {"current_password": PASSWORD, "question": "first_pet", "answer": "Rex"},
    ),
    "accounts.forms.AddEmailForm": Target(
        "user", "/accounts/email/", {"email": "second@example.com"}, fixed={"action_add": ""}
    ),
    "accounts.forms.ChangePasswordForm": Target(
        "user",
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    ),
    "accounts.forms.SetPasswordForm": Target(
        "no_password",
        "/accounts/password/set/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    ),
    "accounts.forms.PaymentMethodForm": Target("user", "/accounts/payments/", CARD),
    "accounts.forms.TestimonialForm": Target(
        "user",
        "/accounts/testimonial/",
        {"text": "Great", "display_name": "P.", "display_details": "CTO", "approve": "on"},
    ),
    "accounts.forms.TestimonialApprovalForm": Target(
        "user",
        "/accounts/testimonial/approve/",
        {"fingerprint": "0" * 64},
        accepts_valid=False,  # nothing awaits approval: the approval is refused
    ),
    "accounts.forms.WorkspaceForm": Target("user", "/accounts/workspaces/", {"name": "Another"}),
    "accounts.forms.WorkspaceMemberForm": Target(
        "user",
        lambda w: f"/accounts/workspaces/{w.workspace.pk}/",
        lambda w: {"username": w.colleague.username},
        prefix="member",
        fixed={"action": "member"},
    ),
    "accounts.forms.WorkspaceRecordForm": Target(
        "user",
        lambda w: f"/accounts/workspaces/{w.workspace.pk}/",
        {
            "kind": "customer",
            "name": "Client",
            "email": "c@example.com",
            "phone": "+1 555",
            "notes": "n",
        },
        prefix="record",
        fixed={"action": "record"},
    ),
    "accounts.forms.IntegrationGrantForm": Target(
        "user",
        "/accounts/integrations/",
        lambda w: {
            "integration": "calendar",
            "scopes": ["profile", "workspace_collaborators"],
            "workspace": str(w.workspace.pk),
        },
    ),
    "accounts.forms.TestimonialDraftForm": Target(
        "officer",
        "/admin/accounts/testimonial/add/",
        lambda w: {
            "user": str(w.colleague.pk),
            "feedback": "Loved it",
            "text": "Loved it",
            "display_name": "C.",
            "display_details": "",
        },
    ),
    "accounts.forms.StaffAccessWindowForm": Target(
        "support",
        "/admin/accounts/staffaccesswindow/add/",
        lambda w: {
            "subject_user": str(w.colleague.pk),
            "ticket_reference": "SUP-1234",
            "reason": "The person asked us to fix their profile",
            "minutes": "30",
        },
    ),
    "consent.forms.PreferencesForm": Target(
        "user", "/preferences/", {"purpose_newsletter": "on", "purpose_product_updates": ""}
    ),
    "consent.forms.PreferencesLinkForm": Target(
        "anonymous", "/preferences/link/", {"email": "walkin@example.com"}
    ),
    "consent.forms.CookieChoicesForm": Target(
        "user",
        "/cookies/",
        {"analytics": "on", "social": "", "choice": "save", "next": "/privacy/"},
    ),
    "consent.forms.SubmissionForm": Target(
        "anonymous",
        "/forms/quote_request/",
        {
            "name": "Ann",
            "email": "ann@example.com",
            "company_name": "Acme",
            "seats": "5",
            "message": "A quote",
            "marketing": "on",
            "source": "footer",
        },
    ),
    "consent.forms.RecordOnRequestForm": Target(
        "officer",
        "/admin/consent/consentevent/record/",
        lambda w: {
            "subject": w.user.username,
            "purpose": _purpose_pk("newsletter"),
            "partner": "",
            "action": "withdrawn",
            "reason": "Letter of 1 May, ref 12",
        },
    ),
    "consent.forms.PolicyDiffForm": Target(
        "anonymous", "/policy/", {"from": "1.0", "to": "1.0"}, method="get", accepts_valid=False
    ),
    "consent.forms.PolicyVersionForm": Target(
        "officer",
        "/admin/consent/policyversion/add/",
        lambda w: {
            "version": "7.1",
            "effective_at_0": (timezone.now() + timedelta(days=60)).date().isoformat(),
            "effective_at_1": "10:00:00",
            "is_material": "on",
            "summary_of_changes": "Clearer words",
            "text": "# Policy\n\nNew words.",
        },
    ),
    "consent.forms.ReasonForm": Target(
        "officer",
        "/admin/consent/formsubmission/",
        lambda w: {"_selected_action": str(w.submission.pk), "reason": "A child wrote it"},
        fixed={"action": "flag_from_child", "index": "0"},
    ),
    "dsar.forms.RequestForm": Target(
        "anonymous",
        "/privacy/requests/new/",
        {
            "email": "someone@example.com",
            "kind": "rectification",
            "details": "Please fix",
            "rectification_target": "accounts.User.date_of_birth",
            "rectification_value": "1990-02-03",
            "country": "DE",
        },
    ),
    "dsar.forms.LogRequestForm": Target(
        "officer",
        "/admin/dsar/datasubjectrequest/add/",
        lambda w: {
            "kind": "access",
            "email": "by-letter@example.com",
            "channel": "letter",
            "received_on": timezone.localdate().isoformat(),
            "details": "Sent by post",
            "country": "US",
            "region": "CA",
        },
        samples={"received_on": ["2000-01-01", "9999-12-31", "0001-01-01"]},
    ),
    "dsar.forms.ExtensionForm": Target(
        "officer",
        lambda w: f"/admin/dsar/datasubjectrequest/{w.dsar_request.pk}/act/",
        {"amount": "1", "reason": "Many records"},
        fixed={"action": "extend"},
    ),
}


# Parameters that views read straight from the request, without a form.
RAW_TARGETS: dict[str, Target] = {
    "consent.views.policy_acknowledge": Target(
        "user",
        "/policy/acknowledge/",
        lambda w: {"version": _policy_pk(), "next": "/privacy/"},
        accepts_valid=False,  # the version in force was acknowledged at signup
    ),
    "consent.views.unsubscribe": Target(
        "anonymous", lambda w: _unsubscribe_path(w), {"scope": "all"}
    ),
    "dsar.admin.act_view": Target(
        "officer",
        lambda w: f"/admin/dsar/datasubjectrequest/{w.dsar_request.pk}/act/",
        {
            "action": "note",
            "text": "Called the person",
            "to_state": "in_progress",
            "reason": "Checked",
            "notification": "1",
            "block": "1",
            "proposal": "1",
            "export": "1",
            "fields": "email",
            "model": "accounts.User",
            "row": "1",
        },
        samples={
            "action": [
                "transition",
                "extend",
                "assign_me",
                "apply",
                "notified_by_hand",
                "announce_lift",
                "rectify_apply",
                "rectify_reject",
                "release",
                "redact",
                "retry_export",
            ],
            "to_state": ["rejected", "completed", "withdrawn", "verified"],
        },
    ),
    "dsar.views.request_withdraw": Target(
        "anonymous",
        lambda w: f"/privacy/requests/{w.dsar_request.public_id}/withdraw/",
        {"t": "x"},
        accepts_valid=False,  # not the person's link: refused
    ),
}


def _policy_pk() -> str:
    from consent.models import PolicyVersion

    return str(PolicyVersion.objects.order_by("pk").values_list("pk", flat=True).first())


def _unsubscribe_path(world) -> str:
    from consent.mail import unsubscribe_url
    from consent.services import consent_grant
    from dsar.registry import Subject

    subject = Subject(user_id=world.user.pk)
    consent_grant(subject=subject, purpose="newsletter", method="signup")
    return "/" + unsubscribe_url(subject=subject, purpose="newsletter").split("/", 3)[3]


def _purpose_pk(code: str) -> str:
    from consent.models import Purpose

    return str(Purpose.objects.get(code=code).pk)


def _resolve(value, world):
    return value(world) if callable(value) else value


def test_every_form_has_a_fuzz_target():
    missing = sorted(set(project_form_classes()) - set(TARGETS))
    assert not missing, f"add these forms to TARGETS in {__name__}: {missing}"


@pytest.fixture
def world(db, make_staff):
    return World(make_staff)


def _send(client, target, url, body):
    if target.method == "get":
        return client.get(url + "?" + encode(body).decode())
    return client.post(url, data=encode(body), content_type="application/x-www-form-urlencoded")


def _prefixed(target, body: dict) -> dict:
    if not target.prefix:
        return dict(body)
    return {f"{target.prefix}-{name}": value for name, value in body.items()}


@pytest.mark.parametrize("path", sorted(TARGETS) + sorted(RAW_TARGETS))
def test_fuzzed_input_never_fails_and_a_refusal_changes_nothing(world, path):
    target = TARGETS.get(path) or RAW_TARGETS[path]
    form_class = project_form_classes().get(path)
    valid = _prefixed(target, _resolve(target.valid, world))
    world.client(target.who)  # signed in before the first snapshot

    # The fuzzer's starting point is real: the view takes it (or refuses it by design).
    url = _resolve(target.url, world)  # once: making it may write (a consent to unsubscribe from)
    reason = refusal(_send(world.client(target.who), target, url, {**valid, **target.fixed}))
    assert bool(reason) is not target.accepts_valid, reason or "the valid body was accepted"
    valid = _prefixed(target, _resolve(target.valid, world))  # a fresh one (new names)
    world.__dict__.pop("reset_url", None)  # that reset link is used up: the fuzz gets a new one
    world.client(target.who)
    url = _resolve(target.url, world)
    declared = dict.fromkeys(form_class.base_fields) if form_class else {}
    names = sorted(set(valid) | set(_prefixed(target, declared)))

    @FUZZ_SETTINGS
    @given(
        body=payloads(valid, names, target.samples),
        extra=st.sampled_from([{}, {"next": "//evil.example"}]),
    )
    def check(body, extra):
        client = world.client(target.who)  # signed in (or the reset link opened) beforehand
        cache.clear()  # the limiters must let the input reach the form
        limits_reset()
        mail.outbox = []
        before = database_snapshot()
        response = _send(client, target, url, {**body, **extra, **target.fixed})
        assert response.status_code < 500
        if refusal(response):
            assert snapshot_diff(before, database_snapshot()) == [], "a refused input wrote"
            assert mail.outbox == [], "a refused input sent mail"

    check()


@pytest.mark.django_db
@FUZZ_SETTINGS
@given(
    body=st.one_of(
        st.binary(max_size=300),
        texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | texts,
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.sampled_from(["path", "first", "x"]), inner, max_size=3)
            ),
            max_leaves=6,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_fuzzed_analytics_beacons_never_fail(body):
    """The page-view beacon takes a JSON body from any page (with analytics accepted)."""
    client = Client()
    client.cookies["wpx_cookie_choices"] = "analytics=1&social=0"
    response = client.post("/analytics/page-view/", data=body, content_type="application/json")
    assert response.status_code in (204, 400)


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["²", "٣", "9" * 40, "-1", "", "1.0"])
def test_acknowledging_a_policy_version_that_is_not_a_number_is_refused(user_client, version):
    response = user_client.post("/policy/acknowledge/", {"version": version})
    assert response.status_code == 302
    assert refusal(response) == "messages ['That policy version does not exist.']"


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["privacy", "😀", "//evil.example/", "https://evil.example/"])
def test_a_next_address_that_is_not_a_path_of_ours_goes_to_a_safe_page(user_client, target):
    cookies = user_client.post("/cookies/", {"choice": "refuse_all", "next": target})
    assert cookies.status_code == 302 and cookies["Location"] == "/"
    policy = user_client.post("/policy/acknowledge/", {"version": "1", "next": target})
    assert policy.status_code == 302 and policy["Location"] == "/policy/"
    admin_login = user_client.get("/admin/login/", {"next": target})
    assert admin_login.status_code in (302, 403)


@pytest.mark.parametrize("value", ["abc", "²", "9" * 40, ""])
def test_staff_posts_naming_rows_by_something_that_is_not_an_id_are_refused(world, value):
    client = world.client("officer")
    act = f"/admin/dsar/datasubjectrequest/{world.dsar_request.pk}/act/"
    for action, name in [
        ("notified_by_hand", "notification"),
        ("announce_lift", "block"),
        ("rectify_apply", "proposal"),
        ("release", "export"),
        ("assign", "assignee"),
    ]:
        assert client.post(act, {"action": action, name: value}).status_code == 404
    selected = [str(world.submission.pk), value]
    before = database_snapshot()
    response = client.post(
        "/admin/consent/formsubmission/",
        {"action": "flag_from_child", "_selected_action": selected, "reason": "A child"},
    )
    if value.isascii() and value.isdigit():  # a number that is no row's: the real one is done
        assert response.status_code < 500
    else:
        assert response.status_code == 302
        assert refusal(response) == "messages ['Choose the items from the list.']"
        assert snapshot_diff(before, database_snapshot()) == []
