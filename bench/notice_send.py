"""Policy-notice sending: the fan-out of a material version's N pending notices, rendered and
handed over SMTP to a local sink (aiosmtpd in a second process, `bench/smtp_sink.py`).

The Django path is what the workers run (`policy_notices_send`): claim a batch of due rows under
SKIP LOCKED, render each notice from its templates, send the batch over one SMTP connection
(`consent.mail.mail_send_batch_now`), record each outcome, next batch. The baseline sends the
very same mails (the bytes the sink received from the Django path, pre-rendered) with plain
`smtplib` over one connection, to a sink of its own that does the same work per message.
"""

from __future__ import annotations

import smtplib
import tempfile
from pathlib import Path

from .core import Measurement, django_queries, measure, raw, users_ensure
from .notice_schedule import version_draft, version_drop
from .smtp_sink import smtp_sink, spool_read

NAME = "notice_send"
TITLE = "Policy-notice sending (SMTP to a local sink)"
TARGET = 1.5
UNIT = "mails"
SIZES = {"smoke": 200, "small": 10_000, "large": 100_000}


def _notices_make(db, size: int) -> int:
    """A published material version with a pending notice for bench users 1..size."""
    users_ensure(db, size)
    version_id = version_draft(db, "s")
    db.execute(
        "UPDATE consent_policyversion SET published_at = now(), notices_started_at = now() "
        "WHERE id = %s",
        [version_id],
    )
    db.execute(
        "INSERT INTO consent_policynotice (version_id, user_id, state, attempts, "
        "next_attempt_at, error, created_at) SELECT %s, id, 'pending', 0, now(), '', now() "
        "FROM accounts_user WHERE username BETWEEN 'bench_0000001' AND %s AND is_active",
        [version_id, f"bench_{size:07d}"],
    )
    db.execute("ANALYZE consent_policynotice")
    return version_id


def _smtp_settings(port: int) -> dict:
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
    }


def run(size: int) -> list[Measurement]:
    from django.test import override_settings
    from django.urls import reverse

    from consent.mail import MailTemplates
    from consent.policies import NOTICE_TEMPLATE, policy_notices_send

    # What a long-running worker has done before: load the URLconf and compile the templates.
    reverse("consent:policy")
    MailTemplates.get(NOTICE_TEMPLATE)
    db = raw()
    version_id = _notices_make(db, size)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-smtp-") as folder:
            sent_by_django, sent_by_baseline = Path(folder, "django"), Path(folder, "baseline")

            django = Measurement(NAME, "django", str(size), rows=size)
            with (
                smtp_sink(sent_by_django) as sink,
                override_settings(**_smtp_settings(sink.port)),
                django_queries() as count,
                measure(django, queries=count),
            ):
                claimed, _more = policy_notices_send(version_id=version_id)
            states = dict(
                db.fetchall(
                    "SELECT state, count(*) FROM consent_policynotice WHERE version_id = %s "
                    "GROUP BY state",
                    [version_id],
                )
            )
            if states != {"sent": size} or sink.received != size:
                raise AssertionError(f"notices {states}, the sink received {sink.received}")
            django.notes.append(
                f"{claimed} notices claimed and sent; {size / max(django.queries, 1):.0f} mails "
                f"per query; spool {sent_by_django.stat().st_size / 2**20:.1f} MB"
            )

            baseline = Measurement(NAME, "baseline", str(size), rows=size)
            db.reset()
            with smtp_sink(sent_by_baseline) as sink, measure(baseline):
                smtp = smtplib.SMTP("127.0.0.1", sink.port)
                for sender, recipients, content in spool_read(sent_by_django):
                    smtp.sendmail(sender, recipients, content)
                smtp.quit()
            if sink.received != size:
                raise AssertionError(f"the baseline's sink received {sink.received} of {size}")
        return [django, baseline]
    finally:
        version_drop(db, version_id)
        db.close()
