"""A channel on each ledger row: empty decides the purpose as a whole (every row so far), "email"
or "push" switches one channel of a purpose (see consent.selectors).

Adding the column rewrites the table on SQLite, which drops the append-only trigger with the old
table: it is made again here. PostgreSQL adds the column in place and keeps its trigger.
"""

from django.db import migrations, models

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS consent_event_no_update BEFORE UPDATE ON consent_consentevent
BEGIN
    SELECT RAISE(ABORT, 'consent_consentevent is append-only: rows are never updated');
END;
"""


def sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("consent", "0009_campaign_unsubscribes_and_privacy_signals")]

    operations = [
        migrations.AddField(
            model_name="consentevent",
            name="channel",
            field=models.CharField(
                blank=True,
                choices=[("email", "Email"), ("push", "Push notification")],
                db_default="",
                default="",
                help_text="Empty: the purpose as a whole, on every channel.",
                max_length=8,
                verbose_name="channel",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("channel__in", ["", "email", "push"])),
                name="consent_event_channel_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="consentevent",
            index=models.Index(
                condition=models.Q(("channel", ""), _negated=True),
                fields=["user", "purpose", "channel"],
                name="consent_event_channel_idx",
            ),
        ),
        migrations.RunPython(sqlite_trigger, migrations.RunPython.noop),
    ]
