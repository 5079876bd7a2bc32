"""The purposes the policy names, and policy version 1.0 (effective 1 January 2026).

Privacy officers edit names, descriptions and legal bases in the admin afterwards; codes stay.
"""

from datetime import datetime, timezone
from pathlib import Path

from django.db import migrations

POLICY_FILE = Path(__file__).resolve().parent.parent / "policy" / "privacy-policy-1.0.md"

# code, name, description, legal basis, channel, essential, direct marketing, per partner
PURPOSES = [
    (
        "account_security",
        "Account and security",
        "Mail about your account and its security: confirming your address, password resets, "
        "sign-in alerts. You cannot switch these off while you have an account.",
        "contract",
        "email",
        True,
        False,
        False,
    ),
    (
        "payment",
        "Payment",
        "Receipts, invoices and messages about payments you make.",
        "contract",
        "email",
        True,
        False,
        False,
    ),
    (
        "policy_changes",
        "Privacy policy changes",
        "Notice of significant changes to our privacy policy, at least 30 days before they "
        "affect your rights.",
        "legal_obligation",
        "email",
        True,
        False,
        False,
    ),
    (
        "requests",
        "Replies to your requests",
        "Confirmations and answers to things you ask us for: a form you sent, a link you "
        "requested, a support or privacy request.",
        "contract",
        "email",
        True,
        False,
        False,
    ),
    (
        "newsletter",
        "Newsletter",
        "Our newsletter, about once a month: news from Workpex and tips for using our services.",
        "consent",
        "email",
        False,
        True,
        False,
    ),
    (
        "product_updates",
        "Product and service updates",
        "Mail about new products, new features and changes to the services you use.",
        "consent",
        "email",
        False,
        True,
        False,
    ),
    (
        "events",
        "Events and webinars",
        "Invitations to our events, webinars and seminars.",
        "consent",
        "email",
        False,
        True,
        False,
    ),
    (
        "marketing",
        "Marketing emails",
        "Offers and other marketing mail about Workpex products.",
        "consent",
        "email",
        False,
        True,
        False,
    ),
    (
        "partner_notifications",
        "Notifications from reselling partners",
        "We share your contact details with the reselling partners you choose, so they can "
        "tell you about Workpex products and services they sell. You choose partner by partner.",
        "consent",
        "email",
        False,
        True,
        True,
    ),
    (
        "testimonial",
        "Use of my testimonial",
        "We may publish your feedback with your name and details as a testimonial. You review "
        "and approve each testimonial before we publish it.",
        "consent",
        "data_use",
        False,
        False,
        False,
    ),
    (
        "stored_payment_method",
        "Stored payment method",
        "We keep your payment details, encrypted, so you need not enter them for your next "
        "purchase. Without this we keep only the cardholder name, address, expiry and last "
        "four digits.",
        "consent",
        "data_use",
        False,
        False,
        False,
    ),
    (
        "necessary_cookies",
        "Necessary cookies",
        "Cookies the portal cannot work without: your session, protection against forged "
        "forms, your language and your cookie choices.",
        "contract",
        "cookie",
        True,
        False,
        False,
    ),
    (
        "analytics_cookies",
        "Analytics",
        "Our own page-view counter, to learn which pages are used. It counts pages per day, "
        "keeps nothing about you, and shares nothing with anyone.",
        "consent",
        "cookie",
        False,
        False,
        False,
    ),
    (
        "social_widgets",
        "Social media widgets",
        "Share and like buttons from social networks such as X (Twitter) and Facebook. These "
        "networks may collect your IP address and the pages you visit, and set their own "
        "cookies; their privacy policies apply.",
        "consent",
        "cookie",
        False,
        False,
        False,
    ),
]


def seed(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    PolicyVersion = apps.get_model("consent", "PolicyVersion")
    for position, row in enumerate(PURPOSES, start=1):
        code, name, description, basis, channel, essential, dm, per_partner = row
        Purpose.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "legal_basis": basis,
                "channel": channel,
                "is_essential": essential,
                "is_direct_marketing": dm,
                "per_partner": per_partner,
                "position": position * 10,
            },
        )
    effective = datetime(2026, 1, 1, tzinfo=timezone.utc)
    PolicyVersion.objects.update_or_create(
        version="1.0",
        defaults={
            "text": POLICY_FILE.read_text(encoding="utf-8"),
            "summary_of_changes": "First version of the Workpex privacy policy.",
            "is_material": False,
            "published_at": effective,
            "effective_at": effective,
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("consent", "Purpose").objects.filter(code__in=[p[0] for p in PURPOSES]).delete()
    apps.get_model("consent", "PolicyVersion").objects.filter(version="1.0").delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_append_only_ledger")]

    operations = [migrations.RunPython(seed, unseed)]
