"""The ledger refuses updates in the database itself, not only in Python."""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION consent_event_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent_consentevent is append-only: rows are never updated';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_consentevent
    FOR EACH ROW EXECUTE FUNCTION consent_event_refuse_update();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS consent_event_no_update ON consent_consentevent;
DROP FUNCTION IF EXISTS consent_event_refuse_update();
"""
SQLITE_UP = """
CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_consentevent
BEGIN
    SELECT RAISE(ABORT, 'consent_consentevent is append-only: rows are never updated');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS consent_event_no_update;"


def _run(sql_by_vendor):
    def run(apps, schema_editor):
        sql = sql_by_vendor.get(schema_editor.connection.vendor)
        if sql:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_ledger")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
