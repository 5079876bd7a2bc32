"""Cookie choices: per browser, kept in one necessary cookie, decided before any other is set.

The Global Privacy Control signal (`Sec-GPC: 1`) counts as a refusal of every third party and of
analytics whatever the cookie says: no analytics, no social widget or other third-party script
(and, for account holders, an opt-out of sharing with partners: see middleware).
"""

from __future__ import annotations

from dataclasses import dataclass

from .app_settings import app_settings

CATEGORIES = ("analytics", "social")


def gpc_sent(request) -> bool:
    return request.META.get("HTTP_SEC_GPC", "").strip() == "1"


@dataclass(frozen=True)
class CookieChoices:
    decided: bool
    analytics_chosen: bool
    social_chosen: bool
    gpc: bool

    @property
    def analytics(self) -> bool:
        """May the analytics script run? Never under Global Privacy Control."""
        return self.analytics_chosen and not self.gpc

    @property
    def social(self) -> bool:
        """May social widgets (third-party scripts) load? Never under Global Privacy Control."""
        return self.social_chosen and not self.gpc

    @property
    def show_banner(self) -> bool:
        return not self.decided


def cookie_value(choices: dict[str, bool]) -> str:
    return "&".join(f"{name}={int(bool(choices.get(name)))}" for name in CATEGORIES)


def cookie_choices(request) -> CookieChoices:
    raw = request.COOKIES.get(app_settings.COOKIE_NAME, "")
    values = {}
    for part in raw.split("&"):
        name, _, value = part.partition("=")
        if name in CATEGORIES and value in ("0", "1"):
            values[name] = value == "1"
    decided = set(values) == set(CATEGORIES)
    return CookieChoices(
        decided=decided,
        analytics_chosen=decided and values["analytics"],
        social_chosen=decided and values["social"],
        gpc=gpc_sent(request),
    )


def cookie_choices_set(response, *, choices: dict[str, bool], secure: bool) -> None:
    response.set_cookie(
        app_settings.COOKIE_NAME,
        cookie_value(choices),
        max_age=int(app_settings.COOKIE_MAX_AGE.total_seconds()),
        samesite="Lax",
        secure=secure,
        httponly=True,
    )
