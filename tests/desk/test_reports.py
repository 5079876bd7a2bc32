from datetime import UTC, datetime, timedelta

import pytest
from django.utils.html import escape

from desk import metrics
from dsar.deadlines import add_months
from dsar.models import AuditEvent, DataSubjectRequest, RequestKind, RequestState
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp
from tests.dsar.factories import DataSubjectRequestFactory

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def request_row(
    kind, *, received_days=0, closed_after=None, state=None, extended=False, due_in_past=False
):
    received = START + timedelta(days=received_days)
    due = add_months(received, 1)
    if extended:
        due = add_months(due, 2)
    if due_in_past:
        due = datetime(2026, 4, 1, tzinfo=UTC)
    closed = received + timedelta(days=closed_after) if closed_after is not None else None
    return DataSubjectRequestFactory(
        kind=kind,
        state=state or (RequestState.COMPLETED if closed else RequestState.IN_PROGRESS),
        received_at=received,
        due_at=due,
        extended_at=received + timedelta(days=3) if extended else None,
        extension_reason="Complex." if extended else "",
        closed_at=closed,
        outcome="Not possible." if state == RequestState.REJECTED else "",
    )


@pytest.fixture
def known_requests(db):
    request_row(RequestKind.ACCESS, closed_after=10)  # on time
    request_row(RequestKind.ACCESS, closed_after=40, extended=True)  # on time thanks to it
    request_row(RequestKind.ERASURE, closed_after=35)  # late
    request_row(RequestKind.ERASURE, closed_after=5)  # on time
    request_row(RequestKind.RECTIFICATION, closed_after=3, state=RequestState.REJECTED)
    request_row(RequestKind.RESTRICTION, due_in_past=True)  # open and overdue
    request_row(RequestKind.OBJECTION)  # open
    request_row(RequestKind.ACCESS, received_days=-30, closed_after=1)  # before the period


def period():
    return START, START + timedelta(days=30)


def test_metrics_match_hand_computed_values_for_an_even_count(known_requests):
    result = metrics.request_metrics(
        start=START, end=START + timedelta(days=30), now=datetime(2026, 6, 1, tzinfo=UTC)
    )
    assert result.by_kind[RequestKind.ACCESS] == {RequestState.COMPLETED: 2}
    assert result.by_kind[RequestKind.RECTIFICATION] == {RequestState.REJECTED: 1}
    assert result.completed == 4
    assert result.median_days == pytest.approx(22.5)  # (10 + 35) / 2 of [5, 10, 35, 40]
    assert result.p90_days == pytest.approx(38.5)  # 35 + 0.7 × (40 − 35)
    assert result.on_time == 3 and result.on_time_share == pytest.approx(0.75)
    assert result.extensions == 1
    assert result.open_now == 2 and result.overdue_now == 2
    assert sum(b["count"] for b in result.time_to_complete) == 4
    assert [b["count"] for b in result.time_to_complete] == [1, 1, 0, 2, 0]


def test_metrics_for_an_odd_count(known_requests):
    request_row(RequestKind.PORTABILITY, received_days=1, closed_after=20)
    result = metrics.request_metrics(start=START, end=START + timedelta(days=30))
    assert result.median_days == pytest.approx(20)  # [5, 10, 20, 35, 40]
    assert result.p90_days == pytest.approx(38)  # 35 + 0.6 × 5


def test_python_percentile_matches_percentile_cont():
    assert metrics.percentile([5, 10, 35, 40], 0.5) == 22.5
    assert metrics.percentile([5, 10, 35, 40], 0.9) == pytest.approx(38.5)
    assert metrics.percentile([7], 0.9) == 7
    assert metrics.percentile([], 0.5) is None


def test_query_count_does_not_grow_with_the_data(db, django_assert_max_num_queries):
    for i in range(3):
        request_row(RequestKind.ACCESS, received_days=i, closed_after=4)
    with django_assert_max_num_queries(6):
        metrics.request_metrics(start=START, end=START + timedelta(days=30))
    for i in range(30):
        request_row(RequestKind.ERASURE, received_days=i % 20, closed_after=i)
    with django_assert_max_num_queries(6):
        metrics.request_metrics(start=START, end=START + timedelta(days=30))


def test_ccpa_disclosure(known_requests):
    # The disclosure counts California consumers (tests/desk/test_ccpa.py): these all are.
    DataSubjectRequest.objects.update(country="US", region="CA")
    rows = {r["type"]: r for r in metrics.ccpa_disclosure(year=2026)}
    know = rows["Requests to know"]
    assert (know["received"], know["complied"], know["denied"]) == (3, 3, 0)
    assert know["median_days"] == pytest.approx(10)  # [1, 10, 40]
    delete = rows["Requests to delete"]
    assert (delete["received"], delete["complied"], delete["median_days"]) == (2, 2, 20)
    correct = rows["Requests to correct"]
    assert (correct["denied"], correct["median_days"]) == (1, 3)


REPORTS = [
    "/admin/desk/",
    "/admin/desk/records-of-processing/",
    "/admin/desk/records-of-processing/?format=csv",
    "/admin/desk/records-of-processing/?format=pdf",
    "/admin/desk/request-metrics/",
    "/admin/desk/request-metrics/?format=csv",
    "/admin/desk/ccpa-disclosure/",
    "/admin/desk/ccpa-disclosure/?format=csv",
    "/admin/desk/consent-insights/",
    "/admin/desk/consent-insights/?format=csv",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", REPORTS)
def test_every_report_opens_for_an_officer_and_is_audited(officer_client, url):
    response = officer_client.get(url)
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="report_opened", actor=officer_client.officer).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", REPORTS)
def test_support_gets_403_on_every_report(client, make_staff, url):
    support, secret = make_staff("Support")
    login_with_totp(client, support, secret)
    assert client.get(url).status_code == 403
    assert AuditEvent.objects.filter(action="report_refused", actor=support).exists()


