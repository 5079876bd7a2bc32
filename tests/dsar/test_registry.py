import pytest
from django.db import models
from django.test.utils import isolate_apps

from dsar import registry
from dsar.checks import check_personal_data_registry
from dsar.models import AuditEvent


def test_every_installed_model_is_registered_or_marked():
    assert registry.unaccounted_models() == []
    assert check_personal_data_registry() == []


@isolate_apps("dsar")
def test_a_new_model_that_is_not_declared_fails_the_check(monkeypatch):
    class Newsletter(models.Model):
        email = models.EmailField()

        class Meta:
            app_label = "dsar"

    installed = registry.apps.get_models()
    monkeypatch.setattr(
        registry.apps, "get_models", lambda include_auto_created=False: [*installed, Newsletter]
    )
    errors = check_personal_data_registry()
    assert [e.id for e in errors] == ["dsar.E001"]
    assert "dsar.Newsletter" in errors[0].msg


@isolate_apps("dsar")
def test_declarations_are_checked():
    class Thing(models.Model):
        email = models.EmailField()

        class Meta:
            app_label = "dsar"

    common = {
        "category": "x",
        "source": registry.Source.PROVIDED,
        "email_field": "email",
    }
    with pytest.raises(registry.RegistryError, match="no field 'nope'"):
        registry.personal_data(
            Thing, export_fields=("nope",), erasure=registry.ErasureStrategy.DELETE, **common
        )
    with pytest.raises(registry.RegistryError, match="legal hold needs its reason"):
        registry.personal_data(
            Thing, export_fields=("email",), erasure=registry.ErasureStrategy.LEGAL_HOLD, **common
        )
    with pytest.raises(registry.RegistryError, match="subject_rows and subjects_rows go together"):
        registry.personal_data(
            Thing,
            export_fields=("email",),
            erasure=registry.ErasureStrategy.DELETE,
            subject_rows=lambda subject: Thing.objects.none(),
            **common,
        )
    with pytest.raises(registry.RegistryError, match="already"):
        registry.no_personal_data(AuditEvent, reason="again")


def test_subject_reference_never_holds_the_email():
    ref = registry.Subject(email="Someone@Example.com").ref
    assert "someone" not in ref.lower() and ref.startswith("email:")
    assert ref == registry.Subject(email="someone@example.com").ref
    assert registry.Subject(user_id=7).ref == "user:7"
    with pytest.raises(ValueError):
        registry.Subject()


@pytest.mark.django_db
def test_audit_log_is_append_only():
    from dsar.services import audit_record

    event = audit_record(action="test", subject=registry.Subject(user_id=1))
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE dsar_auditevent SET action = 'changed' WHERE id = %s",
        "UPDATE dsar_auditevent SET reason = 'rewritten' WHERE id = %s",
        # The blanking of erasure, but smuggling another change in with it.
        "UPDATE dsar_auditevent SET reason = '[erased]', subject_ref = 'user:2' WHERE id = %s",
    ],
)
def test_the_database_itself_refuses_to_rewrite_the_audit_log(statement):
    from django.db import DatabaseError, connection, transaction

    from dsar.services import audit_record

    event = audit_record(action="test", subject=registry.Subject(user_id=1), reason="Pat asked")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    row = AuditEvent.objects.get(pk=event.pk)
    assert (row.action, row.reason, row.subject_ref) == ("test", "Pat asked", "user:1")


@pytest.mark.django_db
def test_the_database_lets_erasure_blank_the_reason_and_nothing_else():
    from django.db import DatabaseError, connection, transaction

    from dsar.services import audit_record

    event = audit_record(action="test", subject=registry.Subject(user_id=1), reason="Pat asked")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE dsar_auditevent SET reason = '[erased]' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == "[erased]"
    if connection.vendor == "postgresql":  # SQLite leaves DELETE to the Python guard
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM dsar_auditevent WHERE id = %s", [event.pk])
        assert AuditEvent.objects.filter(pk=event.pk).exists()
