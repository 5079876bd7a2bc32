"""The erasure planner's rules one by one, with entries built for the test where the registry
has none of the kind (an anonymised file field): what is erased, what is counted, which
categories, and the arguments it refuses. The whole-registry effect is in test_erasure.py."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from consent.models import FormSubmission
from dsar import registry
from dsar.erasure import erasure_erase_subject, erasure_erase_subjects
from dsar.models import ProcessingBlock
from dsar.registry import ErasureStrategy, Subject, entries_holding
from tests.consent.factories import FormSubmissionFactory

from .test_erasure import PER_ROW_REASON, registry_of_one

pytestmark = pytest.mark.django_db


def submission(**fields) -> FormSubmission:
    return FormSubmissionFactory(**fields)


def test_a_row_already_holding_one_replacement_still_has_the_others_replaced(ada, staff):
    """An admin log entry whose change message is already empty still names the person."""
    entry = LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(ada.user.pk),
        object_repr="Ada Lovelace",
        action_flag=CHANGE,
        change_message="",
    )
    erasure_erase_subject(subject=ada.subject)
    entry.refresh_from_db()
    assert (entry.object_repr, entry.change_message) == ("[erased]", "")


def test_an_anonymised_file_field_loses_its_file_in_every_batch(
    ada, grace, monkeypatch, django_capture_on_commit_callbacks
):
    photos = [ada.user.photo, grace.user.photo]
    registry_of_one(
        monkeypatch,
        User,
        erasure=ErasureStrategy.ANONYMISE,
        anonymise={"photo": "", "full_name": "[erased]"},
        user_field="pk",
    )
    with django_capture_on_commit_callbacks(execute=True):
        counts = erasure_erase_subjects(subjects=[ada.subject, grace.subject], batch_size=1)
    assert counts == {"accounts.User": 2}
    for photo in photos:
        assert not photo.storage.exists(photo.name)
    assert set(
        User.objects.filter(pk__in=[ada.user.pk, grace.user.pk]).values_list("photo", "full_name")
    ) == {("", "[erased]")}


def test_counts_add_up_over_batches_and_chunks(ada, grace, monkeypatch):
    for person in (ada, grace):
        for n in range(3):
            submission(
                email=person.user.email,
                name="x",
                message=f"message {n}",
                user=person.user,
            )
    held = FormSubmission.objects.filter(user__in=[ada.user, grace.user]).count()
    registry_of_one(
        monkeypatch,
        FormSubmission,
        erasure=ErasureStrategy.ANONYMISE,
        anonymise={"message": "[erased]", "name": ""},
        user_field="user",
    )
    counts = erasure_erase_subjects(
        subjects=[ada.subject, grace.subject], batch_size=1, chunk_size=1
    )
    assert counts == {"consent.FormSubmission": held}
    assert (
        not FormSubmission.objects.filter(user__in=[ada.user, grace.user])
        .exclude(message="[erased]")
        .exists()
    )


def test_a_legal_hold_that_keeps_its_rows_counts_none_changed(ada, monkeypatch):
    registry_of_one(
        monkeypatch,
        ProcessingBlock,
        erasure=ErasureStrategy.ANONYMISE,
        anonymise={},
        user_field="user",
    )
    assert erasure_erase_subject(subject=ada.subject) == {"dsar.ProcessingBlock": 0}


def test_erasing_some_categories_leaves_the_others(ada):
    counts = erasure_erase_subject(subject=ada.subject, categories=["Restrictions and objections"])
    assert set(counts) == {"dsar.ProcessingBlock"} and counts["dsar.ProcessingBlock"] >= 1
    assert not ProcessingBlock.objects.filter(user=ada.user).exists()
    assert User.objects.filter(pk=ada.user.pk).exists()
    everything = erasure_erase_subjects(subjects=[ada.subject], categories=None)
    assert "accounts.User" in everything
    assert not User.objects.filter(pk=ada.user.pk).exists()


def test_one_row_per_batch_and_one_subject_per_chunk_are_allowed_less_is_refused(ada):
    erasure_erase_subjects(subjects=[ada.subject], batch_size=1, chunk_size=1)
    assert not User.objects.filter(pk=ada.user.pk).exists()
    with pytest.raises(ValueError, match="^batch_size must be at least 1$"):
        erasure_erase_subjects(subjects=[ada.subject], batch_size=0)
    with pytest.raises(ValueError, match="^chunk_size must be at least 1$"):
        erasure_erase_subjects(subjects=[ada.subject], chunk_size=0)


def test_only_the_entries_holding_the_subject_are_named(ada):
    by_label = {e.label: e for e in registry.entries()}
    users, forms = by_label["accounts.User"], by_label["consent.FormSubmission"]
    assert not FormSubmission.objects.filter(user=ada.user).exists()
    assert entries_holding([users, forms], [ada.subject]) == [users]
    # An address only: entries found by account alone match nothing and are passed over,
    # the entries after them are still probed.
    submission(email="someone@example.org", name="x", message="m")
    someone = Subject(user_id=None, email="someone@example.org")
    assert entries_holding([users, forms], [someone]) == [forms]


def _statements(queries) -> list[str]:
    """The statements' first words, savepoints left out (the test's transaction makes them)."""
    verbs = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    return [verb for verb in verbs if verb not in ("SAVEPOINT", "RELEASE")]


@pytest.mark.parametrize("batch_size", [1, 100])
def test_constant_replacements_are_one_update_whatever_the_batch_size(ada, monkeypatch, batch_size):
    registry_of_one(
        monkeypatch,
        ProcessingBlock,
        erasure=ErasureStrategy.ANONYMISE,
        anonymise={"reason": "[erased]", "purpose": ""},
        user_field="user",
    )
    with CaptureQueriesContext(connection) as queries:
        erasure_erase_subject(subject=ada.subject, batch_size=batch_size)
    assert _statements(queries) == ["UPDATE"]


def test_an_expression_goes_batch_by_batch_of_the_size_asked(ada, monkeypatch):
    """A replacement computed per row is never "already held", so its rows are taken by key,
    `batch_size` at a time: the keys read once, then one UPDATE per row here (two rows)."""
    registry_of_one(
        monkeypatch,
        ProcessingBlock,
        erasure=ErasureStrategy.ANONYMISE,
        anonymise={"reason": PER_ROW_REASON, "purpose": ""},
        user_field="user",
    )
    ProcessingBlock.objects.create(kind="objection", user=ada.user, reason="A second one")
    assert ProcessingBlock.objects.filter(user=ada.user).count() == 2
    with CaptureQueriesContext(connection) as queries:
        erasure_erase_subject(subject=ada.subject, batch_size=1)
    assert _statements(queries) == ["SELECT", "UPDATE", "UPDATE"]
    assert not ProcessingBlock.objects.filter(user=ada.user, reason="A second one").exists()


def test_anonymising_other_fields_leaves_the_file_of_a_file_field(
    ada, monkeypatch, django_capture_on_commit_callbacks
):
    photo = ada.user.photo
    registry_of_one(
        monkeypatch,
        User,
        erasure=ErasureStrategy.ANONYMISE,
        anonymise={"full_name": "[erased]"},
        user_field="pk",
    )
    with django_capture_on_commit_callbacks(execute=True):
        erasure_erase_subject(subject=ada.subject)
    user = User.objects.get(pk=ada.user.pk)
    assert (user.full_name, user.photo.name) == ("[erased]", photo.name)
    assert photo.storage.exists(photo.name)
