"""Restrictions and objections name real uses of data, and stop exactly those (issue 14, 4).

From outside: the request form and the pages over HTTP, the services, and every path that uses
the person's data (mail, push, partners' mail, testimonials, the stored card, page-view
counting, consent trends)."""

import importlib
import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts import payments, testimonials
from accounts.models import User
from consent import mail as consent_mail
from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.models import ConsentEvent, PageViewCount, Partner
from desk.consent_insights import consent_insights
from dsar import services
from dsar.models import DataSubjectRequest, ProcessingBlock
from dsar.purposes import ALL_USES, objection_uses, processing_uses, processing_uses_clean
from dsar.registry import Subject
from notifications import push
from tests.notifications.conftest import register

pytestmark = pytest.mark.django_db

NEWS = {"title": "Spring news", "body": "What is new at Workpex this spring."}
TEXT = "Workpex made our payroll audits painless."
CARD = "4242424242424242"
MESSAGE_PURPOSES = ["newsletter", "product_updates", "events", "marketing"]
NEW = "/privacy/requests/new/"


class World:
    """One person whose data every path may use: every consent granted, a phone for push, a
    published testimonial, a stored card, a signed-in browser that accepted analytics."""

    def __init__(self, client, staff, capture):
        self.capture = capture
        self.user = User.objects.get(pk=_user().pk)
        self.subject = Subject(user_id=self.user.pk)
        self.partner = Partner.objects.create(code="northwind", name="Northwind Resellers")
        for code in MESSAGE_PURPOSES:
            _grant(self.subject, code)
        _grant(self.subject, "newsletter", channel="push")
        _grant(self.subject, "partner_notifications", partner=self.partner.pk)
        with capture(execute=True):
            register(self.user, "apple")
        testimonial = testimonials.testimonial_write(user=self.user, text=TEXT, display_name="Lisa")
        testimonials.testimonial_publish(staff=staff, testimonial=testimonial)
        self.card = payments.payment_method_add(
            user=self.user,
            card=payments.CardDetails(
                number=CARD, expiry_month=12, expiry_year=2099, cvc="123", cardholder_name="P"
            ),
            billing={
                "billing_line1": "1 Main Street",
                "billing_city": "Dublin",
                "billing_postal_code": "D01 F5P2",
                "billing_country": "IE",
            },
            store_token=True,
        )
        self.client = client
        client.force_login(self.user)
        client.post("/cookies/", {"choice": "accept_all"})


def _user():
    from tests.accounts.factories import UserFactory

    return UserFactory()


def _grant(subject, purpose, *, partner=None, channel=""):
    consent_services.consent_record(
        subject=subject,
        purpose=purpose,
        action="granted",
        method="preference_centre",
        partner=partner,
        channel=channel,
    )


@pytest.fixture
def world(client, make_staff, django_capture_on_commit_callbacks):
    staff, _ = make_staff()
    return World(client, staff, django_capture_on_commit_callbacks)


def _mail_goes(w: World, code: str, partner=None) -> bool:
    with w.capture(execute=True):
        return consent_mail.mail_send(
            subject=w.subject,
            purpose=code,
            partner=partner,
            template="consent/mail/announcement",
            context=NEWS,
        )


def _push_goes(w: World) -> bool:
    with w.capture(execute=True):
        return (
            push.push_send(
                subject=w.subject,
                purpose="newsletter",
                template="notifications/push/announcement",
                context=NEWS,
            )
            > 0
        )


def _card_charged(w: World) -> bool:
    from django.core.exceptions import ValidationError

    try:
        payments.invoice_issue(user=w.user, method=w.card, amount_cents=100, description="Plan")
    except ValidationError:
        return False
    return True


def _page_view_counted(w: World) -> bool:
    before = sum(PageViewCount.objects.values_list("views", flat=True))
    w.client.post(
        "/analytics/page-view/",
        json.dumps({"path": "/preferences/", "first": True}),
        content_type="application/json",
    )
    return sum(PageViewCount.objects.values_list("views", flat=True)) > before


def _in_trends(w: World) -> bool:
    now = timezone.now()
    insights = consent_insights(start=now - timedelta(days=1), end=now + timedelta(days=1))
    return "Newsletter" in insights.by_purpose


# Each use of data, and whether it happens for the person right now.
PROBES = {
    **{code: (lambda c: lambda w: _mail_goes(w, c))(code) for code in MESSAGE_PURPOSES},
    "partner_notifications": lambda w: _mail_goes(w, "partner_notifications", w.partner.pk),
    "push_notifications": _push_goes,
    "testimonial": lambda w: (
        testimonials.testimonials_published().filter(approved_text=TEXT).exists()
    ),
    "stored_payment_method": _card_charged,
    "behaviour_analytics": _page_view_counted,
    "service_improvement": _in_trends,
}
# What a block naming each use stops (the push probe sends the newsletter; every other probe
# is stopped by its own use alone).
STOPS = {
    **{code: {code} for code in PROBES},
    "newsletter": {"newsletter", "push_notifications"},
    "direct_marketing": {*MESSAGE_PURPOSES, "partner_notifications", "push_notifications"},
    "all": set(PROBES),
}


