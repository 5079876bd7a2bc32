"""The audit log is append-only in the database itself, not only in Python (design.md: "the
audit log, which the database itself keeps append-only").

One controlled exception: erasure blanks the free-text reason (where staff may have named the
person) to "[erased]", changing nothing else of the row. PostgreSQL refuses every other UPDATE and
every DELETE (TRUNCATE, which only an administrator's maintenance or a test's reset runs, is not a
row change). SQLite refuses every other UPDATE; its DELETE is left to the Python guard
(AppendOnlyQuerySet), since Django's test reset and `manage.py flush` empty SQLite tables with
DELETE and the embedded default must stay resettable."""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION dsar_audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.reason = '[erased]'
            AND to_jsonb(NEW) - 'reason' = to_jsonb(OLD) - 'reason' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'dsar_auditevent is append-only: rows are never changed or deleted';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER dsar_audit_event_append_only BEFORE UPDATE OR DELETE ON dsar_auditevent
    FOR EACH ROW EXECUTE FUNCTION dsar_audit_event_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS dsar_audit_event_append_only ON dsar_auditevent;
DROP FUNCTION IF EXISTS dsar_audit_event_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER dsar_audit_event_append_only BEFORE UPDATE ON dsar_auditevent
WHEN NEW.reason IS NOT '[erased]'
    OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.actor_id IS NOT OLD.actor_id
    OR NEW.actor_kind IS NOT OLD.actor_kind OR NEW.action IS NOT OLD.action
    OR NEW.subject_ref IS NOT OLD.subject_ref OR NEW.object_type IS NOT OLD.object_type
    OR NEW.object_id IS NOT OLD.object_id OR NEW.detail IS NOT OLD.detail
BEGIN
    SELECT RAISE(ABORT, 'dsar_auditevent is append-only: rows are never changed');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS dsar_audit_event_append_only;"


def _run(sql_by_vendor):
    def run(apps, schema_editor):
        sql = sql_by_vendor.get(schema_editor.connection.vendor)
        if sql:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("dsar", "0012_h_purposes_request_purposes")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
