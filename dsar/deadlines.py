"""Deadline arithmetic and the deadline rules of each jurisdiction.

GDPR Art. 12(3) and UK GDPR: one calendar month from receipt (clamped to the month's end), which
may be extended by up to two further months, telling the person why within the first month.
CCPA/CPRA (Cal. Civ. Code § 1798.130(a)(2), 11 CCR § 7021): 45 days, which may be extended once
by up to 45 more days, telling the person of the extension and why within the first 45 days.

The rule is chosen from the person's country and, for the United States, their state. Where no
specific rule is known, the GDPR's one month applies: it is the shortest deadline in the table,
so it is never later than what any of these laws asks.
"""

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext_lazy as _

MONTHS = "months"
DAYS = "days"

# The EU and EEA member states, where the GDPR applies.
# fmt: off
GDPR_COUNTRIES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})
# fmt: on


@dataclass(frozen=True)
class DeadlineRule:
    code: str
    law: str  # the law's name as the person knows it
    unit: str  # MONTHS or DAYS
    base: int  # the deadline, in `unit`, from receipt
    max_extension: int  # the longest extension, in `unit`
    description: str  # plain words for the person and the officer

    def due(self, start: datetime) -> datetime:
        return start + relativedelta(**{self.unit: self.base})

    def extended(self, original_due: datetime, amount: int) -> datetime:
        return original_due + relativedelta(**{self.unit: amount})

    @property
    def unit_label(self) -> str:
        return str(_("months") if self.unit == MONTHS else _("days"))


GDPR = DeadlineRule(
    code="gdpr",
    law=_("GDPR"),
    unit=MONTHS,
    base=1,
    max_extension=2,
    description=_(
        "One month from receipt; for complex or many requests we may extend it by up to two "
        "further months, and we tell you why within the first month."
    ),
)
UK_GDPR = DeadlineRule(
    code="uk_gdpr",
    law="UK GDPR",
    unit=MONTHS,
    base=1,
    max_extension=2,
    description=GDPR.description,
)
CCPA = DeadlineRule(
    code="ccpa",
    law="CCPA/CPRA",
    unit=DAYS,
    base=45,
    max_extension=45,
    description=_(
        "45 days from receipt; where reasonably necessary we may extend it once by up to 45 "
        "more days, and we tell you of the extension and why within the first 45 days."
    ),
)

DEADLINE_RULES = {rule.code: rule for rule in (GDPR, UK_GDPR, CCPA)}

# (country, region) → rule; region "" stands for the whole country. The person's own entry
# wins over their country's; anything not listed gets the default.
JURISDICTIONS: dict[tuple[str, str], DeadlineRule] = {
    **{(country, ""): GDPR for country in GDPR_COUNTRIES},
    ("GB", ""): UK_GDPR,
    ("US", "CA"): CCPA,
}
DEFAULT_RULE = GDPR


def deadline_rule_for(*, country: str, region: str = "") -> DeadlineRule:
    country, region = (country or "").upper(), (region or "").upper()
    return JURISDICTIONS.get((country, region)) or JURISDICTIONS.get((country, "")) or DEFAULT_RULE


def add_months(moment: datetime, months: int) -> datetime:
    """31 January + 1 month is 28 (or 29) February; 30 April + 1 month is 30 May."""
    return moment + relativedelta(months=months)


def due_after_receipt(
    *,
    received_at: datetime,
    verified_at: datetime | None,
    pauses: bool,
    rule: DeadlineRule = DEFAULT_RULE,
):
    """The due time, or None while the clock waits for the identity to be confirmed."""
    if not pauses:
        return rule.due(received_at)
    if verified_at is None:
        return None
    return rule.due(received_at) + (verified_at - received_at)
