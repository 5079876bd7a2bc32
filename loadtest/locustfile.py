"""Locust users for the load test (run by loadtest/run.py, headless, in its own process).

Account holders sign in (allauth's form, CSRF and session cookie like a browser), look at the
privacy dashboard, file privacy requests and sometimes sign out and in again; visitors sign up
and use one-click unsubscribe links (RFC 8058 POST). Every request's status is counted, and what
the portal accepted is written down (who signed up, whose unsubscribe, which request), so that
the runner can check afterwards that each accepted write is in the database.

Environment: LOADTEST_RUN (a run id, part of every name written), LOADTEST_PASSWORD,
LOADTEST_LOGIN_USERS (how many seeded users, user0000001…, may sign in), LOADTEST_TOKENS (a file:
"user_id token" per line), LOADTEST_SUMMARY (where the JSON summary goes).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import Counter, defaultdict

from locust import HttpUser, between, events, task

RUN = os.environ.get("LOADTEST_RUN", "manual")
PASSWORD = os.environ.get("LOADTEST_PASSWORD", "workpex-demo-2026")
LOGIN_USERS = int(os.environ.get("LOADTEST_LOGIN_USERS", "20"))
SUMMARY = os.environ.get("LOADTEST_SUMMARY", "loadtest-summary.json")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REQUEST_PAGE = re.compile(r"^/privacy/requests/[0-9a-f-]{36}/$")
REQUEST_KINDS = ["access", "portability", "erasure", "restriction", "objection"]


def _tokens() -> list[tuple[int, str]]:
    path = os.environ.get("LOADTEST_TOKENS")
    if not path:
        return []
    with open(path) as lines:
        return [(int(user_id), token) for user_id, token in (line.split() for line in lines)]


TOKENS = _tokens()
_token_turn = itertools.count()
_login_turn = itertools.count()
_serial = itertools.count(1)

statuses: dict[str, Counter] = defaultdict(Counter)
times: dict[str, list[float]] = defaultdict(list)
unexpected: list[dict] = []
accepted: dict[str, list] = {"signup": [], "unsubscribe": [], "request": [], "login": []}


@events.request.add_listener
def _count(request_type, name, response_time, response, exception, **kwargs):
    code = getattr(response, "status_code", 0) or 0
    statuses[name][str(code)] += 1
    times[name].append(response_time)


@events.quitting.add_listener
def _write_summary(environment, **kwargs):
    with open(SUMMARY, "w") as out:
        json.dump(
            {"statuses": statuses, "times": times, "unexpected": unexpected, "accepted": accepted},
            out,
        )


def _expect(response, status: int, *, location: re.Pattern | str | None = None) -> bool:
    """Mark the response failed (and note it) unless it has `status` (and a matching
    Location for redirects)."""
    ok = response.status_code == status
    if ok and location is not None:
        target = response.headers.get("Location", "")
        ok = (
            bool(location.match(target))
            if isinstance(location, re.Pattern)
            else (target.startswith(location))
        )
    if not ok:
        note = {
            "name": response.request_meta["name"],
            "status": response.status_code,
            "location": response.headers.get("Location", ""),
        }
        if len(unexpected) < 50:
            unexpected.append(note)
        response.failure(f"expected {status}, got {response.status_code}")
    return ok


def _csrf(response) -> str:
    found = CSRF.search(response.text)
    return found.group(1) if found else ""


class AccountHolder(HttpUser):
    """A seeded account holder: signs in, watches the dashboard, files requests."""

    weight = 3
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.login()

    def login(self):
        number = next(_login_turn) % LOGIN_USERS + 1
        username = f"user{number:07d}"
        form = self.client.get("/accounts/login/", name="login form")
        with self.client.post(
            "/accounts/login/",
            data={"login": username, "password": PASSWORD, "csrfmiddlewaretoken": _csrf(form)},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as response:
            if _expect(response, 302):
                accepted["login"].append(username)

    @task(5)
    def dashboard(self):
        with self.client.get("/privacy/", name="dashboard", catch_response=True) as response:
            _expect(response, 200)

    @task(2)
    def file_request(self):
        form = self.client.get("/privacy/requests/new/", name="request form")
        marker = f"loadtest {RUN} request {next(_serial)}"
        with self.client.post(
            "/privacy/requests/new/",
            data={
                "kind": random.choice(REQUEST_KINDS),
                "details": marker,
                # A restriction or an objection names the uses it stops (ignored for the others).
                "purposes": "all",
                "csrfmiddlewaretoken": _csrf(form),
            },
            allow_redirects=False,
            name="file request",
            catch_response=True,
        ) as response:
            if _expect(response, 302, location=REQUEST_PAGE):
                accepted["request"].append(marker)

    @task(1)
    def sign_out_and_in(self):
        page = self.client.get("/privacy/", name="dashboard")
        with self.client.post(
            "/accounts/logout/",
            data={"csrfmiddlewaretoken": _csrf(page)},
            allow_redirects=False,
            name="logout",
            catch_response=True,
        ) as response:
            _expect(response, 302)
        self.login()


class Visitor(HttpUser):
    """Someone without a session: signs up, or clicks one-click unsubscribe in a mail client."""

    weight = 2
    wait_time = between(0.5, 1.5)

    @task(3)
    def unsubscribe(self):
        if not TOKENS:
            return
        user_id, token = TOKENS[next(_token_turn) % len(TOKENS)]
        with self.client.post(
            f"/unsubscribe/{token}/",
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            name="unsubscribe (one-click)",
            catch_response=True,
        ) as response:
            if _expect(response, 200):
                accepted["unsubscribe"].append(user_id)

    @task(1)
    def signup(self):
        self.client.cookies.clear()
        form = self.client.get("/accounts/signup/", name="signup form")
        username = f"lt_{RUN}_{next(_serial)}"
        with self.client.post(
            "/accounts/signup/",
            data={
                "full_name": "Load Test Person",
                "email": f"{username}@loadtest.invalid",
                "phone": "",
                "company_name": "Load Test Ltd",
                "country": "IE",
                "date_of_birth": "1990-04-01",
                "username": username,
                "password1": PASSWORD,
                "password2": PASSWORD,
                "csrfmiddlewaretoken": _csrf(form),
            },
            allow_redirects=False,
            name="signup",
            catch_response=True,
        ) as response:
            if _expect(response, 302, location="/accounts/confirm-email/"):
                accepted["signup"].append(username)
