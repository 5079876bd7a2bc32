"""Which API client subscribed which webhook endpoint (clients see only their own); officers see
the owner, read-only, on the endpoint's admin page."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from dsar.migration_helpers import group_permissions_grant


def grant(apps, schema_editor):
    group_permissions_grant(apps, "api", "Privacy officer", ["view_clientwebhookendpoint"])


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_h_confirm_client_system"),
        ("dsar", "0020_h_hooks_webhooks"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClientWebhookEndpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created at"
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="webhook_endpoints",
                        to="api.apiclient",
                        verbose_name="API client",
                    ),
                ),
                (
                    "endpoint",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_client_link",
                        to="dsar.webhookendpoint",
                        verbose_name="webhook endpoint",
                    ),
                ),
            ],
            options={
                "verbose_name": "endpoint made by an API client",
                "verbose_name_plural": "endpoints made by API clients",
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
