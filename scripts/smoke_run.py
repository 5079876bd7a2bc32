"""Smoke test of `make run` as a newcomer would use it (called by .ci/run).

Starts `make run` on a spare port, waits for /healthz to be 200, signs a user up over HTTP, checks
that a worker has run a task (the heartbeat /healthz reports), and stops everything it started
by its process group.
"""

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("SMOKE_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
STARTUP_TIMEOUT = 300


def log(message: str) -> None:
    print(f"smoke: {message}", flush=True)


def fetch(opener, path: str, data: dict | None = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    # Always our own http://127.0.0.1 server.
    request = urllib.request.Request(BASE + path, data=body, headers={"Referer": BASE + path})  # noqa: S310
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.geturl(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, BASE + path, error.read().decode()


def wait_for_health(opener, process, started: datetime) -> dict:
    """Wait for /healthz to be 200 with a heartbeat that a worker recorded after `started`."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"smoke: `make run` exited early with code {process.returncode}")
        try:
            status, _, body = fetch(opener, "/healthz")
            last = f"{status} {body}"
            if status == 200:
                health = json.loads(body)
                seen = [datetime.fromisoformat(t) for t in health["workers"]["workers"].values()]
                if any(t >= started for t in seen):
                    return health
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(2)
    raise SystemExit(f"smoke: /healthz was not 200 within {STARTUP_TIMEOUT}s (last: {last})")


def sign_up(opener) -> None:
    status, _, page = fetch(opener, "/accounts/signup/")
    assert status == 200, f"signup page answered {status}"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    username = f"smoke{int(time.time())}"
    status, url, page = fetch(
        opener,
        "/accounts/signup/",
        {
            "csrfmiddlewaretoken": token,
            "full_name": "Smoke Test",
            "email": f"{username}@example.com",
            "company_name": "Smoke Ltd",
            "country": "IE",
            "date_of_birth": "1990-01-01",
            "username": username,
            "password1": "smoke-test-passphrase-42",
            "password2": "smoke-test-passphrase-42",
        },
    )
    assert status == 200 and url.endswith("/accounts/confirm-email/"), (
        f"signup did not lead to the email confirmation page: {status} {url}"
    )
    log(f"signed up {username}; the confirmation page was shown")


def plain_errors_and_static(opener) -> None:
    """DEBUG is off by default: a 404 is the plain page, and static files are still served."""
    status, _, page = fetch(opener, "/no-such-page-for-the-smoke-test/")
    assert status == 404, f"an unknown URL answered {status}"
    assert "URLconf" not in page and "DEBUG = True" not in page, "the debug 404 page is shown"
    status, _, page = fetch(opener, "/")
    css = re.search(r'href="(/static/[^"]+\.css)"', page)
    assert css, "the home page links no stylesheet"
    status, _, _ = fetch(opener, css.group(1))
    assert status == 200, f"{css.group(1)} answered {status}"
    log("an unknown URL gets the plain 404 page; static files are served")


def stop(process) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> int:
    env = {**os.environ, "PORTAL_PORT": str(PORT), "DEMO_USERS": "50"}
    started = datetime.now(UTC)
    log(f"starting `make run` on port {PORT}")
    process = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, start_new_session=True)
    try:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        health = wait_for_health(opener, process, started)
        log(f"/healthz is 200: {json.dumps(health)}")
        workers = health["workers"]["workers"]
        assert any(name.startswith("embedded-worker@") for name in workers), workers
        log("a worker of this run ran the heartbeat task")
        plain_errors_and_static(opener)
        sign_up(opener)
    finally:
        stop(process)
        log("stopped `make run` and its processes")
    log("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
