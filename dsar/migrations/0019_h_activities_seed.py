"""The processing activities, seeded from what the registry and the consent purposes said.

Officers edit the words in the admin afterwards (with history); codes stay, because the code
points at them (registry entries, consent purposes, the uses a person may stop). The German of
these seeded texts is in locale/de (the public page translates a text that is still as seeded).
"""

import django.utils.timezone
from django.db import migrations

from dsar.migration_helpers import group_permissions_grant

STAFF = "Staff reach it only through the admin, after two-factor authentication, with permissions by role"
AUDITED = "Every staff view, change and export of it is written to the append-only audit log"
SWEPT = "Deleted automatically when its retention period ends"
HASHED = "Passwords and security answers are stored only as salted hashes"
ENCRYPTED = "Stored payment tokens are encrypted"
UPLOADS = "Uploads are re-encoded and served only to the people allowed to see them"
ASSIGNED = "Reviewers see an item only while it is assigned to them, with the purpose recorded"
CONSENT_LEDGER = "Given and withdrawn only through the consent ledger, which the gate reads before every use"

OFFICERS = "Workpex privacy officers"
NEED_TO_KNOW = "Workpex staff on a need-to-know basis"
MAIL = "Our email delivery provider"

# code, name, description, basis, legitimate interest, categories, uses, subjects, recipients,
# transfers, safeguard, retention, measures, as processor, test mode
ACTIVITIES = [
    dict(
        code="account",
        name="Your account",
        description="To set up and run your account, sign you in, support you and send you "
        "account mail.",
        lawful_basis="b",
        data_categories=["user.name", "user.contact.email", "user.account", "user.content.self_image"],
        data_uses=["essential.service", "essential.service.notifications.email"],
        data_subjects=["customer"],
        recipients=[NEED_TO_KNOW, MAIL],
        retention="While you have an account; erased when you or we close it.",
        measures=[STAFF, AUDITED, UPLOADS],
    ),
    dict(
        code="sign_in",
        name="Sign-in security",
        description="To keep you signed in and protect your account with two-factor "
        "authentication.",
        lawful_basis="b",
        data_categories=["user.authorization.credentials", "user.device.cookie_id"],
        data_uses=["essential.service.authentication", "essential.service.security"],
        data_subjects=["customer"],
        retention="Sessions until you sign out or they expire (two weeks at most); "
        "two-factor keys while you have an account.",
        measures=[HASHED, STAFF],
    ),
    dict(
        code="support_access",
        name="Support staff access",
        description="To let support staff see your profile or service data only for a "
        "support ticket, for a limited time, and to show you who looked and why.",
        lawful_basis="b",
        data_categories=["user.account", "user.content.private"],
        data_uses=["essential.service.operations.support"],
        data_subjects=["customer"],
        recipients=["Workpex support staff on a need-to-know basis"],
        retention="While you have an account; erased when you or we close it.",
        measures=[STAFF, AUDITED],
    ),
    dict(
        code="integrations",
        name="Third-party integrations",
        description="To let the integrations you enabled read what you allowed, and to show "
        "you what you shared.",
        lawful_basis="b",
        data_categories=["user.account", "user.content.private"],
        data_uses=["essential.service"],
        data_subjects=["customer"],
        recipients=["The integrations you enabled, as far as you allowed them"],
        retention="While you have an account; a revoked grant stays listed as a record.",
        measures=[STAFF, AUDITED],
    ),
    dict(
        code="service_data",
        name="Service data",
        description="The records you keep in your workspaces about your customers or "
        "employees. You own this data; we process it for you (our contract with you).",
        lawful_basis="b",
        data_categories=["user.contact", "user.name", "user.content.private"],
        data_uses=["essential.service"],
        data_subjects=["customer", "employee"],
        recipients=[
            "Collaborators in the workspace",
            "Third-party integrations you enable, as far as you allow them",
            "Workpex support staff, with a stated reason and for a limited time",
        ],
        retention="Until you delete it, ask us to, or close your account.",
        measures=[STAFF, AUDITED, UPLOADS],
        as_processor=True,
    ),
    dict(
        code="spam_review",
        name="Manual spam checks",
        description="To check by hand messages you report as spam, so that our spam "
        "detection works for you.",
        lawful_basis="b",
        data_categories=["user.contact.email", "user.content.private"],
        data_uses=["essential.service.security"],
        data_subjects=["customer", "anonymous_user"],
        recipients=["Workpex reviewers, only while an item is assigned to them"],
        retention="The message is deleted once checked, at the latest 30 days after you "
        "reported it; the outcome 30 days after the check.",
        measures=[ASSIGNED, AUDITED, SWEPT],
        as_processor=True,
    ),
    dict(
        code="scan_review",
        name="Manual checks of scanned documents",
        description="To check by hand the text recognised in images you send us, so that it "
        "is accurate.",
        lawful_basis="b",
        data_categories=["user.content.private", "user.name"],
        data_uses=["essential.service"],
        data_subjects=["customer"],
        recipients=["Workpex reviewers, only while an item is assigned to them"],
        retention="The image and recognised text are deleted once checked, at the latest 30 "
        "days after you sent them; the checked text 30 days after the check.",
        measures=[ASSIGNED, AUDITED, SWEPT],
        as_processor=True,
    ),
    dict(
        code="billing",
        name="Invoices and accounting",
        description="To bill you and keep the accounting records the law requires.",
        lawful_basis="c",
        data_categories=["user.name", "user.contact.address", "user.financial"],
        data_uses=["essential.service.payment_processing", "essential.legal_obligation"],
        data_subjects=["customer"],
        recipients=["Our payment processor", "Our auditors and tax authorities, when the law requires"],
        retention="Ten years after the end of the financial year (commercial and tax law).",
        measures=[STAFF, AUDITED, SWEPT],
    ),
    dict(
        code="child_reports",
        name="Reports about children's data",
        description="To remove information given to us by children under 16, and to tell the "
        "person who reported it what we did.",
        lawful_basis="c",
        data_categories=["user.contact.email", "user.childrens"],
        data_uses=["essential.legal_obligation"],
        data_subjects=["customer", "anonymous_user"],
        recipients=[OFFICERS],
        retention="The details about the child are deleted when the report is closed; the "
        "report itself one year later.",
        measures=[STAFF, AUDITED, SWEPT],
    ),
    dict(
        code="privacy_requests",
        name="Your privacy requests",
        description="To handle the rights you exercise (access, correction, erasure, "
        "restriction, objection, portability), and to prove we did.",
        lawful_basis="c",
        data_categories=["user.contact.email", "user.name", "user.account"],
        data_uses=["essential.legal_obligation"],
        data_subjects=["customer", "prospect"],
        recipients=[OFFICERS, "The recipients you name for your data"],
        retention="Three years after the request is closed; copies of your data 7 days after "
        "they are ready.",
        measures=[STAFF, AUDITED, SWEPT],
    ),
    dict(
        code="accountability",
        name="Records of who handled your data",
        description="To show who looked at or changed your data, when and why.",
        lawful_basis="c",
        data_categories=["user.unique_id.pseudonymous", "user.account"],
        data_uses=["essential.legal_obligation"],
        data_subjects=["customer", "employee"],
        recipients=[OFFICERS],
        retention="Kept as proof of how we handled your data; the reasons are blanked on "
        "erasure.",
        measures=[AUDITED],
    ),
    dict(
        code="consent_records",
        name="Your consents and choices",
        description="To know what you agreed to and withdrew, when and how, so that we "
        "contact you only as you allow, and can prove it.",
        lawful_basis="c",
        data_categories=["user.contact.email", "user.privacy_preferences"],
        data_uses=["functional.storage.privacy_preferences"],
        data_subjects=["customer", "prospect"],
        recipients=[NEED_TO_KNOW],
        retention="As long as we hold your other data; erased with it.",
        measures=[CONSENT_LEDGER, AUDITED],
    ),
    dict(
        code="forms",
        name="Forms you send us",
        description="To handle what you asked for: event registrations, newsletter signups, "
        "downloads, contests, surveys, support, quotes and messages.",
        lawful_basis="b",
        data_categories=["user.name", "user.contact", "user.content.private"],
        data_uses=["essential.service.operations.support"],
        data_subjects=["customer", "prospect"],
        recipients=[NEED_TO_KNOW, MAIL],
        retention="From six months to two years depending on the form (shown with each "
        "form), then deleted automatically.",
        measures=[STAFF, SWEPT],
    ),
    dict(
        code="policy_notices",
        name="Privacy policy notices",
        description="To tell you about significant changes to our privacy policy at least 30 "
        "days before they affect your rights, and to prove that we did.",
        lawful_basis="c",
        data_categories=["user.contact.email"],
        data_uses=["essential.service.notifications.email", "essential.legal_obligation"],
        data_subjects=["customer"],
        recipients=[MAIL],
        retention="Three years after the notice, as proof that we told you; then deleted.",
        measures=[SWEPT],
    ),
    dict(
        code="push_notifications",
        name="Push notifications",
        description="To send push notifications to the devices where you use our apps: "
        "security notices always, other messages only as you switched them on.",
        lawful_basis="b",
        data_categories=["user.device.device_id"],
        data_uses=["essential.service.notifications"],
        data_subjects=["customer"],
        recipients=[
            "Apple Push Notification service (Apple devices)",
            "Google Firebase Cloud Messaging (Android devices)",
            "Windows Push Notification Services (Windows devices)",
        ],
        transfers="Apple, Google and Microsoft may process device tokens and notifications in "
        "the USA.",
        transfer_safeguard="dpf",
        retention="Until you remove the device or sign out in the app, or the push service "
        "says the token no longer works; erased with your account.",
        measures=[STAFF],
    ),
    dict(
        code="push_test_mode",
        name="Push notifications in test mode",
        description="Test mode only: the push notifications the portal would have sent you.",
        lawful_basis="b",
        data_categories=["user.device.device_id", "user.content.private"],
        data_uses=["essential.service.notifications"],
        data_subjects=["customer"],
        retention="30 days.",
        measures=[SWEPT],
        test_mode=True,
    ),
    dict(
        code="behaviour_analytics",
        name="Analysing how the portal is used",
        description="Counting the pages you visit while signed in, to learn which pages are "
        "used.",
        lawful_basis="f",
        legitimate_interest="Our interest in knowing which pages of the portal are used, to "
        "improve them; only page counts per day are kept, nothing is shared.",
        data_categories=["user.behavior.browsing_history"],
        data_uses=["analytics.reporting.content_performance"],
        data_subjects=["customer"],
        retention="Page counts per day; nothing about you is kept.",
        measures=[STAFF],
    ),
    dict(
        code="service_improvement",
        name="Trends in consent choices",
        description="Studying trends in people's choices, in totals only, to improve our "
        "services.",
        lawful_basis="f",
        legitimate_interest="Our interest in improving our services from how people choose; "
        "reports show totals, never a person.",
        data_categories=["user.privacy_preferences"],
        data_uses=["functional.service.improve"],
        data_subjects=["customer", "prospect"],
        recipients=[OFFICERS],
        retention="Reports hold totals only; the choices are kept as your consents are.",
        measures=[STAFF],
    ),
]

