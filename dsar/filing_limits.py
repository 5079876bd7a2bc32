"""How filing a privacy request is rate-limited (dsar.ratelimits, with the rates in
PORTAL_RATE_LIMITS). A limit never stands between a person and a right:

- each person may always file one request of each kind: what is counted is the same person
  opening new requests of the same kind again and again (`dsar_request`, per key: the person
  and the kind), so access, rectification and objection in one sitting are three first filings;
- filing again what is already open is joined to it and never counted;
- filings by email address only, from one IP address, are counted across addresses
  (`dsar_request_ip`): that is the flood of many addresses from one machine.

A refusal says when to try again: the moment the limiter has room again."""

import math
from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import ngettext

from .ratelimits import limit_count, limit_refused_until
from .selectors import open_requests_of

PER_PERSON_AND_KIND = "dsar_request"
EMAIL_ONLY_PER_IP = "dsar_request_ip"


def filing_refused_until(
    http_request, *, kind: str, user, email: str, per_ip: bool = True
) -> datetime | None:
    """None if this filing may go ahead (it is then counted, unless it joins an open request);
    else the time from which it may be filed again.

    A filing that joins an open request is not counted. Someone signed in joining their own
    request is never refused; an email-only filing is checked against the limits whether or not
    it would join, so the answer does not tell a stranger that an address has a request open."""
    joins = open_requests_of(kind=kind, user=user, email=email).exists()
    if user is not None and joins:
        return None
    person = f"user:{user.pk}" if user is not None else email.strip().casefold()
    checks = [(PER_PERSON_AND_KIND, f"{person}:{kind}")]
    if user is None and per_ip:
        checks.append((EMAIL_ONLY_PER_IP, None))
    refused = [
        until
        for action, key in checks
        if (until := limit_refused_until(http_request, action=action, key=key)) is not None
    ]
    if refused:
        return max(refused)
    if not joins:
        for action, key in checks:
            limit_count(http_request, action=action, key=key)
    return None


def filing_refusal_message(until: datetime) -> str:
    """When to try again: a time in the person's time zone (the active one), and in minutes."""
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    return ngettext(
        "You have sent many requests like this one in a short time. Please try "
        "again at %(time)s (%(zone)s), in %(minutes)s minute.",
        "You have sent many requests like this one in a short time. Please try "
        "again at %(time)s (%(zone)s), in %(minutes)s minutes.",
        minutes,
    ) % {
        "time": formats.time_format(timezone.localtime(until), "TIME_FORMAT"),
        "zone": timezone.get_current_timezone_name(),
        "minutes": minutes,
    }
