"""Request metrics for any period, computed in the database: the number of queries does not grow
with the number of requests."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_noop

from consent.models import ConsentEvent
from dsar.models import OPEN_STATES, DataSubjectRequest, RequestKind, RequestState

SECONDS_PER_DAY = 86400.0
DAY_BUCKETS = [(0, 7), (8, 14), (15, 30), (31, 60), (61, None)]


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont: the linearly interpolated percentile of a group."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


class EpochSeconds(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def percentile(values: list[float], fraction: float) -> float | None:
    """The same interpolation as percentile_cont, for databases without it (SQLite)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _duration():
    return ExpressionWrapper(F("closed_at") - F("received_at"), output_field=DurationField())


def _days_percentiles(queryset, fractions: tuple[float, ...]) -> list[float | None]:
    """Percentiles of days from receipt to closing, for the rows of `queryset`."""
    if connection.vendor == "postgresql":
        aggregates = {
            f"p{i}": PercentileCont(EpochSeconds(_duration()), fraction)
            for i, fraction in enumerate(fractions)
        }
        row = queryset.aggregate(**aggregates)
        return [
            None if row[f"p{i}"] is None else row[f"p{i}"] / SECONDS_PER_DAY
            for i in range(len(fractions))
        ]
    days = [
        d.total_seconds() / SECONDS_PER_DAY for d in queryset.values_list(_duration(), flat=True)
    ]
    return [percentile(days, fraction) for fraction in fractions]


@dataclass
class RequestMetrics:
    start: datetime
    end: datetime
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    completed: int = 0
    on_time: int = 0
    median_days: float | None = None
    p90_days: float | None = None
    extensions: int = 0
    open_now: int = 0
    overdue_now: int = 0
    per_week: list[dict] = field(default_factory=list)
    time_to_complete: list[dict] = field(default_factory=list)

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.completed if self.completed else None


def request_metrics(*, start: datetime, end: datetime, now: datetime | None = None):
    """Requests received in [start, end): counts by kind and outcome, days to complete (median
    and 90th percentile), the share completed on time (against the deadline in force, extension
    included), extensions used; plus what is open and overdue now."""
    now = now or timezone.now()
    received = DataSubjectRequest.objects.filter(received_at__gte=start, received_at__lt=end)
    completed = received.filter(state=RequestState.COMPLETED, closed_at__isnull=False)
    metrics = RequestMetrics(start=start, end=end)

    for row in received.values("kind", "state").annotate(n=Count("id")).order_by():
        metrics.by_kind.setdefault(row["kind"], {})[row["state"]] = row["n"]

    totals = received.aggregate(
        completed=Count("id", filter=Q(state=RequestState.COMPLETED)),
        on_time=Count("id", filter=Q(state=RequestState.COMPLETED, closed_at__lte=F("due_at"))),
        extensions=Count("id", filter=Q(extended_at__isnull=False)),
    )
    metrics.completed, metrics.on_time = totals["completed"], totals["on_time"]
    metrics.extensions = totals["extensions"]
    metrics.median_days, metrics.p90_days = _days_percentiles(completed, (0.5, 0.9))

    live = DataSubjectRequest.objects.aggregate(
        open=Count("id", filter=Q(state__in=OPEN_STATES)),
        overdue=Count("id", filter=Q(state__in=OPEN_STATES, due_at__lt=now)),
    )
    metrics.open_now, metrics.overdue_now = live["open"], live["overdue"]

    metrics.per_week = list(
        received.annotate(week=TruncWeek("received_at"))
        .values("week", "kind")
        .annotate(n=Count("id"))
        .order_by("week", "kind")
    )
    metrics.time_to_complete = _buckets(completed)
    return metrics


