"""Create an API client from the command line (a developer's local portal, a deployment
script) and print its token once: `manage.py api_client_create --name app --scopes consent:read`."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api import services
from api.models import Scope


class Command(BaseCommand):
    help = "Create an API client and print its token (shown once; only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Comma-separated, from: {', '.join(Scope.values)}",
        )
        parser.add_argument("--rate-limit", default="", help="e.g. 600/m or 600/m,20000/h")

    def handle(self, *args, name, scopes, rate_limit, **options):
        try:
            client, token = services.api_client_create(
                name=name,
                scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                rate_limit=rate_limit,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"Created API client {client.name!r} ({client.client_id}).")
        self.stdout.write("Its token, shown this once:")
        self.stdout.write(token)
