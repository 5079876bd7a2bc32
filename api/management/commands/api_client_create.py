"""Create an API client from the command line (a developer's local portal, a deployment
script) and print its token once: `manage.py api_client_create --name app --scopes consent:read`."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api import services
from api.models import Scope
from datastores.models import ConnectedSystem


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
        parser.add_argument(
            "--system",
            default="",
            help="The connected system (confirmed through the API) this client confirms for.",
        )

    def handle(self, *args, name, scopes, rate_limit, system, **options):
        connected = None
        if system:
            connected = ConnectedSystem.objects.filter(
                name=system, kind=ConnectedSystem.Kind.WEBHOOK
            ).first()
            if connected is None:
                raise CommandError(
                    f"There is no connected system {system!r} confirmed through the API."
                )
        try:
            client, token = services.api_client_create(
                name=name,
                scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                rate_limit=rate_limit,
                system=connected,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"Created API client {client.name!r} ({client.client_id}).")
        self.stdout.write("Its token, shown this once:")
        self.stdout.write(token)