def test_every_use_on_offer_has_a_probe_here():
    """A use added to the registry without a path that honours it fails here."""
    assert {use.code for use in processing_uses()} == set(PROBES) | {"direct_marketing"}


def test_every_probe_runs_before_any_block(world):
    assert {code: probe(world) for code, probe in PROBES.items()} == dict.fromkeys(PROBES, True)


@pytest.mark.parametrize("kind", ["restriction", "objection"])
@pytest.mark.parametrize("blocked", sorted(STOPS))
def test_a_block_stops_exactly_the_use_it_names(world, blocked, kind):
    """A restriction may name any use; an objection only what Art. 21 allows (else refused,
    and nothing stops)."""
    objectionable = {use.code for use in objection_uses()} | {"all"}
    if kind == "objection" and blocked not in objectionable:
        with pytest.raises(services.RequestError, match="You can object only to"):
            services.processing_block_add(
                kind=kind, subject=world.subject, purpose=blocked, reason="x"
            )
        stops = set()
    else:
        services.processing_block_add(kind=kind, subject=world.subject, purpose=blocked, reason="x")
        stops = STOPS[blocked]
    happening = {code: probe(world) for code, probe in PROBES.items()}
    assert happening == {code: code not in stops for code in PROBES}


@pytest.mark.parametrize("blocked", sorted(set(STOPS) - {"all"}))
def test_the_bulk_gate_agrees_with_the_single_gate(world, blocked):
    """`contactable` (campaigns, push campaigns) stops what `can_contact` stops, no more."""
    services.processing_block_add(
        kind="restriction", subject=world.subject, purpose=blocked, reason="x"
    )
    me = User.objects.filter(pk=world.user.pk)
    for code in MESSAGE_PURPOSES:
        single = consent_selectors.can_contact(world.subject, code)
        assert consent_selectors.contactable(me, purpose=code).exists() is single
        assert single is (code not in STOPS[blocked])
    push_single = consent_selectors.can_contact(world.subject, "newsletter", channel="push")
    push_bulk = consent_selectors.contactable(me, purpose="newsletter", channel="push").exists()
    assert push_single is push_bulk is ("push_notifications" not in STOPS[blocked])


def test_a_lifted_block_stops_nothing_and_the_consents_are_as_they_were(world):
    block = services.processing_block_add(
        kind="restriction", subject=world.subject, purpose="newsletter", reason="x"
    )
    assert not PROBES["newsletter"](world)
    services.processing_block_announce_lift(block=block, actor=None, reason="Checked.")
    services.processing_blocks_lift_due(now=timezone.now() + timedelta(days=8))
    assert PROBES["newsletter"](world)


def test_publishing_a_testimonial_is_refused_while_its_use_is_restricted(world, make_staff):
    from django.core.exceptions import ValidationError

    staff, _ = make_staff()
    services.processing_block_add(
        kind="restriction", subject=world.subject, purpose="testimonial", reason="x"
    )
    assert TEXT not in world.client.get("/testimonials/").content.decode()
    testimonial = testimonials.testimonial_write(
        user=world.user, text="New words.", display_name="Lisa"
    )  # approved by its author, waiting to be published
    with pytest.raises(ValidationError, match="restricted or objected"):
        testimonials.testimonial_publish(staff=staff, testimonial=testimonial)


# --- The form -------------------------------------------------------------------------------


def test_the_form_offers_the_uses_as_checkboxes_never_free_text(user_client):
    page = user_client.get(NEW).content.decode()
    inputs = re.findall(r'<input[^>]*name="purposes"[^>]*>', page)
    assert inputs and all('type="checkbox"' in tag for tag in inputs)
    boxes = {re.search(r'value="([^"]+)"', tag).group(1) for tag in inputs}
    assert boxes == set(PROBES) | {"direct_marketing", "all"}
    assert 'name="purpose"' not in page
    for words in ("Newsletter", "Push notifications to my devices", "All uses"):
        assert words in page


def test_a_restriction_stores_the_chosen_uses_and_an_officer_applies_one_block_each(
    user_client, user
):
    response = user_client.post(
        NEW, {"kind": "restriction", "purposes": ["behaviour_analytics", "newsletter"]}
    )
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get(user=user)
    assert request.purposes == ["behaviour_analytics", "newsletter"]
    assert not ProcessingBlock.objects.exists()  # an officer decides a restriction
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    services.dsar_request_apply(request=request, actor=None)  # twice changes nothing
    assert sorted(request.processing_blocks.values_list("purpose", flat=True)) == [
        "behaviour_analytics",
        "newsletter",
    ]
    page = user_client.get(f"/privacy/requests/{request.public_id}/").content.decode()
    assert "Analysing how I use the portal" in page and "Newsletter" in page


