"""The processing activities' words get a column per language (dsar/translation.py). Today's
texts become the English ones; the texts still as seeded in 0019 get their German, frozen below
(a text an officer changed since has none and waits for theirs in the admin). The two checks move
onto the English columns, which every activity has."""

from django.db import migrations, models

WORDS = ("name", "description", "legitimate_interest", "transfers", "retention")
LINES = ("recipients", "measures")

# English as seeded in 0019 (a whole text, or one line of recipients or measures): its German.
GERMAN = {
    "Your account":
        "Ihr Konto",
    "To set up and run your account, sign you in, support you and send you account mail.":
        "Um Ihr Konto einzurichten und zu führen, Sie anzumelden, Sie zu unterstützen und Ihnen Kontonachrichten zu senden.",
    "While you have an account; erased when you or we close it.":
        "Solange Sie ein Konto haben; gelöscht, wenn Sie oder wir es schließen.",
    "Workpex staff on a need-to-know basis":
        "Workpex-Mitarbeitende, soweit sie es wissen müssen",
    "Our email delivery provider":
        "Unser E-Mail-Versanddienstleister",
    "Staff reach it only through the admin, after two-factor authentication, with permissions by role":
        "Mitarbeitende erreichen sie nur über die Verwaltung, nach Zwei-Faktor-Anmeldung, mit Berechtigungen nach Rolle",
    "Every staff view, change and export of it is written to the append-only audit log":
        "Jede Ansicht, Änderung und jeder Export durch Mitarbeitende wird im unveränderlichen Prüfprotokoll festgehalten",
    "Uploads are re-encoded and served only to the people allowed to see them":
        "Hochgeladene Dateien werden neu kodiert und nur den Personen gezeigt, die sie sehen dürfen",
    "Sign-in security":
        "Anmeldesicherheit",
    "To keep you signed in and protect your account with two-factor authentication.":
        "Um Sie angemeldet zu halten und Ihr Konto mit Zwei-Faktor-Authentifizierung zu schützen.",
    "Sessions until you sign out or they expire (two weeks at most); two-factor keys while you have an account.":
        "Sitzungen, bis Sie sich abmelden oder sie ablaufen (höchstens zwei Wochen); Zwei-Faktor-Schlüssel, solange Sie ein Konto haben.",
    "Passwords and security answers are stored only as salted hashes":
        "Passwörter und Sicherheitsantworten werden nur als gesalzene Hashes gespeichert",
    "Support staff access":
        "Zugriff des Supports",
    "To let support staff see your profile or service data only for a support ticket, for a limited time, and to show you who looked and why.":
        "Damit Support-Mitarbeitende Ihr Profil oder Ihre Servicedaten nur für ein Support-Ticket und nur für begrenzte Zeit sehen, und damit Sie sehen, wer warum hingesehen hat.",
    "Workpex support staff on a need-to-know basis":
        "Workpex-Support-Mitarbeitende, soweit sie es wissen müssen",
    "Third-party integrations":
        "Integrationen von Drittanbietern",
    "To let the integrations you enabled read what you allowed, and to show you what you shared.":
        "Damit die von Ihnen aktivierten Integrationen lesen können, was Sie erlaubt haben, und damit Sie sehen, was Sie geteilt haben.",
    "While you have an account; a revoked grant stays listed as a record.":
        "Solange Sie ein Konto haben; eine widerrufene Freigabe bleibt als Nachweis aufgeführt.",
    "The integrations you enabled, as far as you allowed them":
        "Die von Ihnen aktivierten Integrationen, soweit Sie es erlaubt haben",
    "Service data":
        "Servicedaten",
    "The records you keep in your workspaces about your customers or employees. You own this data; we process it for you (our contract with you).":
        "Die Datensätze, die Sie in Ihren Arbeitsbereichen über Ihre Kunden oder Beschäftigten führen. Die Daten gehören Ihnen; wir verarbeiten sie für Sie (unser Vertrag mit Ihnen).",
    "Until you delete it, ask us to, or close your account.":
        "Bis Sie sie löschen, uns darum bitten oder Ihr Konto schließen.",
    "Collaborators in the workspace":
        "Mitwirkende im Arbeitsbereich",
    "Third-party integrations you enable, as far as you allow them":
        "Drittanbieter-Integrationen, die Sie aktivieren, soweit Sie es erlauben",
    "Workpex support staff, with a stated reason and for a limited time":
        "Workpex-Support-Mitarbeitende, mit angegebenem Grund und für begrenzte Zeit",
    "Manual spam checks":
        "Manuelle Spam-Prüfung",
    "To check by hand messages you report as spam, so that our spam detection works for you.":
        "Um Nachrichten, die Sie als Spam melden, von Hand zu prüfen, damit unsere Spam-Erkennung für Sie funktioniert.",
    "The message is deleted once checked, at the latest 30 days after you reported it; the outcome 30 days after the check.":
        "Die Nachricht wird nach der Prüfung gelöscht, spätestens 30 Tage nach Ihrer Meldung; das Ergebnis 30 Tage nach der Prüfung.",
    "Workpex reviewers, only while an item is assigned to them":
        "Workpex-Prüfende, nur solange ihnen ein Vorgang zugewiesen ist",
    "Reviewers see an item only while it is assigned to them, with the purpose recorded":
        "Prüfende sehen einen Vorgang nur, solange er ihnen zugewiesen ist, mit festgehaltenem Zweck",
    "Deleted automatically when its retention period ends":
        "Automatisch gelöscht, wenn die Aufbewahrungsfrist endet",
    "Manual checks of scanned documents":
        "Manuelle Prüfung gescannter Dokumente",
    "To check by hand the text recognised in images you send us, so that it is accurate.":
        "Um den in Ihren Bildern erkannten Text von Hand zu prüfen, damit er stimmt.",
    "The image and recognised text are deleted once checked, at the latest 30 days after you sent them; the checked text 30 days after the check.":
        "Bild und erkannter Text werden nach der Prüfung gelöscht, spätestens 30 Tage nach dem Senden; der geprüfte Text 30 Tage nach der Prüfung.",
    "Invoices and accounting":
        "Rechnungen und Buchhaltung",
    "To bill you and keep the accounting records the law requires.":
        "Um Ihnen Rechnungen zu stellen und die gesetzlich vorgeschriebenen Buchungsunterlagen aufzubewahren.",
    "Ten years after the end of the financial year (commercial and tax law).":
        "Zehn Jahre nach Ende des Geschäftsjahres (Handels- und Steuerrecht).",
    "Our payment processor":
        "Unser Zahlungsdienstleister",
    "Our auditors and tax authorities, when the law requires":
        "Unsere Wirtschaftsprüfer und Steuerbehörden, wenn das Gesetz es verlangt",
    "Reports about children's data":
        "Meldungen über Daten von Kindern",
    "To remove information given to us by children under 16, and to tell the person who reported it what we did.":
        "Um Angaben zu entfernen, die uns Kinder unter 16 Jahren gegeben haben, und der meldenden Person mitzuteilen, was wir getan haben.",
    "The details about the child are deleted when the report is closed; the report itself one year later.":
        "Die Angaben über das Kind werden gelöscht, wenn die Meldung abgeschlossen ist; die Meldung selbst ein Jahr später.",
    "Workpex privacy officers":
        "Workpex-Datenschutzbeauftragte",
    "Your privacy requests":
        "Ihre Datenschutzanfragen",
    "To handle the rights you exercise (access, correction, erasure, restriction, objection, portability), and to prove we did.":
        "Um die Rechte zu bearbeiten, die Sie ausüben (Auskunft, Berichtigung, Löschung, Einschränkung, Widerspruch, Übertragbarkeit), und nachzuweisen, dass wir es getan haben.",
    "Three years after the request is closed; copies of your data 7 days after they are ready.":
        "Drei Jahre nach Abschluss der Anfrage; Kopien Ihrer Daten 7 Tage, nachdem sie bereitstehen.",
    "The recipients you name for your data":
        "Die Empfänger, die Sie für Ihre Daten nennen",
    "Records of who handled your data":
        "Aufzeichnungen, wer Ihre Daten bearbeitet hat",
    "To show who looked at or changed your data, when and why.":
        "Um zu zeigen, wer Ihre Daten angesehen oder geändert hat, wann und warum.",
    "Kept as proof of how we handled your data; the reasons are blanked on erasure.":
        "Als Nachweis, wie wir mit Ihren Daten umgegangen sind; die Gründe werden bei der Löschung geschwärzt.",
    "Your consents and choices":
        "Ihre Einwilligungen und Entscheidungen",
    "To know what you agreed to and withdrew, when and how, so that we contact you only as you allow, and can prove it.":
        "Um zu wissen, wozu Sie eingewilligt und was Sie widerrufen haben, wann und wie, damit wir Sie nur so kontaktieren, wie Sie es erlauben, und es nachweisen können.",
    "As long as we hold your other data; erased with it.":
        "Solange wir Ihre anderen Daten haben; mit ihnen gelöscht.",
    "Given and withdrawn only through the consent ledger, which the gate reads before every use":
        "Nur über das Einwilligungsprotokoll erteilt und widerrufen, das vor jeder Verwendung geprüft wird",
    "Forms you send us":
        "Formulare, die Sie uns senden",
    "To handle what you asked for: event registrations, newsletter signups, downloads, contests, surveys, support, quotes and messages.":
        "Um zu erledigen, worum Sie gebeten haben: Anmeldungen zu Veranstaltungen, Newsletter-Anmeldungen, Downloads, Gewinnspiele, Umfragen, Support, Angebote und Nachrichten.",
    "From six months to two years depending on the form (shown with each form), then deleted automatically.":
        "Je nach Formular sechs Monate bis zwei Jahre (bei jedem Formular angegeben), dann automatisch gelöscht.",
    "Privacy policy notices":
        "Hinweise zur Datenschutzerklärung",
    "To tell you about significant changes to our privacy policy at least 30 days before they affect your rights, and to prove that we did.":
        "Um Sie über wesentliche Änderungen unserer Datenschutzerklärung mindestens 30 Tage vor ihrer Wirkung auf Ihre Rechte zu informieren und nachzuweisen, dass wir es getan haben.",
    "Three years after the notice, as proof that we told you; then deleted.":
        "Drei Jahre nach dem Hinweis, als Nachweis, dass wir Sie informiert haben; dann gelöscht.",
    "Push notifications":
        "Push-Benachrichtigungen",
    "To send push notifications to the devices where you use our apps: security notices always, other messages only as you switched them on.":
        "Um Push-Benachrichtigungen an die Geräte zu senden, auf denen Sie unsere Apps nutzen: Sicherheitshinweise immer, andere Nachrichten nur, wenn Sie sie eingeschaltet haben.",
    "Apple, Google and Microsoft may process device tokens and notifications in the USA.":
        "Apple, Google und Microsoft können Geräte-Tokens und Benachrichtigungen in den USA verarbeiten.",
    "Until you remove the device or sign out in the app, or the push service says the token no longer works; erased with your account.":
        "Bis Sie das Gerät entfernen oder sich in der App abmelden, oder der Push-Dienst meldet, dass das Token nicht mehr gilt; mit Ihrem Konto gelöscht.",
    "Apple Push Notification service (Apple devices)":
        "Apple Push Notification Service (Apple-Geräte)",
    "Google Firebase Cloud Messaging (Android devices)":
        "Google Firebase Cloud Messaging (Android-Geräte)",
    "Windows Push Notification Services (Windows devices)":
        "Windows Push Notification Services (Windows-Geräte)",
    "Push notifications in test mode":
        "Push-Benachrichtigungen im Testmodus",
    "Test mode only: the push notifications the portal would have sent you.":
        "Nur im Testmodus: die Push-Benachrichtigungen, die das Portal Ihnen gesendet hätte.",
    "30 days.":
        "30 Tage.",
    "Analysing how the portal is used":
        "Auswertung, wie das Portal genutzt wird",
    "Counting the pages you visit while signed in, to learn which pages are used.":
        "Zählen der Seiten, die Sie angemeldet besuchen, um zu erfahren, welche Seiten genutzt werden.",
    "Our interest in knowing which pages of the portal are used, to improve them; only page counts per day are kept, nothing is shared.":
        "Unser Interesse zu wissen, welche Seiten des Portals genutzt werden, um sie zu verbessern; gespeichert werden nur Seitenaufrufe pro Tag, nichts wird weitergegeben.",
    "Page counts per day; nothing about you is kept.":
        "Seitenaufrufe pro Tag; nichts über Sie wird gespeichert.",
    "Trends in consent choices":
        "Trends bei Einwilligungsentscheidungen",
    "Studying trends in people's choices, in totals only, to improve our services.":
        "Untersuchung von Trends in den Entscheidungen der Menschen, nur in Summen, um unsere Dienste zu verbessern.",
    "Our interest in improving our services from how people choose; reports show totals, never a person.":
        "Unser Interesse, unsere Dienste danach zu verbessern, wie Menschen entscheiden; Berichte zeigen Summen, nie eine Person.",
    "Reports hold totals only; the choices are kept as your consents are.":
        "Berichte enthalten nur Summen; die Entscheidungen werden so lange aufbewahrt wie Ihre Einwilligungen.",
    "Newsletter":
        "Newsletter",
    "Our newsletter, about once a month: news from Workpex and tips for using our services.":
        "Unser Newsletter, etwa einmal im Monat: Neuigkeiten von Workpex und Tipps zur Nutzung unserer Dienste.",
    "Until you withdraw your consent; the record of it as your consents are kept.":
        "Bis Sie Ihre Einwilligung widerrufen; der Nachweis darüber so lange wie Ihre Einwilligungen.",
    "Product and service updates":
        "Produkt- und Service-Updates",
    "Mail about new products, new features and changes to the services you use.":
        "E-Mails über neue Produkte, neue Funktionen und Änderungen an den Diensten, die Sie nutzen.",
    "Events and webinars":
        "Veranstaltungen und Webinare",
    "Invitations to our events, webinars and seminars.":
        "Einladungen zu unseren Veranstaltungen, Webinaren und Seminaren.",
    "Marketing emails":
        "Marketing-E-Mails",
    "Offers and other marketing mail about Workpex products.":
        "Angebote und andere Werbe-E-Mails zu Workpex-Produkten.",
    "Notifications from reselling partners":
        "Benachrichtigungen von Vertriebspartnern",
    "We share your contact details with the reselling partners you choose, so they can tell you about Workpex products and services they sell.":
        "Wir geben Ihre Kontaktdaten an die von Ihnen gewählten Vertriebspartner weiter, damit sie Sie über Workpex-Produkte und -Dienste informieren können, die sie verkaufen.",
    "The reselling partners you choose":
        "Die von Ihnen gewählten Vertriebspartner",
    "Your testimonial":
        "Ihr Erfahrungsbericht",
    "We publish your feedback with your name as a testimonial, only as you approved it, while you allow it.":
        "Wir veröffentlichen Ihr Feedback mit Ihrem Namen als Erfahrungsbericht, nur so, wie Sie es freigegeben haben, und solange Sie es erlauben.",
    "Visitors of our public testimonials page, while it is published":
        "Besucher unserer öffentlichen Seite mit Erfahrungsberichten, solange er veröffentlicht ist",
    "Stored payment method":
        "Gespeicherte Zahlungsmethode",
    "We keep your payment details, encrypted, so you need not enter them for your next purchase.":
        "Wir speichern Ihre Zahlungsdaten verschlüsselt, damit Sie sie beim nächsten Kauf nicht erneut eingeben müssen.",
    "Until you remove the card, withdraw your consent or close your account.":
        "Bis Sie die Karte entfernen, Ihre Einwilligung widerrufen oder Ihr Konto schließen.",
    "Stored payment tokens are encrypted":
        "Gespeicherte Zahlungs-Tokens sind verschlüsselt",
    "Analytics cookies":
        "Analyse-Cookies",
    "Our own page-view counter for visitors who allow it: pages per day, nothing about you.":
        "Unser eigener Seitenaufrufzähler für Besucher, die es erlauben: Seiten pro Tag, nichts über Sie.",
    "Page counts per day; your choice as long as the cookie lasts.":
        "Seitenaufrufe pro Tag; Ihre Wahl, solange das Cookie besteht.",
    "Social media widgets":
        "Social-Media-Widgets",
    "Share and like buttons from social networks, shown only if you allow them; the networks may collect your IP address and the pages you visit.":
        "Teilen- und Gefällt-mir-Schaltflächen sozialer Netzwerke, nur angezeigt, wenn Sie es erlauben; die Netzwerke können Ihre IP-Adresse und die besuchten Seiten erfassen.",
    "The social networks (such as X and Facebook) receive your IP address in the USA.":
        "Die sozialen Netzwerke (etwa X und Facebook) erhalten Ihre IP-Adresse in den USA.",
    "The networks' own policies apply to what they collect; your choice as long as the cookie lasts.":
        "Für das, was die Netzwerke erfassen, gelten deren eigene Richtlinien; Ihre Wahl, solange das Cookie besteht.",
    "The social networks whose widgets you allow":
        "Die sozialen Netzwerke, deren Widgets Sie erlauben",
}


def _german(text):
    """The German of a seeded text; of a one-per-line field only if every line is seeded."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not all(line in GERMAN for line in lines):
        return ""
    return "\n".join(GERMAN[line] for line in lines)


def texts_split(apps, schema_editor):
    for model in ("ProcessingActivity", "HistoricalProcessingActivity"):
        for row in apps.get_model("dsar", model).objects.all():
            for field in (*WORDS, *LINES):
                text = getattr(row, field)
                setattr(row, f"{field}_en", text)
                german = GERMAN.get(text, "") if field in WORDS else _german(text)
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
