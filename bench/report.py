"""Render bench/RESULTS.md from the measurements of one run."""

from __future__ import annotations

import datetime
from pathlib import Path

from .core import Measurement

HEADER = """# Benchmark results

Written by `make bench` (`python -m bench.run`); do not edit by hand — notes that explain a
figure live in `bench/NOTES.md` and are copied below.

Each benchmark runs the Django path and its raw-SQL baseline (psycopg 3: COPY, INSERT … SELECT,
set-based UPDATE/DELETE) on the same data in the same process. *ratio* is Django's wall time over
the baseline's; the target is the ratio the issue allows. Peak RSS is the process's resident set
at its highest during the measurement (sampled every 5 ms); *growth* is that peak minus the RSS
when the measurement began. Queries: every statement the Django connection sent
(`CaptureQueriesContext`), or every statement the baseline sent.
"""


def _fmt_rate(rate: float) -> str:
    return f"{rate:,.0f}"


def render(
    *,
    results: dict[str, list[Measurement]],
    modules: dict,
    machine: dict[str, str],
    total: float,
    sizes: list[str],
) -> str:
    out = [HEADER]
    out.append(
        f"Run: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, sizes "
        f"`{','.join(sizes)}`, {total:.0f} s in all.\n"
    )
    out.append("## Machine\n")
    out += [f"- {key}: {value}" for key, value in machine.items()]
    out.append("")
    out.append("## Summary\n")
    out.append("| benchmark | size | Django | baseline | ratio | target | met |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, measurements in results.items():
        module = modules[name]
        for django, baseline in _pairs(measurements):
            ratio = _ratio(django, baseline)
            met = "yes" if ratio <= module.TARGET else "**no**"
            out.append(
                f"| {module.TITLE} | {int(django.size):,} {_size_unit(module)} "
                f"| {django.seconds:.3f} s "
                f"| {baseline.seconds:.3f} s | {ratio:.2f}× | ≤ {module.TARGET:g}× | {met} |"
            )
    out.append("")
    for name, measurements in results.items():
        module = modules[name]
        out.append(f"## {module.TITLE}\n")
        out.append((module.__doc__ or "").strip() + "\n")
        out.append(
            f"| size ({_size_unit(module)}) | path | wall | {module.UNIT}/s | peak RSS "
            "| RSS growth | queries | ratio | target | met |"
        )
        out.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for django, baseline in _pairs(measurements):
            ratio = _ratio(django, baseline)
            met = "yes" if ratio <= module.TARGET else "**no**"
            for m in (django, baseline):
                is_django = m is django
                out.append(
                    f"| {int(m.size):,} | {m.path} | {m.seconds:.3f} s "
                    f"| {_fmt_rate(m.rows_per_second)} | {m.peak_rss_mb:.0f} MB "
                    f"| {m.rss_growth_mb:+.1f} MB | {m.queries:,} "
                    f"| {f'{ratio:.2f}×' if is_django else '1×'} "
                    f"| {f'≤ {module.TARGET:g}×' if is_django else ''} "
                    f"| {met if is_django else ''} |"
                )
        notes = [
            f"- n={int(m.size):,} ({m.path}): {note}" for m in measurements for note in m.notes
        ]
        extra = getattr(module, "extra_checks", None)
        if extra is not None:
            notes += [f"- {line}" for line in extra(measurements)]
        if notes:
            out.append("")
            out += notes
        out.append("")
    notes = Path(__file__).with_name("NOTES.md")
    if notes.exists():
        out.append(notes.read_text().strip())
    return "\n".join(out) + "\n"


def _pairs(measurements: list[Measurement]):
    for i in range(0, len(measurements), 2):
        yield measurements[i], measurements[i + 1]


def _ratio(django: Measurement, baseline: Measurement) -> float:
    return django.seconds / baseline.seconds if baseline.seconds else float("inf")


def _size_unit(module) -> str:
    """What a size counts: the module's UNIT, unless it sizes by something else (SIZE_UNIT,
    e.g. seconds of load for a throughput benchmark)."""
    return getattr(module, "SIZE_UNIT", module.UNIT)
