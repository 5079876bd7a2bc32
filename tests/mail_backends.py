"""Test-only mail backends (the production code has no hooks for tests).

`RecordingBackend` writes each message it accepts to its own file in a folder, so tests can count
deliveries exactly, across several worker processes. Environment variables (read by the workers
the reliability tests start) make it misbehave on purpose:

- `TEST_MAIL_DIR`: the folder (required);
- `TEST_MAIL_DELAY`: seconds to wait before each hand-over (a slow mail server);
- `TEST_MAIL_BLOCK_AT`: the n-th hand-over, counted over every process sharing the folder, never
  completes: the backend writes `<dir>/blocked` and hangs, "inside the SMTP call" before the
  server accepted the message, until the test kills the worker.

`FlakyBackend` is for in-process tests: it raises the errors listed in `FlakyBackend.script`.
"""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from email import message_from_bytes
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


def _next_handover(folder: Path) -> int:
    with open(folder / ".counter", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        count = int(handle.read() or 0) + 1
        handle.seek(0)
        handle.truncate()
        handle.write(str(count))
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)
    return count


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["TEST_MAIL_DIR"])
        delay = float(os.environ.get("TEST_MAIL_DELAY", "0") or 0)
        block_at = int(os.environ.get("TEST_MAIL_BLOCK_AT", "0") or 0)
        sent = 0
        for message in email_messages:
            if delay:
                time.sleep(delay)
            if block_at and _next_handover(folder) == block_at:
                (folder / "blocked").write_text(str(os.getpid()))
                time.sleep(3600)  # until the test kills this worker
            data = message.message()
            data["X-Test-Worker-Pid"] = str(os.getpid())
            name = uuid.uuid4().hex
            temporary = folder / f".{name}.tmp"
            temporary.write_bytes(data.as_bytes())
            temporary.rename(folder / f"{name}.eml")  # appears whole, or not at all
            sent += 1
        return sent


def read_deliveries(folder: Path) -> list[dict]:
    """Every delivered message: to, subject, message_id, pid."""
    deliveries = []
    for path in sorted(folder.glob("*.eml")):
        parsed = message_from_bytes(path.read_bytes())
        deliveries.append(
            {
                "to": parsed["To"],
                "subject": parsed["Subject"],
                "message_id": parsed["Message-ID"],
                "pid": parsed["X-Test-Worker-Pid"],
            }
        )
    return deliveries


class FlakyBackend(BaseEmailBackend):
    """Fails the addresses in `script` ({address: [exception, ...]}: one per try, then sends),
    and records what it sent in `FlakyBackend.sent`."""

    script: dict[str, list[Exception]] = {}
    sent: list = []

    def send_messages(self, email_messages):
        for message in email_messages:
            pending = self.script.get(message.to[0])
            if pending:
                raise pending.pop(0)
            FlakyBackend.sent.append(message)
        return len(email_messages)


def mailed_path(body: str, marker: str) -> str:
    """The path (and query) of the first link in a mail's text that contains `marker`, whatever
    host and port the link is on (mail links are built on SITE_URL)."""
    import re

    return url_path(next(url for url in re.findall(r"https?://\S+", body) if marker in url))


def url_path(url: str) -> str:
    """The path (and query) of an absolute link, for the test client, whatever host and port
    SITE_URL gives it."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