# The consent purposes whose basis is consent are activities too: the same code, basis (a).
CONSENT = dict(
    lawful_basis="a",
    data_subjects=["customer", "prospect"],
    measures=[CONSENT_LEDGER],
    retention="Until you withdraw your consent; the record of it as your consents are kept.",
)
MAILING = dict(
    CONSENT,
    data_categories=["user.contact.email", "user.name"],
    data_uses=["marketing.communications.email"],
    recipients=[MAIL],
)
ACTIVITIES += [
    dict(MAILING, code="newsletter", name="Newsletter", description="Our newsletter, about "
         "once a month: news from Workpex and tips for using our services."),
    dict(MAILING, code="product_updates", name="Product and service updates",
         description="Mail about new products, new features and changes to the services you use."),
    dict(MAILING, code="events", name="Events and webinars",
         description="Invitations to our events, webinars and seminars."),
    dict(MAILING, code="marketing", name="Marketing emails",
         description="Offers and other marketing mail about Workpex products."),
    dict(MAILING, code="partner_notifications", name="Notifications from reselling partners",
         description="We share your contact details with the reselling partners you choose, "
         "so they can tell you about Workpex products and services they sell.",
         data_uses=["marketing.communications.email", "third_party_sharing"],
         recipients=["The reselling partners you choose"]),
    dict(CONSENT, code="testimonial", name="Your testimonial",
         description="We publish your feedback with your name as a testimonial, only as you "
         "approved it, while you allow it.",
         data_categories=["user.name", "user.content.public"], data_uses=["marketing"],
         data_subjects=["customer"],
         recipients=["Visitors of our public testimonials page, while it is published"]),
    dict(CONSENT, code="stored_payment_method", name="Stored payment method",
         description="We keep your payment details, encrypted, so you need not enter them for "
         "your next purchase.",
         data_categories=["user.financial.credit_card", "user.name"],
         data_uses=["essential.service.payment_processing"], data_subjects=["customer"],
         recipients=["Our payment processor"],
         retention="Until you remove the card, withdraw your consent or close your account.",
         measures=[ENCRYPTED, CONSENT_LEDGER]),
    dict(CONSENT, code="analytics_cookies", name="Analytics cookies",
         description="Our own page-view counter for visitors who allow it: pages per day, "
         "nothing about you.",
         data_categories=["user.device.cookie_id"],
         data_uses=["analytics.reporting.content_performance"],
         data_subjects=["anonymous_user", "customer"],
         retention="Page counts per day; your choice as long as the cookie lasts."),
    dict(CONSENT, code="social_widgets", name="Social media widgets",
         description="Share and like buttons from social networks, shown only if you allow "
         "them; the networks may collect your IP address and the pages you visit.",
         data_categories=["user.device.ip_address", "user.behavior.browsing_history"],
         data_uses=["marketing.advertising.third_party"],
         data_subjects=["anonymous_user", "customer"],
         recipients=["The social networks whose widgets you allow"],
         transfers="The social networks (such as X and Facebook) receive your IP address in "
         "the USA.",
         transfer_safeguard="sccs",
         retention="The networks' own policies apply to what they collect; your choice as "
         "long as the cookie lasts."),
]


