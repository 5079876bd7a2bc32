"""Restrictions and objections name real uses of data: a request keeps a list of use codes
(`DataSubjectRequest.purposes`) instead of free text, and every block names a known use.

What happens to the rows written before, when "Which use of your data?" was free text:

- A text that is a known code, or a plain name of one (compared lower-cased, with spaces and
  hyphens read as underscores: "direct marketing", "Newsletter", "push notifications",
  "analytics"), becomes that code.
- A blank text meant "all uses" on the old form ("Leave blank for all uses"): it becomes "all".
- Any other text becomes "all" too. That is the safe reading, and the only one: the old gate
  matched the text against nothing, so such a restriction or objection stopped nothing at all,
  which is the one outcome the person certainly did not ask for. "All" stops every use they
  could have meant; it never stops essential mail (security, payment, policy changes, replies
  to requests), which no block stops; and it errs towards less processing, which an officer can
  narrow with the person, never towards processing they objected to. Nothing typed is lost: the
  request gets an internal note with the words as typed, and the block's reason keeps them.

The codes are written out here (not read from the apps' registries), so the migration means the
same on every database whatever the code looks like later.
"""

from django.db import migrations, models

KNOWN = {
    "direct_marketing",
    "newsletter",
    "product_updates",
    "events",
    "marketing",
    "partner_notifications",
    "testimonial",
    "stored_payment_method",
    "push_notifications",
    "behaviour_analytics",
    "service_improvement",
}
SYNONYMS = {
    "analytics": "behaviour_analytics",
    "analytics_cookies": "behaviour_analytics",
    "behavior_analytics": "behaviour_analytics",
    "testimonials": "testimonial",
    "push": "push_notifications",
    "marketing_emails": "marketing",
    "events_and_webinars": "events",
    "product_and_service_updates": "product_updates",
    "partners": "partner_notifications",
    "reselling_partners": "partner_notifications",
}
BLOCK_KINDS = ("restriction", "objection")


def _code(text: str) -> str | None:
    """The known code `text` names, "all" for a blank, None when it names nothing we know."""
    words = "_".join(text.strip().lower().replace("-", " ").split())
    if not words:
        return "all"
    if words in KNOWN:
        return words
    return SYNONYMS.get(words)


def forwards(apps, schema_editor):
    DataSubjectRequest = apps.get_model("dsar", "DataSubjectRequest")
    RequestEvent = apps.get_model("dsar", "RequestEvent")
    ProcessingBlock = apps.get_model("dsar", "ProcessingBlock")
    for request in DataSubjectRequest.objects.filter(kind__in=BLOCK_KINDS).iterator():
        code = _code(request.purpose)
        request.purposes = [code or "all"]
        request.save(update_fields=["purposes"])
        if code is None:
            RequestEvent.objects.create(
                request=request,
                kind="note",
                internal=True,
                text=(
                    f"The use of data was typed as “{request.purpose}”, which names none of "
                    "the uses we have: read as all uses. Narrow it with the person if needed."
                ),
            )
    for block in ProcessingBlock.objects.exclude(purpose="").iterator():
        code = _code(block.purpose)
        if code == block.purpose:
            continue
        if code is None:
            block.reason = f"{block.reason} (use typed as “{block.purpose}”: all uses)".strip()
        block.purpose = "" if code in (None, "all") else code
        block.save(update_fields=["purpose", "reason"])


def backwards(apps, schema_editor):
    DataSubjectRequest = apps.get_model("dsar", "DataSubjectRequest")
    for request in DataSubjectRequest.objects.filter(kind__in=BLOCK_KINDS).iterator():
        codes = [code for code in request.purposes if code != "all"]
        request.purpose = codes[0] if len(codes) == 1 else ""
        request.save(update_fields=["purpose"])


class Migration(migrations.Migration):
    dependencies = [("dsar", "0011_recipient_notification_permissions")]

    operations = [
        migrations.AddField(
            model_name="datasubjectrequest",
            name="purposes",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text=(
                    'For a restriction or an objection: the codes of the uses it names, or ["all"].'
                ),
                verbose_name="uses of your data",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="datasubjectrequest", name="purpose"),
        migrations.AlterField(
            model_name="processingblock",
            name="purpose",
            field=models.CharField(
                blank=True,
                help_text="A use's code (dsar.purposes), 'direct_marketing', or empty for every use.",
                max_length=64,
            ),
        ),
    ]