def _buckets(completed) -> list[dict]:
    whens = []
    for index, (low, high) in enumerate(DAY_BUCKETS):
        condition = Q(duration__gte=timedelta(days=low))
        if high is not None:
            condition &= Q(duration__lt=timedelta(days=high + 1))
        whens.append(When(condition, then=Value(index)))
    rows = (
        completed.annotate(duration=_duration())
        .annotate(bucket=Case(*whens, output_field=IntegerField()))
        .values("bucket")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {row["bucket"]: row["n"] for row in rows}
    return [
        {
            "label": f"{low}–{high} days" if high is not None else f"over {low - 1} days",
            "count": counts.get(index, 0),
        }
        for index, (low, high) in enumerate(DAY_BUCKETS)
    ]


# CCPA regulations, 11 CCR § 7102(a): requests of the previous calendar year, by type.
# The row labels stay English in the rows (a published year keeps them as stored); pages
# translate them when they show them.
CCPA_TYPES = {
    gettext_noop("Requests to know"): [RequestKind.ACCESS, RequestKind.PORTABILITY],
    gettext_noop("Requests to delete"): [RequestKind.ERASURE],
    gettext_noop("Requests to correct"): [RequestKind.RECTIFICATION],
    gettext_noop("Requests to opt out of sale/sharing"): [RequestKind.OBJECTION],
    gettext_noop("Requests to limit"): [RequestKind.RESTRICTION],
}
OPT_OUT_TYPE = "Requests to opt out of sale/sharing"
# Whom the disclosure counts: California consumers, that is people whose country is the United
# States and whose state is California (a request's own country and region; for the ledger's
# opt-outs, the account holder's). People we cannot place (no country or state given, or known by
# email only) are not counted; their requests are answered all the same.
CCPA_COUNTRY, CCPA_REGION = "US", "CA"


def _californian_requests():
    return DataSubjectRequest.objects.filter(country=CCPA_COUNTRY, region__iexact=CCPA_REGION)


def ledger_opt_outs(*, start: datetime, end: datetime) -> dict[str, int]:
    """Opt-outs of sale/sharing recorded in the consent ledger in [start, end) by California
    consumers: Global Privacy Control signals (the browser's signal withdrew sharing with the
    reselling partners) and the person's own partner opt-outs (withdrawing a purpose shared with
    reselling partners: all partners at once, one partner, or the partner mail's unsubscribe
    link). One request is one person's opt-out by one means on one day. They take effect at once:
    complied with, zero days."""
    rows = (
        ConsentEvent.objects.filter(
            at__gte=start,
            at__lt=end,
            action=ConsentEvent.Action.WITHDRAWN,
            purpose__per_partner=True,
            user__country=CCPA_COUNTRY,
            user__region__iexact=CCPA_REGION,
        )
        .annotate(
            day=TruncDate("at"),
            gpc=Case(
                When(method=ConsentEvent.Method.GLOBAL_PRIVACY_CONTROL, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .values("user_id", "gpc", "day")
        .distinct()
        .order_by()
    )
    counted = {0: 0, 1: 0}
    for row in rows.iterator():
        counted[row["gpc"]] += 1
    return {"gpc": counted[1], "partner_opt_outs": counted[0]}


def ccpa_disclosure(*, year: int) -> list[dict]:
    """For each request type: received, complied with in whole or in part, denied, and the
    median days to respond substantively (to the closing of a completed or rejected request),
    counting California consumers only. Opt-outs of sale/sharing add the ledger's GPC signals and
    partner opt-outs (`ledger_opt_outs`) to the objection requests."""
    tz = timezone.get_current_timezone()
    start = datetime(year, 1, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz)
    received = _californian_requests().filter(received_at__gte=start, received_at__lt=end)
    answered = received.filter(
        state__in=[RequestState.COMPLETED, RequestState.REJECTED], closed_at__isnull=False
    )
    rows = []
    counts = {
        row["kind"]: row
        for row in received.values("kind").annotate(
            received=Count("id"),
            complied=Count("id", filter=Q(state=RequestState.COMPLETED)),
            denied=Count("id", filter=Q(state=RequestState.REJECTED)),
        )
    }
    for label, kinds in CCPA_TYPES.items():
        group = [counts[k] for k in kinds if k in counts]
        row = {
            "type": label,
            "received": sum(r["received"] for r in group),
            "complied": sum(r["complied"] for r in group),
            "denied": sum(r["denied"] for r in group),
        }
        if label == OPT_OUT_TYPE:
            ledger = ledger_opt_outs(start=start, end=end)
            immediate = ledger["gpc"] + ledger["partner_opt_outs"]
            row |= ledger | {"requests": row["received"]}
            row["received"] += immediate
            row["complied"] += immediate
            days = [
                d.total_seconds() / SECONDS_PER_DAY
                for d in answered.filter(kind__in=kinds).values_list(_duration(), flat=True)
            ]
            row["median_days"] = percentile([0.0] * immediate + days, 0.5)
        else:
            (row["median_days"],) = _days_percentiles(answered.filter(kind__in=kinds), (0.5,))
        rows.append(row)
    return rows


def period_from(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """A [start, end) period from two dates (end inclusive for people); the last 90 days by
    default."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    end = end or today
    start = start or end - timedelta(days=89)
    return (
        datetime.combine(start, datetime.min.time(), tzinfo=tz),
        datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=tz),
    )
