"""Health of the parts the portal needs: database, broker, workers."""

from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import WorkerHeartbeat


@dataclass
class Check:
    ok: bool
    detail: str
    extra: dict = field(default_factory=dict)


def health_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not reachable"; the type is in the detail
        return Check(ok=False, detail=f"unreachable: {type(exc).__name__}")
    return Check(ok=True, detail=connection.vendor)


def health_broker() -> Check:
    from celery import current_app

    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:  # kombu raises many kinds; all mean "not reachable"
        return Check(ok=False, detail=f"unreachable: {type(exc).__name__}")
    return Check(ok=True, detail=str(transport))


def health_workers() -> Check:
    max_age = timedelta(seconds=settings.OPS_HEARTBEAT_MAX_AGE_SECONDS)
    try:
        recent = list(
            WorkerHeartbeat.objects.filter(last_seen__gte=timezone.now() - max_age)
            .order_by("-last_seen")
            .values_list("hostname", "last_seen")
        )
    except Exception as exc:  # the database check reports the cause
        return Check(ok=False, detail=f"unknown: {type(exc).__name__}")
    if not recent:
        return Check(
            ok=False,
            detail=f"no worker has run the heartbeat task in the last {max_age.seconds} seconds",
        )
    workers = {hostname: seen.isoformat() for hostname, seen in recent}
    return Check(ok=True, detail=f"{len(workers)} alive", extra={"workers": workers})


def health_report() -> tuple[bool, dict]:
    checks = {
        "database": health_database(),
        "broker": health_broker(),
        "workers": health_workers(),
    }
    healthy = all(check.ok for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    for name, check in checks.items():
        data = asdict(check)
        data.update(data.pop("extra"))
        body[name] = data
    return healthy, body
