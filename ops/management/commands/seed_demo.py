from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts import demo
from accounts.models import User
from consent import demo as consent_demo
from dsar.demo import demo_requests_seed
from notifications.demo import demo_devices_seed


class Command(BaseCommand):
    help = "Create realistic synthetic data for demos and benchmarks. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--users",
            type=int,
            default=200,
            help="How many synthetic account holders (default 200).",
        )
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, users, batch_size, no_progress, **options):
        if users < 0:
            raise CommandError("--users must be 0 or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        accounts = demo.demo_accounts_seed()
        demo_devices_seed(username=demo.DEMO_USER)
        with tqdm(
            total=users, desc="Synthetic users", unit="user", disable=no_progress, file=self.stderr
        ) as bar:
            added = demo.demo_users_seed(count=users, batch_size=batch_size, progress=bar.update)
        sample = User.objects.filter(username__startswith="user").order_by("pk")[:350]
        requests = demo_requests_seed(users=sample)
        with tqdm(
            total=users, desc="Consent history", unit="user", disable=no_progress, file=self.stderr
        ) as bar:
            consents = consent_demo.demo_consents_seed(
                count=users, batch_size=batch_size, progress=bar.update
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {added} new synthetic users ({users} in all), "
                f"{requests} new privacy requests, {consents} new consent ledger rows, "
                f"demo logins: {', '.join(a.username for a in accounts)}."
            )
        )
