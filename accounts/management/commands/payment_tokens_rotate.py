from django.core.management.base import BaseCommand

from accounts.payments import payment_tokens_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored payment token with the newest key in PAYMENT_TOKEN_KEYS. "
        "Run it after putting a new key first; then the old keys can be removed."
    )

    def handle(self, *args, **options):
        count = payment_tokens_rotate()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} stored payment token(s)."))