def seed(apps, schema_editor):
    Activity = apps.get_model("dsar", "ProcessingActivity")
    History = apps.get_model("dsar", "HistoricalProcessingActivity")
    now = django.utils.timezone.now()
    for position, row in enumerate(ACTIVITIES, start=1):
        values = dict(row)
        code = values.pop("code")
        values["recipients"] = "\n".join(values.get("recipients", []))
        values["measures"] = "\n".join(values.get("measures", []))
        activity, _created = Activity.objects.update_or_create(
            code=code, defaults={**values, "position": position * 10}
        )
        # The history starts with the seeded words, so an officer's first edit has a before.
        History.objects.create(
            **{f.attname: getattr(activity, f.attname) for f in Activity._meta.concrete_fields},
            history_date=now,
            history_type="+",
            history_change_reason="Seeded from the registry and the consent purposes",
        )


def grant(apps, schema_editor):
    """Officers edit the activities' words and read their history; nobody deletes one here."""
    group_permissions_grant(
        apps,
        "dsar",
        "Privacy officer",
        [
            "view_processingactivity",
            "add_processingactivity",
            "change_processingactivity",
            "view_historicalprocessingactivity",
        ],
    )


def unseed(apps, schema_editor):
    apps.get_model("dsar", "ProcessingActivity").objects.filter(
        code__in=[row["code"] for row in ACTIVITIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dsar", "0018_h_activities_processing_activities"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
