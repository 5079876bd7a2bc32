"""A published policy version never changes, in the database itself: the 30-day rule's check
constraint cannot be sidestepped from a shell by editing a published row (say, making it minor)."""

from pathlib import Path

from django.db import migrations

POLICY_FILE = Path(__file__).resolve().parent.parent / "policy" / "privacy-policy-1.0.md"

COLUMNS = [
    "version",
    "text",
    "summary_of_changes",
    "is_material",
    "published_at",
    "notices_started_at",
    "effective_at",
]
_changed_pg = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in COLUMNS)
_changed_sqlite = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in COLUMNS)

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION consent_policy_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.published_at IS NOT NULL AND ({_changed_pg}) THEN
        RAISE EXCEPTION 'consent_policyversion: a published version is never changed';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consent_policy_published_immutable BEFORE UPDATE ON consent_policyversion
    FOR EACH ROW EXECUTE FUNCTION consent_policy_refuse_change();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS consent_policy_published_immutable ON consent_policyversion;
DROP FUNCTION IF EXISTS consent_policy_refuse_change();
"""
SQLITE_UP = f"""
CREATE TRIGGER consent_policy_published_immutable BEFORE UPDATE ON consent_policyversion
WHEN OLD.published_at IS NOT NULL AND ({_changed_sqlite})
BEGIN
    SELECT RAISE(ABORT, 'consent_policyversion: a published version is never changed');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS consent_policy_published_immutable;"


def _run(sql_by_vendor):
    def run(apps, schema_editor):
        sql = sql_by_vendor.get(schema_editor.connection.vendor)
        if sql:
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


def markdown_1_0(apps, schema_editor):
    """Version 1.0 was seeded as the policy's plain text, before /policy/ rendered Markdown: give
    it the same words as Markdown (headings, lists), once, before published rows freeze."""
    PolicyVersion = apps.get_model("consent", "PolicyVersion")
    policy = PolicyVersion.objects.filter(version="1.0").first()
    if policy is not None and not policy.text.startswith("# "):
        policy.text = POLICY_FILE.read_text(encoding="utf-8")
        policy.save(update_fields=["text"])


class Migration(migrations.Migration):
    dependencies = [("consent", "0006_policy_notices")]

    operations = [
        migrations.RunPython(markdown_1_0, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
