"""The processing activities' words get a column per language (dsar/translation.py). Today's
texts become the English ones; the German comes from the message catalogue, where the seeded
texts were translated (a text an officer changed has none there and waits for theirs). The two
checks move onto the English columns, which every activity has."""

from django.db import migrations, models
from django.utils import translation

WORDS = ("name", "description", "legitimate_interest", "transfers", "retention")
LINES = ("recipients", "measures")


def _german(text):
    with translation.override("de"):
        german = translation.gettext(text)
    return german if german != text else ""


def texts_split(apps, schema_editor):
    for model in ("ProcessingActivity", "HistoricalProcessingActivity"):
        for row in apps.get_model("dsar", model).objects.all():
            for field in (*WORDS, *LINES):
                text = getattr(row, field)
                setattr(row, f"{field}_en", text)
                if field in LINES:
                    lines = [_german(line.strip()) for line in text.splitlines() if line.strip()]
                    german = "\n".join(lines) if all(lines) else ""
                else:
                    german = _german(text) if text else ""
                setattr(row, f"{field}_de", german)
            row.save()


class Migration(migrations.Migration):
    dependencies = [
        ("dsar", "0021_h_hooks_webhook_schedule"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="processingactivity",
            name="dsar_activity_f_names_its_interest",
        ),
        migrations.RemoveConstraint(
            model_name="processingactivity",
            name="dsar_activity_transfer_has_safeguard",
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="description_de",
            field=models.TextField(
                help_text="Plain language, for people.", null=True, verbose_name="description"
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="description_en",
            field=models.TextField(
                help_text="Plain language, for people.", null=True, verbose_name="description"
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="legitimate_interest_de",
            field=models.TextField(
                blank=True,
                help_text="For basis (f): the interest, in words, and why it is not overridden.",
                null=True,
                verbose_name="legitimate interest",
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="legitimate_interest_en",
            field=models.TextField(
                blank=True,
                help_text="For basis (f): the interest, in words, and why it is not overridden.",
                null=True,
                verbose_name="legitimate interest",
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="measures_de",
            field=models.TextField(
                blank=True,
                help_text="One per line.",
                null=True,
                verbose_name="technical and organisational measures",
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="measures_en",
            field=models.TextField(
                blank=True,
                help_text="One per line.",
                null=True,
                verbose_name="technical and organisational measures",
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="name_de",
            field=models.CharField(max_length=120, null=True, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="name_en",
            field=models.CharField(max_length=120, null=True, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="recipients_de",
            field=models.TextField(
                blank=True, help_text="One per line.", null=True, verbose_name="recipients"
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="recipients_en",
            field=models.TextField(
                blank=True, help_text="One per line.", null=True, verbose_name="recipients"
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="retention_de",
            field=models.TextField(
                help_text="How long, in words, for people.", null=True, verbose_name="retention"
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="retention_en",
            field=models.TextField(
                help_text="How long, in words, for people.", null=True, verbose_name="retention"
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="transfers_de",
            field=models.TextField(
                blank=True,
                help_text="Who receives the data, and in which country. Empty: no transfer.",
                null=True,
                verbose_name="transfers outside the EEA",
            ),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="transfers_en",
            field=models.TextField(
                blank=True,
                help_text="Who receives the data, and in which country. Empty: no transfer.",
                null=True,
                verbose_name="transfers outside the EEA",
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="description_de",
            field=models.TextField(
                help_text="Plain language, for people.", null=True, verbose_name="description"
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="description_en",
            field=models.TextField(
                help_text="Plain language, for people.", null=True, verbose_name="description"
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="legitimate_interest_de",
            field=models.TextField(
                blank=True,
                help_text="For basis (f): the interest, in words, and why it is not overridden.",
                null=True,
                verbose_name="legitimate interest",
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="legitimate_interest_en",
            field=models.TextField(
                blank=True,
                help_text="For basis (f): the interest, in words, and why it is not overridden.",
                null=True,
                verbose_name="legitimate interest",
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="measures_de",
            field=models.TextField(
                blank=True,
                help_text="One per line.",
                null=True,
                verbose_name="technical and organisational measures",
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="measures_en",
            field=models.TextField(
                blank=True,
                help_text="One per line.",
                null=True,
                verbose_name="technical and organisational measures",
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="name_de",
            field=models.CharField(max_length=120, null=True, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="name_en",
            field=models.CharField(max_length=120, null=True, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="recipients_de",
            field=models.TextField(
                blank=True, help_text="One per line.", null=True, verbose_name="recipients"
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="recipients_en",
            field=models.TextField(
                blank=True, help_text="One per line.", null=True, verbose_name="recipients"
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="retention_de",
            field=models.TextField(
                help_text="How long, in words, for people.", null=True, verbose_name="retention"
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="retention_en",
            field=models.TextField(
                help_text="How long, in words, for people.", null=True, verbose_name="retention"
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="transfers_de",
            field=models.TextField(
                blank=True,
                help_text="Who receives the data, and in which country. Empty: no transfer.",
                null=True,
                verbose_name="transfers outside the EEA",
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="transfers_en",
            field=models.TextField(
                blank=True,
                help_text="Who receives the data, and in which country. Empty: no transfer.",
                null=True,
                verbose_name="transfers outside the EEA",
            ),
        ),
        migrations.RunPython(texts_split, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="processingactivity",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("lawful_basis", "f"), _negated=True),
                    models.Q(
                        ("legitimate_interest_en__isnull", False),
                        models.Q(("legitimate_interest_en", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="dsar_activity_f_names_its_interest",
            ),
        ),
        migrations.AddConstraint(
            model_name="processingactivity",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        models.Q(
                            ("transfers_en__isnull", True), ("transfers_en", ""), _connector="OR"
                        ),
                        ("transfer_safeguard", ""),
                    ),
                    models.Q(
                        ("transfers_en__isnull", False),
                        models.Q(("transfers_en", ""), _negated=True),
                        models.Q(("transfer_safeguard", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="dsar_activity_transfer_has_safeguard",
            ),
        ),
    ]
