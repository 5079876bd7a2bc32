from django.core.management.base import BaseCommand

from accounts.demo import DEMO_TOTP_SECRET
from accounts.totp import totp_code


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo staff accounts (demo data only)."

    def handle(self, *args, **options):
        self.stdout.write(totp_code(DEMO_TOTP_SECRET))
