"""The uses of personal data a person may restrict or object to (GDPR Art. 18 and 21).

dsar knows none of them itself: the apps that process data name their uses from their
`AppConfig.ready()`, and read restrictions back through `dsar.selectors`:

    @processing_use_source
    def consent_uses() -> Iterable[ProcessingUse]: ...

A source is a function, so uses kept in the database (the consent purposes, edited by officers)
are read when the form is shown, not frozen at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import DIRECT_MARKETING

# A request names its uses as a list of these codes; "all" stands for every use.
ALL_USES = "all"
# A ProcessingBlock for every use keeps an empty purpose (the index and the gate rely on it).
ALL_USES_BLOCK = ""
__all__ = ["ALL_USES", "ALL_USES_BLOCK", "DIRECT_MARKETING", "ProcessingUse"]


@dataclass(frozen=True)
class ProcessingUse:
    code: str
    label: str
    description: str = ""
    # An objection to a direct-marketing use takes effect at once (GDPR Art. 21(3)).
    direct_marketing: bool = False
    order: int = 50


_sources: list[Callable[[], Iterable[ProcessingUse]]] = []


def processing_use_source(func: Callable[[], Iterable[ProcessingUse]]):
    """Register a function that lists uses of personal data people may stop (a decorator)."""
    if func not in _sources:
        _sources.append(func)
    return func


def processing_uses() -> list[ProcessingUse]:
    """Every use a person may restrict or object to, in the order to show them."""
    seen: dict[str, ProcessingUse] = {}
    for source in _sources:
        for use in source():
            seen.setdefault(use.code, use)
    return sorted(seen.values(), key=lambda use: (use.order, use.code))


def processing_use_choices() -> list[tuple[str, str]]:
    """(code, plain-language label) for the request form, "all uses" last."""
    return [(use.code, use.label) for use in processing_uses()] + [(ALL_USES, _("All uses"))]


def processing_use_label(code: str) -> str:
    """A block's or a request's purpose code in plain language."""
    if code in (ALL_USES, ALL_USES_BLOCK):
        return str(_("All uses of your data"))
    for use in processing_uses():
        if use.code == code:
            return str(use.label)
    return code


def processing_uses_clean(codes: Sequence[str]) -> list[str]:
    """The codes, checked and in order, without repeats; "all" alone covers everything.

    Raises ValueError naming the first unknown code.
    """
    known = {use.code for use in processing_uses()} | {ALL_USES}
    cleaned: list[str] = []
    for code in codes:
        if code not in known:
            raise ValueError(code)
        if code not in cleaned:
            cleaned.append(code)
    return [ALL_USES] if ALL_USES in cleaned else cleaned


def immediate_objection_uses(codes: Sequence[str]) -> list[str]:
    """The uses in an objection that stop at once: direct marketing, whatever else is named.

    "All uses" includes every kind of direct marketing, so it stops direct marketing at once too
    (and the officer decides the rest).
    """
    marketing = {use.code for use in processing_uses() if use.direct_marketing}
    if ALL_USES in codes:
        return [DIRECT_MARKETING]
    return [code for code in codes if code == DIRECT_MARKETING or code in marketing]


def objection_uses() -> list[ProcessingUse]:
    """The uses an objection may name (GDPR Art. 21): exactly the activities based on (e) or
    (f), and direct marketing (Art. 21(2), whatever its basis)."""
    from .activities import objectionable_activities

    objectionable = set(objectionable_activities().values_list("code", flat=True))
    return [use for use in processing_uses() if use.direct_marketing or use.code in objectionable]


def objection_uses_clean(codes: Sequence[str]) -> list[str]:
    """The codes of an objection, checked: raises ValueError naming the first use an objection
    cannot name (a use based on consent or a contract: withdraw the consent or ask for a
    restriction instead). "All uses" stands for every use an objection can name."""
    allowed = {use.code for use in objection_uses()} | {ALL_USES}
    for code in codes:
        if code not in allowed:
            raise ValueError(code)
    return list(codes)


def objection_uses_text() -> str:
    """The uses an objection may name, in words, for the request form."""
    return ", ".join(str(use.label) for use in objection_uses())


def objection_refused_message(code: str) -> str:
    """Why an objection cannot name `code` (GDPR Art. 21): it applies to processing based on
    (e) or (f), and to direct marketing; for the rest, a person withdraws consent or asks for a
    restriction."""
    return _(
        "You can object only to %(uses)s (GDPR Art. 21). “%(use)s” rests on your consent, our "
        "contract or the law: withdraw your consent, or ask for a restriction instead."
    ) % {"uses": objection_uses_text(), "use": processing_use_label(code)}