@pytest.mark.django_db
def test_reports_need_the_admin_login(client):
    assert client.get("/admin/desk/").status_code == 302


@pytest.mark.django_db
def test_bad_period_input_gets_a_clear_message(officer_client):
    page = officer_client.get("/admin/desk/request-metrics/?start=yesterday&end=2026-13-45")
    assert page.status_code == 200
    assert "is not a date" in page.content.decode()
    page = officer_client.get("/admin/desk/request-metrics/?start=2026-05-01&end=2026-04-01")
    assert "starts after it ends" in page.content.decode()


@pytest.mark.django_db
def test_consent_insights_match_the_ledger():
    from consent.models import Partner
    from consent.services import consent_grant, consent_withdraw
    from desk.consent_insights import consent_insights
    from dsar.registry import Subject

    partner = Partner.objects.create(code="acme", name="Acme Resellers")
    people = [Subject(user_id=UserFactory().pk) for _ in range(4)]
    for person in people:
        consent_grant(subject=person, purpose="newsletter", method="preference_centre")
    consent_withdraw(subject=people[0], purpose="newsletter", method="unsubscribe_link")
    consent_grant(
        subject=people[1],
        purpose="partner_notifications",
        method="preference_centre",
        partner=partner,
    )
    now = datetime.now(UTC)
    insights = consent_insights(start=now - timedelta(days=1), end=now + timedelta(days=1))
    newsletter = next(r for name, r in insights.by_purpose.items() if "ewsletter" in name)
    assert (newsletter.granted, newsletter.withdrawn) == (4, 1)
    assert newsletter.opt_in_rate == pytest.approx(0.8)
    assert insights.by_partner["Acme Resellers"].granted == 1
    assert insights.withdrawals_by_method == {"Unsubscribe link": 1}
    assert sum(r["granted"] for r in insights.monthly) == 5


@pytest.mark.django_db
def test_attention_counts_what_waits(officer_client):
    from accounts.models import ChildDataReport
    from desk.attention import officer_attention

    ChildDataReport.objects.create(reporter_email="parent@example.org", child_name="Sam")
    overdue = request_row(RequestKind.ACCESS, due_in_past=True)
    items = {
        str(item.title): item for item in officer_attention(now=datetime(2026, 6, 1, tzinfo=UTC))
    }
    assert items["Reports of children's data waiting for review"].count == 1
    assert items["Overdue requests"].count == 1
    assert items["Unassigned open requests"].count == 1
    page = officer_client.get("/admin/desk/").content.decode()
    for item in items.values():
        assert escape(str(item.title)) in page
    assert overdue.pk


@pytest.mark.django_db
def test_attention_counts_erasures_and_child_removals_that_stopped(officer_client):
    from accounts.models import ChildDataReport
    from desk.attention import officer_attention
    from dsar.models import ErasureSchedule

    now = datetime(2026, 6, 1, tzinfo=UTC)

    def erasure(started_minutes_ago):
        return ErasureSchedule.objects.create(
            request=request_row(RequestKind.ERASURE),
            due_at=now - timedelta(days=1),
            state=ErasureSchedule.State.RUNNING,
            started_at=now - timedelta(minutes=started_minutes_ago),
        )

    def removal(started_minutes_ago, child):
        return ChildDataReport.objects.create(
            reporter_email="parent@example.org",
            child_name=child,
            state=ChildDataReport.State.REMOVING,
            erase_email=f"{child.lower()}@example.org",  # whom it removes, one removal each
            started_at=now - timedelta(minutes=started_minutes_ago),
        )

    erasure(1), erasure(24 * 60)  # one at work now, one stopped a day ago
    removal(1, "Sam"), removal(24 * 60, "Kim"), removal(24 * 60, "Lou")
    items = {str(item.title): item for item in officer_attention(now=now)}
    assert items["Erasures that stopped before they finished"].count == 1
    assert items["Removals of children's data that stopped before they finished"].count == 2
    page = officer_client.get("/admin/desk/").content.decode()
    assert "?state__exact=removing" in page


@pytest.mark.django_db
def test_unsubscribes_per_campaign_and_gpc_share(client, user, django_capture_on_commit_callbacks):
    import re

    from django.core import mail

    from consent.mail import mail_campaign_send
    from consent.services import consent_grant
    from desk.consent_insights import consent_insights
    from dsar.registry import Subject

    consent_grant(subject=Subject(user_id=user.pk), purpose="newsletter", method="signup")
    with django_capture_on_commit_callbacks(execute=True):
        sent = mail_campaign_send(
            purpose="newsletter",
            template="consent/mail/announcement",
            campaign="autumn-news",
            context={"title": "Autumn", "body": "News"},
        )
    assert sent == 1
    link = mail.outbox[-1].extra_headers["List-Unsubscribe"].strip("<>")
    path = re.sub(r"^https?://[^/]+", "", link)
    client.post(path)
    client.post(path)  # a repeat changes nothing and is not counted again
    client.get("/", HTTP_SEC_GPC="1")
    client.get("/")
    now = datetime.now(UTC)
    insights = consent_insights(start=now - timedelta(days=1), end=now + timedelta(days=1))
    assert [(r["campaign"], r["n"]) for r in insights.unsubscribes_by_campaign] == [
        ("autumn-news", 1)
    ]
    assert (insights.pages, insights.gpc_pages) == (2, 1)
    assert insights.gpc_share == 0.5
