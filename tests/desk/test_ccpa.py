"""The CCPA § 7102 disclosure from outside: California consumers only, GPC signals and partner
opt-outs counted as opt-outs of sale/sharing, and a year an officer publishes at a public URL."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from consent import services as consent_services
from consent.models import PolicyVersion
from desk import metrics
from dsar.deadlines import add_months
from dsar.models import AuditEvent, DataSubjectRequest, RequestKind, RequestState
from dsar.registry import Subject
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp

YEAR = 2025
RECEIVED = datetime(YEAR, 3, 2, 9, tzinfo=UTC)


def request_row(kind, *, country="US", region="CA", closed_after=None):
    closed = RECEIVED + timedelta(days=closed_after) if closed_after is not None else None
    return DataSubjectRequest.objects.create(
        kind=kind,
        state=RequestState.COMPLETED if closed else RequestState.IN_PROGRESS,
        user=UserFactory(),
        country=country,
        region=region,
        received_at=RECEIVED,
        verified_at=RECEIVED,
        original_due_at=add_months(RECEIVED, 1),
        due_at=add_months(RECEIVED, 1),
        closed_at=closed,
    )


def person(country="US", region="CA"):
    user = UserFactory(country=country, region=region)
    subject = Subject(user_id=user.pk)
    at = datetime(YEAR, 5, 1, 12, tzinfo=UTC)
    consent_services.consent_record(
        subject=subject,
        purpose="partner_notifications",
        action="granted",
        method="signup",
        at=at,
    )
    return subject


def opt_out(subject, *, method):
    consent_services.consent_record(
        subject=subject,
        purpose="partner_notifications",
        action="withdrawn",
        method=method,
        at=datetime(YEAR, 6, 1, 12, tzinfo=UTC),
    )


@pytest.fixture
def californians(db):
    # The seeded policy is in force from 2026; consent in YEAR needs one in force then.
    effective = datetime(YEAR - 1, 1, 1, tzinfo=UTC)
    PolicyVersion.objects.create(
        version="0.9", text="Earlier policy.", effective_at=effective, published_at=effective
    )
    request_row(RequestKind.ACCESS, closed_after=10)
    request_row(RequestKind.ACCESS, region="NY", closed_after=10)  # New York: not counted
    request_row(RequestKind.ACCESS, country="", region="", closed_after=10)  # unknown: not counted
    request_row(RequestKind.OBJECTION, closed_after=4)
    opt_out(person(), method="gpc")
    opt_out(person(), method="gpc")
    opt_out(person(), method="preference_centre")  # the partner opt-out
    opt_out(person(region="TX"), method="gpc")  # Texas: not counted
    opt_out(person(country="DE", region=""), method="gpc")  # not counted


def test_only_california_consumers_are_counted(californians):
    rows = {r["type"]: r for r in metrics.ccpa_disclosure(year=YEAR)}
    assert rows["Requests to know"]["received"] == 1


def test_gpc_signals_and_partner_opt_outs_are_opt_outs_of_sale_and_sharing(californians):
    opt_outs = {r["type"]: r for r in metrics.ccpa_disclosure(year=YEAR)}[
        "Requests to opt out of sale/sharing"
    ]
    assert (opt_outs["gpc"], opt_outs["partner_opt_outs"], opt_outs["requests"]) == (2, 1, 1)
    assert (opt_outs["received"], opt_outs["complied"], opt_outs["denied"]) == (4, 4, 0)
    assert opt_outs["median_days"] == 0  # [0, 0, 0, 4]: signals take effect at once


def test_the_officer_page_states_the_scope(officer_client, californians):
    page = officer_client.get(f"/admin/desk/ccpa-disclosure/?year={YEAR}").content.decode()
    assert "California consumers only" in page
    assert "2 Global Privacy Control signals, 1 partner opt-outs, 1 objection requests" in page


def test_an_officer_publishes_a_year_and_the_public_sees_only_published_years(
    officer_client, californians
):
    public = Client()
    assert public.get(f"/ccpa-metrics/{YEAR}/").status_code == 404
    assert str(YEAR) not in public.get("/ccpa-metrics/").content.decode()

    response = officer_client.post("/admin/desk/ccpa-disclosure/", {"year": YEAR})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        action="ccpa_disclosure_published", actor=officer_client.officer
    ).exists()

    index = public.get("/ccpa-metrics/")
    assert f'href="/ccpa-metrics/{YEAR}/"' in index.content.decode()
    assert f"/ccpa-metrics/{YEAR - 1}/" not in index.content.decode()
    page = public.get(f"/ccpa-metrics/{YEAR}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "California consumers only" in text
    assert "Requests to opt out of sale/sharing" in text
    assert "2 Global Privacy Control signals" in text
    assert public.get(f"/ccpa-metrics/{YEAR - 1}/").status_code == 404

    officer_client.post("/admin/desk/ccpa-disclosure/", {"year": YEAR, "action": "unpublish"})
    assert public.get(f"/ccpa-metrics/{YEAR}/").status_code == 404


def test_a_year_still_running_cannot_be_published(officer_client, db):
    from django.utils import timezone

    this_year = timezone.localdate().year
    officer_client.post("/admin/desk/ccpa-disclosure/", {"year": this_year})
    assert Client().get(f"/ccpa-metrics/{this_year}/").status_code == 404


def test_support_cannot_publish(client, make_staff, californians):
    support, secret = make_staff("Support")
    login_with_totp(client, support, secret)
    assert client.post("/admin/desk/ccpa-disclosure/", {"year": YEAR}).status_code == 403
    assert Client().get(f"/ccpa-metrics/{YEAR}/").status_code == 404


def test_the_public_page_is_in_german_too(officer_client, californians):
    officer_client.post("/admin/desk/ccpa-disclosure/", {"year": YEAR})
    page = Client(headers={"accept-language": "de"}).get(f"/ccpa-metrics/{YEAR}/")
    text = page.content.decode()
    assert "Kalifornien" in text
    assert "Widersprüche gegen Verkauf/Weitergabe" in text
    assert "Requests to" not in text


def test_every_page_links_the_published_disclosure_from_its_footer(db):
    page = Client().get("/policy/").content.decode()
    footer = page[page.index("<footer") :]
    assert 'href="/ccpa-metrics/"' in footer


def test_the_csv_states_the_scope_and_the_parts(officer_client, californians):
    import csv
    import io

    response = officer_client.get(f"/admin/desk/ccpa-disclosure/?year={YEAR}&format=csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    opt_outs = next(r for r in rows if r["Request type"] == "Requests to opt out of sale/sharing")
    assert opt_outs["Of which Global Privacy Control signals"] == "2"
    assert opt_outs["Of which partner opt-outs"] == "1"
    assert all(r["Scope"].startswith("California consumers only") for r in rows)
