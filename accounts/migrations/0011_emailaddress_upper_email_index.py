from django.db import migrations


class Migration(migrations.Migration):
    """Erasure and exports find a subject's addresses by `email__iexact` (UPPER on both sides):
    an expression index on allauth's table, which this app cannot declare on the model."""

    dependencies = [
        ("accounts", "0010_merge_20261125_0027"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX accounts_emailaddress_upper_idx ON account_emailaddress (UPPER(email))",
            reverse_sql="DROP INDEX accounts_emailaddress_upper_idx",
        ),
    ]
