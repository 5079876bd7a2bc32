import factory
import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.test.utils import CaptureQueriesContext, isolate_apps

from accounts.models import User, UserSession
from dsar import erasure, registry
from dsar.erasure import erasure_erase_subject, erasure_erase_subjects, personal_data_leftovers
from dsar.models import AuditEvent, ProcessingBlock
from dsar.registry import ErasureStrategy, PersonalData, RegistryError, Source, Subject
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def held_about(person):
    """Everything the other person's check compares before and after."""
    user = User.objects.get(pk=person.user.pk)
    return {
        "user": (user.full_name, user.email, str(user.phone), user.photo.name),
        "addresses": list(EmailAddress.objects.filter(user=user).values_list("email", flat=True)),
        "confirmations": EmailConfirmation.objects.filter(email_address__user=user).count(),
        "authenticators": Authenticator.objects.filter(user=user).count(),
        "sessions": UserSession.objects.filter(user_id=user.pk).count(),
        "log": list(
            LogEntry.objects.filter(object_id=str(user.pk)).values_list(
                "object_repr", "change_message"
            )
        ),
        "blocks": list(
            ProcessingBlock.objects.filter(pk__in=[person.block.pk, person.email_block.pk])
            .order_by("pk")
            .values_list("user_id", "email", "reason")
        ),
    }


def test_erasure_removes_everything_about_the_subject_and_nothing_else(
    ada, grace, django_capture_on_commit_callbacks
):
    assert personal_data_leftovers(needles=ada.needles) != []
    grace_before = held_about(grace)
    photo = ada.user.photo
    assert photo.storage.exists(photo.name)

    with django_capture_on_commit_callbacks(execute=True):
        counts = erasure_erase_subject(subject=ada.subject)

    assert {label: n for label, n in counts.items() if n} == {
        "dsar.ProcessingBlock": 2,
        "dsar.AuditEvent": 1,  # the reason given for the restriction is blanked
        "admin.LogEntry": 1,
        "account.EmailConfirmation": 1,
        "account.EmailAddress": 1,
        "accounts.UserSession": 1,
        "mfa.Authenticator": 1,
        "accounts.User": 1,
    }
    assert personal_data_leftovers(needles=ada.needles) == []
    assert not User.objects.filter(pk=ada.user.pk).exists()
    assert not photo.storage.exists(photo.name)
    # The staff member's record of the change stays, without the person in it.
    entry = LogEntry.objects.get(pk=ada.log_entry.pk)
    assert (entry.object_repr, entry.change_message) == ("[erased]", "")
    # Nobody else loses anything.
    assert held_about(grace) == grace_before
    assert grace.user.photo.storage.exists(grace.user.photo.name)
    assert User.objects.filter(pk=grace.user.pk).exists()


def test_a_second_run_finds_nothing(ada, django_capture_on_commit_callbacks):
    erasure_erase_subject(subject=ada.subject)
    with django_capture_on_commit_callbacks() as callbacks:
        again = erasure_erase_subject(subject=ada.subject)
    assert set(again.values()) == {0}
    assert set(again) == {e.label for e in registry.entries()}
    assert callbacks == []


def test_a_crash_part_way_loses_nothing_and_a_rerun_finishes(
    ada, grace, monkeypatch, django_capture_on_commit_callbacks
):
    second = registry.entry_by_label("admin.LogEntry")  # runs after ProcessingBlock
    real = erasure._erase_entry
    crashes = []

    def crash_once(*, entry, **kwargs):
        changed = real(entry=entry, **kwargs)
        if entry is second and not crashes:
            crashes.append(entry.label)
            raise RuntimeError("worker killed")  # after the work, before its commit
        return changed

    monkeypatch.setattr(erasure, "_erase_entry", crash_once)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        erasure_erase_subject(subject=ada.subject)

    assert crashes == ["admin.LogEntry"]
    # The first model's work is kept, the second's rolled back whole, the rest not started.
    assert not ProcessingBlock.objects.filter(pk__in=[ada.block.pk, ada.email_block.pk]).exists()
    assert LogEntry.objects.get(pk=ada.log_entry.pk).object_repr == "Ada Lovelace"
    assert User.objects.filter(pk=ada.user.pk).exists()
    assert ada.user.photo.storage.exists(ada.user.photo.name)

    with django_capture_on_commit_callbacks(execute=True):
        counts = erasure_erase_subject(subject=ada.subject)
    assert counts["dsar.ProcessingBlock"] == 0
    assert counts["admin.LogEntry"] == 1
    assert counts["accounts.User"] == 1
    assert personal_data_leftovers(needles=ada.needles) == []
    assert not ada.user.photo.storage.exists(ada.user.photo.name)
    assert User.objects.filter(pk=grace.user.pk).exists()


