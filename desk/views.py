"""Read-only reports for privacy officers. Each needs the privacy-officer permission, and
opening one is written to the audit log."""

import io
from datetime import date

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dsar.models import RequestKind, RequestState
from dsar.services import audit_record
from dsar.spreadsheet import SpreadsheetWriter

from . import attention, consent_insights, metrics, pdf, records, services
from .models import CcpaDisclosurePublication

PERMISSION = "dsar.work_request"


def officer_report(report: str):
    """Admin login and MFA (through the admin site), the officer permission, and an audit event
    for every opening — a refusal answers 403 and is audited too."""

    def decorate(view):
        def wrapped(request, *args, **kwargs):
            allowed = request.user.has_perm(PERMISSION)
            audit_record(
                action="report_opened" if allowed else "report_refused",
                actor=request.user,
                detail={"report": report, "format": request.GET.get("format", "html")},
            )
            if not allowed:
                return render(
                    request,
                    "403.html",
                    {"exception": _("Reports are for privacy officers.")},
                    status=403,
                )
            return view(request, *args, **kwargs)

        return admin.site.admin_view(wrapped)

    return decorate


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    buffer = io.StringIO()
    writer = SpreadsheetWriter(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


@officer_report("home")
def home(request):
    return render(
        request,
        "desk/home.html",
        _context(request, _("Privacy officer's desk"), items=attention.officer_attention()),
    )


@officer_report("records_of_processing")
def records_of_processing(request):
    """Art. 30(1), or Art. 30(2) with ?view=processor; ?test_mode=1 adds test-mode processing.
    HTML, CSV (?format=csv) and PDF (?format=pdf) hold the same content."""
    include_test_mode = request.GET.get("test_mode") == "1"
    processor = request.GET.get("view") == "processor"
    build = records.processor_records if processor else records.records_of_processing
    report = build(include_test_mode=include_test_mode)
    name = "records-of-processing" + ("-processor" if processor else "")
    output = request.GET.get("format")
    if output == "csv":
        rows = records.records_csv_rows(report)
        return _csv_response(f"{name}.csv", rows[0], rows[1:])
    if output == "pdf":
        response = HttpResponse(pdf.records_pdf(report), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    return render(
        request,
        "desk/records.html",
        _context(
            request,
            report.title,
            report=report,
            processor=processor,
            include_test_mode=include_test_mode,
            generated_at=timezone.now(),
        ),
    )


def _dates(request) -> tuple[date | None, date | None, list[str]]:
    errors = []
    values = []
    for name in ("start", "end"):
        raw = request.GET.get(name, "")
        try:
            value = parse_date(raw) if raw else None
        except ValueError:
            value = None
        if raw and value is None:
            errors.append(_("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": raw})
        values.append(value)
    start, end = values
    if start and end and start > end:
        errors.append(_("The period starts after it ends."))
        start = end = None
    return start, end, errors


@officer_report("request_metrics")
def request_metrics(request):
    start, end, errors = _dates(request)
    period_start, period_end = metrics.period_from(start, end)
    result = metrics.request_metrics(start=period_start, end=period_end)
    kinds = dict(RequestKind.choices)
    states = dict(RequestState.choices)
    if request.GET.get("format") == "csv":
        rows = [
            [kinds[kind], states[state], count]
            for kind, by_state in sorted(result.by_kind.items())
            for state, count in sorted(by_state.items())
        ]
        rows += [
            ["", _("completed"), result.completed],
            ["", _("completed on time"), result.on_time],
            ["", _("median days to complete"), _round(result.median_days)],
            ["", _("90th percentile days to complete"), _round(result.p90_days)],
            ["", _("extensions used"), result.extensions],
            ["", _("open now"), result.open_now],
            ["", _("overdue now"), result.overdue_now],
        ]
        return _csv_response(
            f"request-metrics-{period_start.date()}-{period_end.date()}.csv",
            [_("kind"), _("outcome"), _("count")],
            rows,
        )
    table = [
        {
            "kind": kinds.get(kind, kind),
            "received": sum(by_state.values()),
            "states": [(states[s], by_state.get(s, 0)) for s in states],
        }
        for kind, by_state in sorted(result.by_kind.items())
    ]
    chart = {
        "weeks": sorted({row["week"].date().isoformat() for row in result.per_week}),
        "per_week": [
            {"week": row["week"].date().isoformat(), "kind": kinds[row["kind"]], "n": row["n"]}
            for row in result.per_week
        ],
        "time_to_complete": result.time_to_complete,
    }
    return render(
        request,
        "desk/request_metrics.html",
        _context(
            request,
            _("Request metrics"),
            metrics=result,
            table=table,
            state_labels=list(states.values()),
            chart=chart,
            errors=errors,
            start=period_start.date(),
            end=(period_end - timezone.timedelta(days=1)).date(),
            on_time_percent=_percent(result.on_time_share),
            median=_round(result.median_days),
            p90=_round(result.p90_days),
        ),
    )


@officer_report("ccpa_disclosure")
def ccpa_disclosure(request):
    default_year = timezone.localdate().year - 1
    try:
        year = int(request.GET.get("year", default_year))
    except ValueError:
        year = default_year
    if not 2000 <= year <= timezone.localdate().year:
        year = default_year
    if request.method == "POST":
        return _ccpa_publication_change(request)
    rows = metrics.ccpa_disclosure(year=year)
    if request.GET.get("format") == "csv":
        return _csv_response(
            f"ccpa-metrics-{year}.csv",
            [
                "Request type",
                "Received",
                "Complied with (in whole or in part)",
                "Denied",
                "Median days to respond",
                "Of which Global Privacy Control signals",
                "Of which partner opt-outs",
                "Scope",
            ],
            (
                [
                    r["type"],
                    r["received"],
                    r["complied"],
                    r["denied"],
                    _round(r["median_days"]),
                    r.get("gpc", ""),
                    r.get("partner_opt_outs", ""),
                    "California consumers only (country US, state CA)",
                ]
                for r in rows
            ),
        )
    return render(
        request,
        "desk/ccpa.html",
        _context(
            request,
            _("CCPA metrics disclosure (11 CCR § 7102)"),
            rows=rows,
            year=year,
            published=CcpaDisclosurePublication.objects.filter(year=year).first(),
            publications=CcpaDisclosurePublication.objects.all(),
        ),
    )


def _ccpa_publication_change(request):
    """Publish a year's figures at the public URL, or take them down (a closed year only: the
    figures of a year still running would change under the public page)."""
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        year = 0
    if not 2000 <= year < timezone.localdate().year:
        messages.error(request, _("Choose a calendar year that has ended."))
        return redirect("desk:ccpa")
    if request.POST.get("action") == "unpublish":
        services.ccpa_disclosure_unpublish(year=year, actor=request.user)
        messages.success(
            request, _("The %(year)s disclosure is no longer public.") % {"year": year}
        )
    else:
        services.ccpa_disclosure_publish(year=year, actor=request.user)
        messages.success(
            request,
            _("The %(year)s disclosure is published at %(url)s.")
            % {"year": year, "url": reverse("ccpa_public:year", args=[year])},
        )
    return redirect(f"{reverse('desk:ccpa')}?year={year}")


# --- Public pages (no login) ---------------------------------------------------------------------


@require_GET
def ccpa_public_index(request):
    """The CCPA disclosures officers have published, newest year first."""
    return render(
        request,
        "desk/ccpa_public_index.html",
        {"publications": CcpaDisclosurePublication.objects.all()},
    )


@require_GET
def ccpa_public_year(request, year: int):
    publication = get_object_or_404(CcpaDisclosurePublication, year=year)
    return render(
        request,
        "desk/ccpa_public.html",
        {
            "publication": publication,
            "publications": CcpaDisclosurePublication.objects.all(),
        },
    )


def _round(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"


@officer_report("consent_insights")
def consent_report(request):
    start, end, errors = _dates(request)
    period_start, period_end = metrics.period_from(start, end)
    insights = consent_insights.consent_insights(start=period_start, end=period_end)
    if request.GET.get("format") == "csv":
        return _csv_response(
            f"consent-{period_start.date()}-{period_end.date()}.csv",
            [_("month"), _("purpose"), _("granted"), _("withdrawn")],
            ([r["month"], r["purpose"], r["granted"], r["withdrawn"]] for r in insights.monthly),
        )
    months = sorted({row["month"] for row in insights.monthly})
    return render(
        request,
        "desk/consent.html",
        _context(
            request,
            _("Consent insights"),
            insights=insights,
            errors=errors,
            start=period_start.date(),
            end=(period_end - timezone.timedelta(days=1)).date(),
            purposes=[
                (name, rates, _percent(rates.opt_in_rate))
                for name, rates in insights.by_purpose.items()
            ],
            partners=[
                (name, rates, _percent(rates.opt_in_rate))
                for name, rates in insights.by_partner.items()
            ],
            chart={"months": months, "monthly": insights.monthly},
            gpc_share=_percent(insights.gpc_share),
        ),
    )