@pytest.mark.parametrize(
    "purposes", [["analytics of my behaviour"], ["newsletter", "direct marketing"]]
)
def test_an_unknown_use_is_refused_with_a_clear_message_and_nothing_is_stored(
    user_client, purposes
):
    response = user_client.post(NEW, {"kind": "objection", "purposes": purposes})
    assert response.status_code == 200
    assert "is not one of the uses of your data we have" in response.content.decode()
    assert not DataSubjectRequest.objects.exists() and not ProcessingBlock.objects.exists()


def test_a_restriction_or_objection_needs_a_use(user_client):
    response = user_client.post(NEW, {"kind": "restriction"})
    assert "Tick the uses of your data to stop" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


def test_all_uses_alone_covers_the_rest(user_client, user):
    user_client.post(NEW, {"kind": "restriction", "purposes": ["newsletter", "all"]})
    assert DataSubjectRequest.objects.get(user=user).purposes == ["all"]


def test_the_service_refuses_unknown_codes_and_uses_for_other_kinds(user):
    for kind, purposes in [("restriction", ["analytics"]), ("access", ["newsletter"])]:
        with pytest.raises(services.RequestError):
            services.dsar_request_file(kind=kind, user=user, purposes=purposes)
    with pytest.raises(services.RequestError, match="not a use of data we have"):
        services.processing_block_add(
            kind="restriction", subject=Subject(user_id=user.pk), purpose="Analytics"
        )
    assert not DataSubjectRequest.objects.exists() and not ProcessingBlock.objects.exists()


def test_filing_again_adds_the_new_uses_to_the_open_request(user):
    first, _ = services.dsar_request_file(
        kind="restriction", user=user, purposes=["behaviour_analytics"]
    )
    again, joined = services.dsar_request_file(kind="restriction", user=user, purposes=["events"])
    assert joined and again.pk == first.pk
    first.refresh_from_db()
    assert first.purposes == ["behaviour_analytics", "events"]


# --- Objections to direct marketing ------------------------------------------------------------


def test_an_objection_to_direct_marketing_takes_effect_at_once_and_the_rest_waits(
    client, user, django_capture_on_commit_callbacks
):
    client.force_login(user)
    subject = Subject(user_id=user.pk)
    _grant(subject, "newsletter")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            NEW, {"kind": "objection", "purposes": ["direct_marketing", "behaviour_analytics"]}
        )
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get(user=user)
    assert list(request.processing_blocks.values_list("purpose", flat=True)) == ["direct_marketing"]
    assert not consent_selectors.can_contact(subject, "newsletter")
    told = next(m for m in mail.outbox if "stopped direct marketing" in m.subject)
    assert "Newsletter, offers, events" in told.body or "direct marketing" in told.body
    assert "within one month" in told.body  # the rest is decided by an officer
    with pytest.raises(services.RequestError, match="Apply the restriction or objection"):
        request = services.dsar_request_transition(
            request=request, to_state="in_progress", actor=None
        )
        services.dsar_request_transition(request=request, to_state="completed", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    assert sorted(request.processing_blocks.values_list("purpose", flat=True)) == [
        "behaviour_analytics",
        "direct_marketing",
    ]
    services.dsar_request_transition(request=request, to_state="completed", actor=None)


def test_an_objection_to_the_newsletter_alone_also_takes_effect_at_once(user):
    subject = Subject(user_id=user.pk)
    _grant(subject, "newsletter")
    _grant(subject, "events")
    services.dsar_request_file(kind="objection", user=user, purposes=["newsletter"])
    assert not consent_selectors.can_contact(subject, "newsletter")
    assert consent_selectors.can_contact(subject, "events")


def test_an_email_only_objection_takes_effect_once_the_address_is_confirmed(
    client, django_capture_on_commit_callbacks
):
    subject = Subject(email="walkin@example.com")
    _grant(subject, "newsletter")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            NEW,
            {"email": "walkin@example.com", "kind": "objection", "purposes": ["direct_marketing"]},
        )
    assert consent_selectors.can_contact(subject, "newsletter")  # not confirmed yet
    link = re.search(r"/privacy/requests/confirm/[^/\s]+/", mail.outbox[-1].body).group(0)
    client.get(link)
    client.post(link)
    assert not consent_selectors.can_contact(subject, "newsletter")


# --- What the pages show ---------------------------------------------------------------------


