"""The set-based bulk eraser (`erasure_erase_subjects`): the same result as erasing each person,
with statements that grow with chunks of subjects, never with the number of subjects."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from consent import services as consent_services
from consent.models import FormSubmission
from dsar import registry
from dsar.erasure import erasure_erase_subjects, personal_data_leftovers
from dsar.registry import Subject
from tests.accounts.factories import UserFactory

from .people import make_person
from .test_erasure import held_about

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, full_name="Staff Member")


def test_bulk_erasure_of_three_people_removes_them_all_and_touches_nobody_else(
    staff, django_capture_on_commit_callbacks
):
    people = [
        make_person(username=name, full_name=full, phone=phone, staff=staff)
        for name, full, phone in [
            ("ada", "Ada Lovelace", "+353861234567"),
            ("grace", "Grace Hopper", "+353871112222"),
            ("hedy", "Hedy Lamarr", "+353851113333"),
        ]
    ]
    alan = make_person(username="alan", full_name="Alan Turing", phone="+353831114444", staff=staff)
    # Someone known only by an address, given in another case than it was stored.
    consent_services.form_submission_create(
        kind="contact_request", email="only.mail@example.net", name="Mail Only"
    )
    alan_before = held_about(alan)
    needles = [n for person in people for n in person.needles]
    assert personal_data_leftovers(needles=needles) != []

    with django_capture_on_commit_callbacks(execute=True):
        counts = erasure_erase_subjects(
            subjects=[p.subject for p in people] + [Subject(email="ONLY.Mail@example.net")]
        )

    assert set(counts) == {e.label for e in registry.entries()}
    assert counts["accounts.User"] == 3
    assert counts["dsar.ProcessingBlock"] == 6  # by user id and by the upper-cased address
    for person in people:
        assert personal_data_leftovers(needles=person.needles) == []
        assert not person.user.photo.storage.exists(person.user.photo.name)
    assert not FormSubmission.objects.filter(email="only.mail@example.net").exists()
    assert held_about(alan) == alan_before
    assert User.objects.filter(pk__in=[alan.user.pk, staff.pk]).count() == 2
    # A re-run finds nothing left.
    again = erasure_erase_subjects(subjects=[p.subject for p in people])
    assert sum(again.values()) == 0


def _subjects(n: int, prefix: str) -> list[Subject]:
    subjects = []
    for i in range(n):
        user = UserFactory(username=f"{prefix}{i}", email=f"{prefix}{i}@example.org")
        consent_services.form_submission_create(
            kind="contact_request", email=f"{prefix}{i}@example.org", name="Some One"
        )
        subjects.append(Subject(user_id=user.pk, email=user.email))
    return subjects


def test_bulk_erasure_queries_do_not_grow_with_the_number_of_subjects(
    django_assert_max_num_queries,
):
    few, many = _subjects(5, "few"), _subjects(50, "many")
    with CaptureQueriesContext(connection) as five:
        erasure_erase_subjects(subjects=few)
    bound = len(five.captured_queries)
    with django_assert_max_num_queries(bound):
        counts = erasure_erase_subjects(subjects=many)
    assert counts["accounts.User"] == 50
    assert counts["consent.FormSubmission"] == 50
    assert not User.objects.filter(username__startswith="many").exists()


def test_chunks_make_the_statements_grow_with_chunks_not_subjects():
    subjects = _subjects(6, "chunk")
    with CaptureQueriesContext(connection) as by_three:
        counts = erasure_erase_subjects(subjects=subjects, chunk_size=3)
    assert counts["accounts.User"] == 6
    one_chunk = _subjects(3, "one")
    with CaptureQueriesContext(connection) as single:
        erasure_erase_subjects(subjects=one_chunk, chunk_size=3)
    assert len(by_three.captured_queries) <= 2 * len(single.captured_queries)


def test_erasure_schedules_of_many_subjects_are_one_condition_with_the_same_rows():
    """The erasure schedules' entry has its own many-subject query (the registry would otherwise
    OR one queryset per subject, whose Python cost grew with the square of the subjects: 10,000
    of them took minutes in the bench)."""
    from django.utils import timezone

    from dsar import services
    from dsar.models import ErasureSchedule, RequestKind

    ada, grace, alan = (UserFactory(email=f"{n}@example.org") for n in ("ada", "grace", "alan"))

    def schedule(state=ErasureSchedule.State.SCHEDULED, **whom):
        request, _ = services.dsar_request_file(kind=RequestKind.ACCESS, user=UserFactory())
        return ErasureSchedule.objects.create(
            request=request, due_at=timezone.now(), state=state, **whom
        ).pk

    by_id = schedule(erase_user_id=ada.pk)
    by_address = schedule(erase_email="Grace@Example.org")
    by_extra = schedule(erase_email="someone@example.net", erase_extra_email="ADA@example.org")
    schedule(erase_user_id=alan.pk, state=ErasureSchedule.State.RUNNING)  # the job's own row
    schedule(erase_email="nobody@example.org")
    subjects = [
        Subject(user_id=ada.pk, email=ada.email),
        Subject(email="GRACE@example.org"),
        Subject(user_id=alan.pk),
    ]
    entry = registry.entry_by_label("dsar.ErasureSchedule")
    assert entry.subjects_rows is not None
    each = {pk for s in subjects for pk in entry.rows_for(s).values_list("pk", flat=True)}
    assert set(entry.rows_for_many(subjects).values_list("pk", flat=True)) == each
    assert each == {by_id, by_address, by_extra}


def test_webhook_events_of_many_subjects_are_one_condition_with_the_same_rows():
    """Every entry found by a function has a many-subject form that finds the same rows (the
    registry refuses one without it): here the outbox, whose events a subscribed system has not
    acknowledged yet are kept out of an erasure."""
    from dsar.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

    ada, grace = (UserFactory(email=f"{n}@example.org") for n in ("ada", "grace"))
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.org/in", events=["*"])

    def event(**about):
        return WebhookEvent.objects.create(type="consent.changed", **about)

    by_account = event(account_id=ada.pk).pk
    by_address = event(subject_email="Grace@Example.org").pk
    waiting = event(account_id=ada.pk)
    WebhookDelivery.objects.create(event=waiting, endpoint=endpoint)
    event(account_id=UserFactory().pk)
    subjects = [Subject(user_id=ada.pk, email=ada.email), Subject(email="GRACE@example.org")]
    entry = registry.entry_by_label("dsar.WebhookEvent")
    each = {pk for s in subjects for pk in entry.rows_for(s).values_list("pk", flat=True)}
    assert set(entry.rows_for_many(subjects).values_list("pk", flat=True)) == each
    assert each == {by_account, by_address}
