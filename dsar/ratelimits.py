"""The portal's own rate limits: one small module over the `limits` library.

allauth limits its own flows (sign-in, sign-up, password reset: ACCOUNT_RATE_LIMITS). Everything
else the portal limits (filing a privacy request, the public forms, the emailed preferences link,
one-click unsubscribe, reporting a child's data) is configured in PORTAL_RATE_LIMITS and counted
here, in the storage PORTAL_RATE_LIMIT_STORAGE names (`memory://` on the embedded default and in
tests, Redis in production).

Rates are written as allauth writes its own, so one notation serves both settings:
"10/m/ip,5/h/key" is 10 per minute per client address and 5 per hour per key. The period is a
unit (s, m, h, d) with an optional number before it ("5m"); what is counted is `ip` (the client
address, by the one client-IP policy: allauth's adapter with ALLAUTH_TRUSTED_PROXY_COUNT), `key`
(what the caller passes: the person, a link) or `user` (the signed-in account). Counting is a
moving window: a hit is forgotten one period after it was made.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.shortcuts import render
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PER = ("ip", "key", "user")


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int
    per: str  # "ip", "key" or "user"

    @property
    def item(self) -> RateLimitItemPerSecond:
        return RateLimitItemPerSecond(self.amount, self.seconds)


@functools.cache
def rates_parse(rule: str) -> tuple[Rate, ...]:
    """ "10/m/ip,5/5m/key" as rates; a malformed rule is a configuration error, said plainly."""
    rates = []
    for part in filter(None, (p.strip() for p in rule.split(","))):
        try:
            amount, period, per = part.split("/")
            unit = period[-1]
            seconds = int(period[:-1] or 1) * _UNITS[unit]
            rate = Rate(int(amount), seconds, per)
        except (ValueError, KeyError, IndexError):
            rate = None
        if rate is None or rate.amount < 1 or rate.per not in _PER:
            raise ImproperlyConfigured(
                f"Rate limit {part!r}: write it as amount/period/what, e.g. 10/m/ip or 5/5m/key."
            )
        rates.append(rate)
    return tuple(rates)


def rates_of(action: str) -> tuple[Rate, ...]:
    """The configured rates of an action; none (no limit) where the setting names none."""
    return rates_parse((getattr(settings, "PORTAL_RATE_LIMITS", None) or {}).get(action, ""))


@functools.cache
def _limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(settings.PORTAL_RATE_LIMIT_STORAGE))


@receiver(setting_changed)
def _settings_changed(*, setting, **kwargs) -> None:
    if setting == "PORTAL_RATE_LIMIT_STORAGE":
        _limiter.cache_clear()


def limits_reset() -> None:
    """Forget every count (tests start from none)."""
    _limiter().storage.reset()


def _identity(request, rate: Rate, action: str, key: str | None) -> tuple[str, ...] | None:
    if rate.per == "ip":
        return (action, "ip", get_adapter().get_client_ip(request))
    if rate.per == "user":
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # a per-account rate does not count anonymous requests
        return (action, "user", str(user.pk))
    if key is None:
        raise ValueError(f"The rate limit of {action!r} counts per key: pass one.")
    return (action, "key", str(key))


def _counted(request, action: str, key: str | None):
    for rate in rates_of(action):
        identity = _identity(request, rate, action, key)
        if identity is not None:
            yield rate.item, identity


def limit_refused_until(request, *, action: str, key: str | None = None) -> datetime | None:
    """None if the action has room under every one of its rates (nothing is counted); else the
    moment from which it has room again."""
    limiter = _limiter()
    full = [
        limiter.get_window_stats(item, *identity).reset_time
        for item, identity in _counted(request, action, key)
        if not limiter.test(item, *identity)
    ]
    return datetime.fromtimestamp(max(full), tz=UTC) if full else None


def limit_count(request, *, action: str, key: str | None = None) -> None:
    """Count one attempt under every rate of the action."""
    limiter = _limiter()
    for item, identity in _counted(request, action, key):
        limiter.hit(item, *identity)


def limit_consume(request, *, action: str, key: str | None = None) -> bool:
    """True, and the attempt counted, if the action has room under every rate; else False and
    nothing counted."""
    return _consume(list(_counted(request, action, key)))


def _consume(counted: list) -> bool:
    limiter = _limiter()
    if len(counted) == 1:  # the common case, one round trip: a refused hit counts nothing
        item, identity = counted[0]
        return limiter.hit(item, *identity)
    if not all(limiter.test(item, *identity) for item, identity in counted):
        return False
    for item, identity in counted:
        limiter.hit(item, *identity)
    return True


def limit_consume_rule(*, rule: str, action: str, key: str) -> datetime | None:
    """Like limit_consume, for rates that are not in PORTAL_RATE_LIMITS but kept elsewhere (an
    API client's own rate, "600/m/key"): None, and the call counted, if there is room under
    every rate of `rule` for `key`; else the moment from which there is room again."""
    counted = [(rate.item, (action, "key", key)) for rate in rates_parse(rule)]
    if _consume(counted):
        return None
    limiter = _limiter()
    resets = [limiter.get_window_stats(item, *identity).reset_time for item, identity in counted]
    return datetime.fromtimestamp(max(resets), tz=UTC)


def too_many_response(request):
    """The answer past a limit: the same plain page as allauth's for sign-in (429.html)."""
    return render(request, "429.html", status=429)
