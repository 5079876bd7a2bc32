from django.core.management.base import BaseCommand

from accounts.demo import (
    DEMO_OFFICER,
    DEMO_PASSWORD,
    DEMO_REVIEWER,
    DEMO_SUPPORT,
    DEMO_TOTP_SECRET,
    DEMO_USER,
)


class Command(BaseCommand):
    help = "Print where the portal runs and the demo logins (used by `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")

    def handle(self, *args, port, **options):
        self.stdout.write(
            f"""
  Workpex Privacy Portal: http://127.0.0.1:{port}/
  Health:                 http://127.0.0.1:{port}/healthz
  Staff admin:            http://127.0.0.1:{port}/admin/

  Demo logins (the password for all: {DEMO_PASSWORD})
    account holder:  {DEMO_USER}
    privacy officer: {DEMO_OFFICER}
    support:         {DEMO_SUPPORT}
    reviewer:        {DEMO_REVIEWER}
  Staff need a two-factor code: `.venv/bin/python manage.py demo_totp` prints the current one,
  or add the secret {DEMO_TOTP_SECRET} to an authenticator app.

  Mail (sign-up confirmations and every other message) is printed below by the web process.
  Stop everything with Ctrl+C.
"""
        )