def test_deleting_takes_one_statement_not_one_per_row(
    ada, monkeypatch, django_assert_max_num_queries
):
    ProcessingBlock.objects.bulk_create(
        ProcessingBlock(kind="objection", user=ada.user, purpose=f"purpose-{i}")
        for i in range(2498)
    )
    entry = registry.entry_for(ProcessingBlock)
    monkeypatch.setattr(registry, "entries", lambda: [entry])
    # No files, no cascades: one DELETE, plus the savepoint around the model's work.
    with django_assert_max_num_queries(3):
        counts = erasure_erase_subject(subject=ada.subject, batch_size=1000)
    assert counts == {"dsar.ProcessingBlock": 2500}
    assert not ProcessingBlock.objects.filter(user=ada.user).exists()


def test_deleting_rows_with_files_takes_queries_per_batch_not_per_row(monkeypatch):
    """Accounts (a photo, and cascades Django follows) go in keyed batches."""
    monkeypatch.setattr(registry, "entries", lambda: [registry.entry_for(User)])

    def erase(prefix: str, people: int) -> int:
        users = UserFactory.create_batch(
            people, username=factory.Sequence(lambda n: f"{prefix}{n}"), photo="p/x.jpg"
        )
        with CaptureQueriesContext(connection) as statements:
            counts = erasure_erase_subjects(
                subjects=[Subject(user_id=u.pk) for u in users], batch_size=10
            )
        assert counts == {"accounts.User": people}
        return len(statements.captured_queries)

    one_batch = erase("one", 10)
    assert erase("three", 30) <= 3 * one_batch


def hand_made(model, **declaration):
    """An entry built without registering it (the registry already holds every real model)."""
    common = {
        "category": "Test",
        "source": Source.AUTOMATIC,
        "export_fields": (),
    }
    return PersonalData(model=model, **(common | declaration))


def registry_of_one(monkeypatch, model, **declaration) -> PersonalData:
    """The registry as one hand-made entry, for a test of one rule of the planner."""
    entry = hand_made(model, **declaration)
    monkeypatch.setattr(registry, "entries", lambda: [entry])
    return entry


# A replacement computed per row: never "already held".
PER_ROW_REASON = Concat(Value("erased #"), Cast("pk", CharField()))


def test_anonymising_with_an_expression_is_set_based_and_runs_once(
    ada, grace, monkeypatch, django_assert_max_num_queries
):
    registry_of_one(
        monkeypatch,
        ProcessingBlock,
        erasure=ErasureStrategy.ANONYMISE,
        anonymise={"reason": PER_ROW_REASON, "purpose": ""},
        user_field="user",
    )
    with django_assert_max_num_queries(4):
        assert erasure_erase_subject(subject=Subject(user_id=ada.user.pk)) == {
            "dsar.ProcessingBlock": 1
        }
    block = ProcessingBlock.objects.get(pk=ada.block.pk)
    assert (block.reason, block.purpose) == (f"erased #{block.pk}", "")
    assert ProcessingBlock.objects.get(pk=grace.block.pk).reason.startswith("Disputes")
    # Still the subject's rows, but already anonymised: a re-run changes nothing.
    assert erasure_erase_subject(subject=Subject(user_id=ada.user.pk)) == {
        "dsar.ProcessingBlock": 0
    }


def test_a_legal_hold_keeps_the_rows_detached_from_the_person(ada, grace, monkeypatch):
    registry_of_one(
        monkeypatch,
        UserSession,
        erasure=ErasureStrategy.LEGAL_HOLD,
        legal_hold_reason="Kept for the security investigation.",
        detach_fields=("user_id",),
        user_field="user_id",
    )
    assert erasure_erase_subject(subject=ada.subject) == {"accounts.UserSession": 1}
    kept = UserSession.objects.get(pk=ada.session.pk)
    assert kept.user_id is None
    assert UserSession.objects.get(pk=grace.session.pk).user_id == grace.user.pk
    assert erasure_erase_subject(subject=ada.subject) == {"accounts.UserSession": 0}


