"""Consent insights from the ledger: grants and withdrawals per purpose and per partner, month by
month, and how people withdrew (unsubscribe links, the preference centre, the browser's GPC
signal). Aggregated in the database: a constant number of queries whatever the ledger's size."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from consent.models import CampaignUnsubscribeCount, ConsentEvent, PrivacySignalCount
from consent.selectors import SERVICE_IMPROVEMENT
from dsar.selectors import blocked_emails, blocked_user_ids

GRANTED = ConsentEvent.Action.GRANTED
WITHDRAWN = ConsentEvent.Action.WITHDRAWN


@dataclass
class Rates:
    granted: int = 0
    withdrawn: int = 0

    @property
    def opt_in_rate(self) -> float | None:
        """The share of decisions that were grants (the opt-out rate is the rest)."""
        total = self.granted + self.withdrawn
        return self.granted / total if total else None


@dataclass
class ConsentInsights:
    by_purpose: dict[str, Rates] = field(default_factory=dict)
    by_partner: dict[str, Rates] = field(default_factory=dict)
    monthly: list[dict] = field(default_factory=list)
    withdrawals_by_method: dict[str, int] = field(default_factory=dict)
    unsubscribes_by_campaign: list[dict] = field(default_factory=list)
    pages: int = 0
    gpc_pages: int = 0

    @property
    def gpc_share(self) -> float | None:
        return self.gpc_pages / self.pages if self.pages else None


def _counts():
    return {
        "granted": Count("id", filter=Q(action=GRANTED)),
        "withdrawn": Count("id", filter=Q(action=WITHDRAWN)),
    }


def consent_insights(*, start: datetime, end: datetime) -> ConsentInsights:
    # Opting in and out of a purpose; switching one channel (email, push) of it is neither.
    events = ConsentEvent.objects.filter(at__gte=start, at__lt=end, channel="")
    # Trends to improve the services: without the people who restricted or objected to that.
    uses = [SERVICE_IMPROVEMENT]
    events = events.exclude(user_id__in=blocked_user_ids(uses=uses)).exclude(
        user__isnull=True, email__in=blocked_emails(uses=uses)
    )
    insights = ConsentInsights()
    for row in events.values("purpose__name").annotate(**_counts()).order_by("purpose__name"):
        insights.by_purpose[row["purpose__name"]] = Rates(row["granted"], row["withdrawn"])
    partnered = events.filter(partner__isnull=False).values("partner__name")
    for row in partnered.annotate(**_counts()).order_by("partner__name"):
        insights.by_partner[row["partner__name"]] = Rates(row["granted"], row["withdrawn"])
    insights.monthly = [
        {
            "month": row["month"].date().isoformat()[:7],
            "purpose": row["purpose__name"],
            "granted": row["granted"],
            "withdrawn": row["withdrawn"],
        }
        for row in events.annotate(month=TruncMonth("at"))
        .values("month", "purpose__name")
        .annotate(**_counts())
        .order_by("month", "purpose__name")
    ]
    methods = dict(ConsentEvent.Method.choices)
    for row in (
        events.filter(action=WITHDRAWN).values("method").annotate(n=Count("id")).order_by("-n")
    ):
        insights.withdrawals_by_method[methods.get(row["method"], row["method"])] = row["n"]
    days = {"day__gte": start.date(), "day__lt": end.date()}
    insights.unsubscribes_by_campaign = list(
        CampaignUnsubscribeCount.objects.filter(**days)
        .values("campaign", "purpose__name")
        .annotate(n=Sum("count"))
        .order_by("-n", "campaign")
    )
    signals = PrivacySignalCount.objects.filter(**days).aggregate(
        pages=Sum("pages"), gpc=Sum("gpc_pages")
    )
    insights.pages, insights.gpc_pages = signals["pages"] or 0, signals["gpc"] or 0
    return insights
