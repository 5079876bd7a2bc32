"""A column per language for the texts people read (django-modeltranslation): consent purposes
(cookie categories among them) and partners' descriptions. Today's texts become the English ones;
the purposes seeded in 0003 get their German texts where officers have not changed them since.
"""

from django.db import migrations, models

# code: (English name and description as seeded in 0003, German name and description)
GERMAN = {
    "account_security": (
        "Account and security",
        "Konto und Sicherheit",
        "Mails zu Ihrem Konto und seiner Sicherheit: Bestätigung Ihrer Adresse, Zurücksetzen "
        "des Passworts, Hinweise auf Anmeldungen. Solange Sie ein Konto haben, können Sie diese "
        "nicht abschalten.",
    ),
    "payment": (
        "Payment",
        "Zahlung",
        "Quittungen, Rechnungen und Nachrichten zu Ihren Zahlungen.",
    ),
    "policy_changes": (
        "Privacy policy changes",
        "Änderungen der Datenschutzerklärung",
        "Hinweis auf wesentliche Änderungen unserer Datenschutzerklärung, mindestens 30 Tage "
        "bevor sie Ihre Rechte berühren.",
    ),
    "requests": (
        "Replies to your requests",
        "Antworten auf Ihre Anfragen",
        "Bestätigungen und Antworten auf das, worum Sie uns bitten: ein Formular, das Sie "
        "gesendet haben, ein Link, den Sie angefordert haben, eine Support- oder "
        "Datenschutzanfrage.",
    ),
    "newsletter": (
        "Newsletter",
        "Newsletter",
        "Unser Newsletter, etwa einmal im Monat: Neues von Workpex und Tipps zur Nutzung "
        "unserer Dienste.",
    ),
    "product_updates": (
        "Product and service updates",
        "Neuigkeiten zu Produkten und Diensten",
        "Mails über neue Produkte, neue Funktionen und Änderungen an den Diensten, die Sie nutzen.",
    ),
    "events": (
        "Events and webinars",
        "Veranstaltungen und Webinare",
        "Einladungen zu unseren Veranstaltungen, Webinaren und Seminaren.",
    ),
    "marketing": (
        "Marketing emails",
        "Werbe-E-Mails",
        "Angebote und andere Werbung per Mail zu Produkten von Workpex.",
    ),
    "partner_notifications": (
        "Notifications from reselling partners",
        "Nachrichten von Vertriebspartnern",
        "Wir geben Ihre Kontaktdaten an die Vertriebspartner weiter, die Sie wählen, damit sie "
        "Sie über Produkte und Dienste von Workpex informieren können, die sie verkaufen. Sie "
        "wählen Partner für Partner.",
    ),
    "testimonial": (
        "Use of my testimonial",
        "Verwendung meines Erfahrungsberichts",
        "Wir dürfen Ihre Rückmeldung mit Ihrem Namen und Ihren Angaben als Erfahrungsbericht "
        "veröffentlichen. Sie prüfen und genehmigen jeden Erfahrungsbericht, bevor wir ihn "
        "veröffentlichen.",
    ),
    "stored_payment_method": (
        "Stored payment method",
        "Gespeicherte Zahlungsart",
        "Wir bewahren Ihre Zahlungsdaten verschlüsselt auf, damit Sie sie beim nächsten Kauf "
        "nicht erneut eingeben müssen. Ohne diese Einwilligung behalten wir nur den Namen des "
        "Karteninhabers, die Adresse, das Ablaufdatum und die letzten vier Ziffern.",
    ),
    "necessary_cookies": (
        "Necessary cookies",
        "Notwendige Cookies",
        "Cookies, ohne die das Portal nicht funktioniert: Ihre Sitzung, der Schutz vor "
        "gefälschten Formularen, Ihre Sprache und Ihre Cookie-Auswahl.",
    ),
    "analytics_cookies": (
        "Analytics",
        "Statistik",
        "Unser eigener Seitenaufrufzähler, um zu erfahren, welche Seiten genutzt werden. Er "
        "zählt Seiten pro Tag, speichert nichts über Sie und gibt nichts an andere weiter.",
    ),
    "social_widgets": (
        "Social media widgets",
        "Social-Media-Widgets",
        "Teilen- und Gefällt-mir-Schaltflächen sozialer Netzwerke wie X (Twitter) und "
        "Facebook. Diese Netzwerke können Ihre IP-Adresse und die von Ihnen besuchten Seiten "
        "erfassen und eigene Cookies setzen; es gelten deren Datenschutzerklärungen.",
    ),
}


def texts_split(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    Partner = apps.get_model("consent", "Partner")
    for purpose in Purpose.objects.all():
        purpose.name_en = purpose.name
        purpose.description_en = purpose.description
        seeded = GERMAN.get(purpose.code)
        # Only a text as seeded gets the German one; an officer's own wording waits for theirs.
        if seeded and purpose.name == seeded[0]:
            purpose.name_de, purpose.description_de = seeded[1], seeded[2]
        purpose.save(update_fields=["name_en", "description_en", "name_de", "description_de"])
    for partner in Partner.objects.all():
        partner.description_en = partner.description
        partner.save(update_fields=["description_en"])


def texts_join(apps, schema_editor):
    """Back: the English texts are the only ones again."""
    Purpose = apps.get_model("consent", "Purpose")
    for purpose in Purpose.objects.all():
        purpose.name = purpose.name_en or purpose.name
        purpose.description = purpose.description_en or purpose.description
        purpose.save(update_fields=["name", "description"])


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0013_h_notices_first_tried"),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="description_de",
            field=models.TextField(blank=True, null=True, verbose_name="description"),
        ),
        migrations.AddField(
            model_name="partner",
            name="description_en",
            field=models.TextField(blank=True, null=True, verbose_name="description"),
        ),
        migrations.AddField(
            model_name="purpose",
            name="description_de",
            field=models.TextField(
                help_text="Plain language, for people.", null=True, verbose_name="description"
            ),
        ),
        migrations.AddField(
            model_name="purpose",
            name="description_en",
            field=models.TextField(
                help_text="Plain language, for people.", null=True, verbose_name="description"
            ),
        ),
        migrations.AddField(
            model_name="purpose",
            name="name_de",
            field=models.CharField(max_length=100, null=True, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="purpose",
            name="name_en",
            field=models.CharField(max_length=100, null=True, verbose_name="name"),
        ),
        migrations.RunPython(texts_split, texts_join),
    ]