def test_callable_replacements_are_refused(ada, monkeypatch):
    registry_of_one(
        monkeypatch,
        ProcessingBlock,
        erasure=ErasureStrategy.ANONYMISE,
        anonymise={"reason": lambda row: f"erased {row.pk}"},
        user_field="user",
    )
    with pytest.raises(RegistryError, match="is a callable; use a constant or a Django expression"):
        erasure_erase_subject(subject=ada.subject)
    assert ProcessingBlock.objects.get(pk=ada.block.pk).reason.startswith("Disputes")


@isolate_apps("dsar")
def test_the_registry_refuses_declarations_the_engines_cannot_honour():
    from django.db import models

    class Payment(models.Model):
        user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
        holder = models.CharField(max_length=100)
        amount = models.IntegerField()
        tags = models.ManyToManyField("auth.Group", related_name="+")

        class Meta:
            app_label = "dsar"

    base = {
        "category": "Payments",
        "source": Source.PROVIDED,
        "user_field": "user",
    }
    with pytest.raises(RegistryError, match="is a callable"):
        registry.personal_data(
            Payment,
            export_fields=(),
            erasure=ErasureStrategy.ANONYMISE,
            anonymise={"holder": lambda row: ""},
            **base,
        )
    with pytest.raises(RegistryError, match="amount cannot be detached"):
        registry.personal_data(
            Payment,
            export_fields=(),
            erasure=ErasureStrategy.LEGAL_HOLD,
            legal_hold_reason="Tax law",
            detach_fields=("holder", "amount"),
            **base,
        )
    with pytest.raises(RegistryError, match="export field 'tags' is not a column"):
        registry.personal_data(
            Payment, export_fields=("tags",), erasure=ErasureStrategy.DELETE, **base
        )
    entry = hand_made(
        Payment,
        erasure=ErasureStrategy.LEGAL_HOLD,
        legal_hold_reason="Tax law",
        detach_fields=("holder", "user"),
        user_field="user",
    )
    with pytest.raises(RegistryError, match="user cannot be detached"):
        entry.detach_values()
    assert "dsar.Payment" not in {e.label for e in registry.entries()}


def test_leftovers_search_every_text_column_of_every_model(ada, staff):
    leftovers = personal_data_leftovers(
        needles=["ADA@example.org", "lovelace", "+353861234567", ""]
    )
    found = {(label, field): n for label, field, n in leftovers}
    assert found[("accounts.User", "email")] == 1
    assert found[("accounts.User", "full_name")] == 1
    assert found[("accounts.User", "phone")] == 1
    assert found[("account.EmailAddress", "email")] == 1
    assert found[("dsar.ProcessingBlock", "email")] == 1
    assert found[("admin.LogEntry", "change_message")] == 1
    assert ("accounts.User", "username") not in found
    AuditEvent.objects.create(action="probe", actor_kind="system", detail={"note": "Lovelace"})
    found = {(label, field) for label, field, _n in personal_data_leftovers(needles=["lovelace"])}
    assert ("dsar.AuditEvent", "detail") in found  # JSON is searched as text
    assert personal_data_leftovers(needles=["", "  "]) == []
    assert personal_data_leftovers(needles=["100%_match"]) == []  # wildcards are literal


def test_leftovers_take_one_query_per_model(django_assert_max_num_queries):
    from django.apps import apps

    with django_assert_max_num_queries(len(apps.get_models())):
        personal_data_leftovers(needles=["someone@example.org", "Some One"])


def test_a_reason_naming_the_person_does_not_survive_erasure(ada):
    from dsar.services import processing_block_add

    processing_block_add(
        kind=ProcessingBlock.Kind.RESTRICTION,
        subject=ada.subject,
        reason="Ada Lovelace disputes the accuracy of her data.",
    )
    erasure_erase_subject(subject=ada.subject)
    assert personal_data_leftovers(needles=ada.needles) == []
