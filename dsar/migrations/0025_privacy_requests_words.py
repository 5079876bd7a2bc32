"""The registry entries no longer carry their own words: the access report says why, how long and
who receives it from the activities (dsar/exports.py). What the privacy-request entries said
beyond their activity's words (how long a copy, a named recipient or a forwarding address is
kept, and who else receives the request) moves into the activity, in English and German. Only a
text still as seeded is changed; one an officer edited is theirs, and stays."""

from django.db import migrations

CODE = "privacy_requests"

OLD = {
    "retention_en": (
        "Three years after the request is closed; copies of your data 7 days after they are ready."
    ),
    "retention_de": (
        "Drei Jahre nach Abschluss der Anfrage; Kopien Ihrer Daten 7 Tage, nachdem sie bereitstehen."
    ),
    "recipients_en": "Workpex privacy officers\nThe recipients you name for your data",
    "recipients_de": "Workpex-Datenschutzbeauftragte\nDie Empfänger, die Sie für Ihre Daten nennen",
}

NEW = {
    "retention_en": (
        "Three years after the request is closed. Copies of your data: 7 days after they are "
        "ready. The recipient you named for your portable data: one year. Addresses kept only to "
        "pass your request on (to our other systems or to those who received your data) are "
        "cleared once it is passed on; whom to erase is kept only while the erasure runs."
    ),
    "retention_de": (
        "Drei Jahre nach Abschluss der Anfrage. Kopien Ihrer Daten: 7 Tage, nachdem sie "
        "bereitstehen. Der Empfänger, den Sie für Ihre übertragbaren Daten genannt haben: ein "
        "Jahr. Adressen, die wir nur aufbewahren, um Ihre Anfrage weiterzugeben (an unsere "
        "anderen Systeme oder an die Empfänger Ihrer Daten), werden gelöscht, sobald sie "
        "weitergegeben ist; wen wir löschen, bewahren wir nur auf, solange die Löschung läuft."
    ),
    "recipients_en": (
        "Workpex privacy officers\n"
        "The recipients you name for your data\n"
        "Our other systems that hold your data, so that they act on your request too\n"
        "Those who received your data, told of a correction, erasure or restriction "
        "(GDPR Art. 19)"
    ),
    "recipients_de": (
        "Workpex-Datenschutzbeauftragte\n"
        "Die Empfänger, die Sie für Ihre Daten nennen\n"
        "Unsere anderen Systeme, die Ihre Daten halten, damit auch sie Ihre Anfrage umsetzen\n"
        "Diejenigen, die Ihre Daten erhalten haben, informiert über eine Berichtigung, Löschung "
        "oder Einschränkung (Art. 19 DSGVO)"
    ),
}


def _move(apps, schema_editor, *, before: dict, after: dict) -> None:
    activity = apps.get_model("dsar", "ProcessingActivity").objects.filter(code=CODE).first()
    if activity is None:
        return
    changed = [name for name, text in before.items() if getattr(activity, name) == text]
    for name in list(changed):
        setattr(activity, name, after[name])
        base = name.removesuffix("_en")  # the plain column modeltranslation keeps in English
        if base != name and getattr(activity, base) == before[name]:
            setattr(activity, base, after[name])
            changed.append(base)
    if changed:
        activity.save(update_fields=changed)


def forwards(apps, schema_editor):
    _move(apps, schema_editor, before=OLD, after=NEW)


def backwards(apps, schema_editor):
    _move(apps, schema_editor, before=NEW, after=OLD)


class Migration(migrations.Migration):
    dependencies = [("dsar", "0024_request_language")]

    operations = [migrations.RunPython(forwards, backwards)]
