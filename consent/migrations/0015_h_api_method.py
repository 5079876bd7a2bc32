"""A ledger row written through the API (method "api") names its client and source.

Changing the check constraints rewrites the table on SQLite, which drops the append-only
trigger with the old table: it is made again here (as in 0010)."""

from django.conf import settings
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

    dependencies = [
        ('consent', '0014_lead_translations'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='consentevent',
            name='consent_event_method_valid',
        ),
        migrations.AlterField(
            model_name='consentevent',
            name='method',
            field=models.CharField(choices=[('signup', 'Sign-up form'), ('preference_centre', 'Preference centre'), ('unsubscribe_link', 'Unsubscribe link'), ('form_submission', 'Form submission'), ('admin_request', "Staff, on the person's written request"), ('cookie_banner', 'Cookie banner'), ('gpc', 'Global Privacy Control signal from the browser'), ('api', 'Another Workpex system, through the API')], max_length=32, verbose_name='how'),
        ),
        migrations.AddConstraint(
            model_name='consentevent',
            constraint=models.CheckConstraint(condition=models.Q(('method__in', ['signup', 'preference_centre', 'unsubscribe_link', 'form_submission', 'admin_request', 'cookie_banner', 'gpc', 'api'])), name='consent_event_method_valid'),
        ),
        migrations.AddConstraint(
            model_name='consentevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('method', 'api'), _negated=True), models.Q(('reason', ''), _negated=True), _connector='OR'), name='consent_event_api_has_source'),
        ),
        migrations.RunPython(sqlite_trigger, migrations.RunPython.noop),
    ]
