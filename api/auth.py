"""Who is calling: `Authorization: Bearer wpx_<client_id>_<secret>`, the client's own rate, and
the scope each operation needs (refusals audited)."""

from __future__ import annotations

from django.utils import timezone
from ninja.security import HttpBearer

from dsar.ratelimits import limit_consume_rule

from . import services
from .models import rate_rule
from .problems import RateLimited, ScopeMissing

RATE_ACTION = "api_client"


class ClientToken(HttpBearer):
    """The client whose token this is (one query), once its rate has room for the call."""

    def authenticate(self, request, token):
        client = services.api_client_authenticate(token)
        if client is None:
            return None
        until = limit_consume_rule(
            rule=rate_rule(client.rate_limit), action=RATE_ACTION, key=client.client_id
        )
        if until is not None:
            raise RateLimited(until, timezone.now())
        return client


def call_for(request, *, scope: str, operation: str) -> services.ApiCall:
    """The call, if the client holds `scope`; else a 403 problem, and the refusal audited."""
    client = request.auth
    if not client.has_scope(scope):
        services.api_call_refused_audit(client=client, scope=scope, operation=operation)
        raise ScopeMissing(scope)
    call = services.ApiCall(client=client, scope=scope, operation=operation)
    request.api_call = call  # for the audit row of a refusal (api.problems)
    return call
