"""How an officer sees a background job's state in admin: plain words first (what failed, what
was tried, what to do), the technical error (a Python exception, a mail server's reply) folded
away for the technical team. One helper for every job an officer follows: report packages,
policy-change notices, recipient notifications, transfers, erasures, child-data removals. Each
job's selector decides the words; this module only puts them together and shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class JobStatus:
    """`text`: plain sentences for the officer; `detail`: the technical cause, shown folded."""

    text: str
    detail: str = ""

    def __html__(self) -> str:  # what `{{ status }}` and format_html print
        if not self.detail:
            return format_html("{}", self.text)
        return format_html(
            "{}<details><summary>{}</summary><pre>{}</pre></details>",
            self.text,
            _("Technical detail (for the technical team)"),
            self.detail,
        )

    def __str__(self) -> str:
        return self.__html__()


def job_status(*parts: str, detail: str = "") -> JobStatus:
    """The sentences given (what happened, what was tried, what to do), empty ones left out."""
    return JobStatus(text=" ".join(part for part in parts if part), detail=detail)


def job_when(moment: datetime | None) -> str:
    """A moment as officers read it, in the portal's time zone."""
    return date_format(localtime(moment), "DATETIME_FORMAT") if moment else ""


def job_tries(*, attempts: int, next_at: datetime | None = None) -> str:
    """What was tried so far, and when the next automatic try is."""
    if next_at is None:
        return _("Tried %(n)s time(s).") % {"n": attempts}
    return _("Tried %(n)s time(s); the next automatic try is at %(when)s.") % {
        "n": attempts,
        "when": job_when(next_at),
    }


def job_running_status(
    *, started_at: datetime, resume_after: timedelta, tries: int = 0
) -> JobStatus:
    """A job a worker runs and the beat sweep resumes if that worker stops (an erasure, a child
    data removal): running, or stopped and about to be resumed."""
    if timezone.now() < started_at + resume_after:
        return job_status(_("Running since %(when)s.") % {"when": job_when(started_at)})
    return job_status(
        _("It stopped before it finished (its worker was interrupted or met an error)."),
        job_tries(attempts=tries) if tries else "",
        _(
            "It is resumed automatically within minutes and repeats nothing already done. If "
            "this stays for hours, ask the technical team to read the workers' log."
        ),
    )
