"""Rate limits on filing never block a right: one request of each kind is always possible, a
joined duplicate is not counted, and a refusal says when to try again."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import formats, timezone

from dsar import services
from dsar.filing_limits import filing_refused_until
from dsar.models import DataSubjectRequest, RequestKind
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW = "/privacy/requests/new/"
EVERY_KIND = [
    ("access", {}),
    (
        "rectification",
        {"rectification_target": "accounts.User.username", "rectification_value": "me_2"},
    ),
    ("objection", {"purposes": ["all"]}),
    ("restriction", {"purposes": ["all"]}),
    ("erasure", {}),
    ("portability", {}),
    ("complaint", {"country": "DE"}),
    ("service_data_export", {}),
    ("service_data_deletion", {}),
]


@pytest.fixture
def limits(settings):
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "dsar_request": "2/h/key",
        "dsar_request_ip": "4/h/ip",
    }


def refusal(response) -> str:
    page = response.content.decode()
    assert response.status_code == 429, page[:300]
    return page


def test_a_signed_in_person_files_every_kind_in_one_sitting(user_client, limits):
    for kind, extra in EVERY_KIND:
        response = user_client.post(NEW, {"kind": kind, **extra})
        assert response.status_code == 302, (kind, response.content.decode()[:500])
    assert DataSubjectRequest.objects.count() == len(EVERY_KIND)


def test_a_person_by_email_files_several_kinds_in_one_sitting(client, limits):
    for kind in ("access", "objection", "erasure"):
        response = client.post(NEW, {"email": "me@example.com", "kind": kind, "purposes": ["all"]})
        assert response.status_code == 200 and "Check your email" in response.content.decode()
    assert DataSubjectRequest.objects.count() == 3


def test_joined_duplicates_are_not_counted(user_client, limits):
    for _ in range(6):
        assert user_client.post(NEW, {"kind": "access"}).status_code == 302
    assert DataSubjectRequest.objects.count() == 1
    # The limit for access (2 an hour) has room for a second new one.
    services.dsar_request_withdraw(request=DataSubjectRequest.objects.get(), user=None)
    assert user_client.post(NEW, {"kind": "access"}).status_code == 302
    assert DataSubjectRequest.objects.count() == 2


def test_many_new_requests_of_one_kind_are_refused_with_the_time_to_try_again(
    user_client, user, limits
):
    user.time_zone = "Asia/Kolkata"  # a half-hour offset: clearly not UTC
    user.save(update_fields=["time_zone"])
    for _ in range(2):
        assert user_client.post(NEW, {"kind": "access"}).status_code == 302
        services.dsar_request_withdraw(
            request=DataSubjectRequest.objects.filter(state="verified").get(), user=None
        )
    before = DataSubjectRequest.objects.count(), len(mail.outbox)
    page = refusal(user_client.post(NEW, {"kind": "access"}))
    assert (DataSubjectRequest.objects.count(), len(mail.outbox)) == before
    assert "(Asia/Kolkata), in 60 minutes" in page
    expected = [
        formats.time_format(
            timezone.localtime(timezone.now() + timedelta(minutes=m), ZoneInfo("Asia/Kolkata")),
            "TIME_FORMAT",
        )
        for m in (59, 60, 61)
    ]
    assert any(f"try again at {time} (Asia/Kolkata)" in page for time in expected), page
    # Another kind is still a first filing: never refused.
    assert user_client.post(NEW, {"kind": "objection", "purposes": ["all"]}).status_code == 302


def test_many_addresses_from_one_ip_are_refused(client, limits):
    for n in range(4):
        client.post(NEW, {"email": f"a{n}@example.com", "kind": "access"})
    rows = DataSubjectRequest.objects.count()
    page = refusal(client.post(NEW, {"email": "fresh@example.com", "kind": "access"}))
    assert "try again at" in page and "(UTC), in 60 minutes" in page
    assert DataSubjectRequest.objects.count() == rows == 4
    # Someone signed in is not counted against the address's email-only filings.
    user_client = client
    user_client.force_login(UserFactory())
    assert user_client.post(NEW, {"kind": "access"}).status_code == 302


def test_an_email_only_filing_is_refused_alike_whether_or_not_it_would_join(client, limits):
    """A stranger over the IP limit learns nothing about whether an address has a request open:
    a filing that would join is refused like a new one (and neither is counted)."""
    client.post(NEW, {"email": "victim@example.com", "kind": "erasure"})
    for n in range(3):
        client.post(NEW, {"email": f"a{n}@example.com", "kind": "access"})
    joining = client.post(NEW, {"email": "victim@example.com", "kind": "erasure"})
    fresh = client.post(NEW, {"email": "fresh@example.com", "kind": "erasure"})
    assert joining.status_code == fresh.status_code == 429


def test_the_rule_itself_for_a_joined_filing_by_an_account_holder(rf, user, limits):
    services.dsar_request_file(kind=RequestKind.ACCESS, user=user)
    http_request = rf.post(NEW)
    for _ in range(10):
        assert filing_refused_until(http_request, kind="access", user=user, email="") is None


def test_the_refusal_is_in_the_person_s_language(user_client, user, limits):
    user.language = "de"
    user.time_zone = "Europe/Berlin"
    user.save(update_fields=["language", "time_zone"])
    for _ in range(2):
        assert user_client.post(NEW, {"kind": "access"}).status_code == 302
        DataSubjectRequest.objects.filter(state="verified").update(state="completed")
    page = refusal(user_client.post(NEW, {"kind": "access"}))
    assert "Bitte versuchen Sie es um" in page and "(Europe/Berlin) erneut, in 60 Minuten" in page