def test_the_dashboard_and_preferences_show_the_objection_and_never_on(user_client, user):
    subject = Subject(user_id=user.pk)
    _grant(subject, "newsletter")
    _grant(subject, "events")
    request, _ = services.dsar_request_file(kind="objection", user=user, purposes=["newsletter"])

    page = user_client.get("/privacy/").content.decode()
    assert "Restrictions and objections in force" in page
    assert request.reference in page
    assert "Paused — you objected to this use" in page
    assert not re.search(r">On</span>\s*Newsletter", page)
    assert re.search(r">On</span>\s*Events and webinars", page)  # the rest is untouched

    page = user_client.get("/preferences/").content.decode()
    assert "Restrictions and objections in force" in page and request.reference in page
    switch = re.search(r'<input[^>]*name="purpose_newsletter"[^>]*>', page).group(0)
    assert "disabled" in switch and "checked" not in switch
    assert "Paused — you objected to this use" in page

    # Saving the form cannot switch it back on, nor records a withdrawal behind it.
    before = ConsentEvent.objects.count()
    user_client.post("/preferences/", {"purpose_newsletter": "on", "purpose_events": "on"})
    assert ConsentEvent.objects.count() == before
    assert not consent_selectors.can_contact(subject, "newsletter")


def test_preferences_by_email_link_show_the_block_too(client):
    from consent import tokens

    subject = Subject(email="walkin@example.com")
    _grant(subject, "newsletter")
    services.processing_block_add(kind="objection", subject=subject, purpose="direct_marketing")
    client.get(f"/preferences/link/{tokens.preferences_token_make(email=subject.email)}/")
    page = client.get("/preferences/").content.decode()
    assert "All direct marketing" in page and "Paused — you objected to this use" in page


def test_the_dashboard_shows_a_restriction_with_its_date(user_client, user):
    services.processing_block_add(
        kind="restriction", subject=Subject(user_id=user.pk), purpose="behaviour_analytics"
    )
    page = user_client.get("/privacy/").content.decode()
    assert "Analysing how I use the portal" in page and "stopped since" in page


# --- The data migration -----------------------------------------------------------------------


def test_the_migration_reads_old_free_text_as_known_codes_or_all():
    migration = importlib.import_module("dsar.migrations.0012_h_purposes_request_purposes")
    assert migration._code("") == "all"
    assert migration._code("direct marketing") == "direct_marketing"
    assert migration._code(" Newsletter ") == "newsletter"
    assert migration._code("push-notifications") == "push_notifications"
    assert migration._code("analytics") == "behaviour_analytics"
    assert migration._code("Analytics of my behaviour") is None  # read as all, with a note


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_moves_old_rows_and_keeps_what_was_typed():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("dsar", "0011_recipient_notification_permissions")]
    after = [("dsar", "0012_h_purposes_request_purposes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Request = old.get_model("dsar", "DataSubjectRequest")
    Block = old.get_model("dsar", "ProcessingBlock")
    typed = {
        "": "restriction",
        "direct marketing": "objection",
        "Analytics of my behaviour": "restriction",
    }
    ids = {
        text: Request.objects.create(kind=kind, email="a@example.com", purpose=text).pk
        for text, kind in typed.items()
    }
    Block.objects.create(kind="objection", email="a@example.com", purpose="direct marketing")
    Block.objects.create(kind="restriction", email="a@example.com", purpose="my behaviour")
    Block.objects.create(kind="restriction", email="a@example.com", purpose="")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    try:
        check_migrated_rows(new, ids)
    finally:
        # Back to the latest schema, or every later test meets the tables of 0012.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def check_migrated_rows(new, ids):
    Request = new.get_model("dsar", "DataSubjectRequest")
    Block = new.get_model("dsar", "ProcessingBlock")
    Event = new.get_model("dsar", "RequestEvent")
    assert Request.objects.get(pk=ids[""]).purposes == ["all"]
    assert Request.objects.get(pk=ids["direct marketing"]).purposes == ["direct_marketing"]
    unknown = Request.objects.get(pk=ids["Analytics of my behaviour"])
    assert unknown.purposes == ["all"]
    note = Event.objects.get(request=unknown)
    assert note.internal and "Analytics of my behaviour" in note.text
    assert sorted(Block.objects.values_list("purpose", flat=True)) == ["", "", "direct_marketing"]
    assert "my behaviour" in Block.objects.get(reason__contains="typed").reason


def test_cleaning_names_the_unknown_use_and_all_alone_covers_everything():
    codes = [use.code for use in processing_uses()]
    with pytest.raises(ValueError, match="^behaviour_tracking_typo$"):
        processing_uses_clean([codes[0], "behaviour_tracking_typo"])
    assert processing_uses_clean([codes[1], codes[0], codes[1]]) == [codes[1], codes[0]]
    assert processing_uses_clean([codes[0], ALL_USES, codes[1]]) == [ALL_USES]
