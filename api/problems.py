"""Errors as RFC 9457 problem details (`application/problem+json`): every refusal of the API
has one shape, and nothing a caller sends ends in a 500."""

from __future__ import annotations

import json
from datetime import datetime
from http import HTTPStatus

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from ninja import errors as ninja_errors

from .services import api_call_refusal_audit

PROBLEM_TYPE = "application/problem+json"


class Problem(Exception):
    """A refusal with its HTTP status and a sentence for the caller."""

    def __init__(self, status: int, detail: str, *, errors: list | None = None, headers=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class ScopeMissing(Problem):
    def __init__(self, scope: str):
        super().__init__(403, f"This client does not have the scope {str(scope)}.")
        self.scope = scope


class RateLimited(Problem):
    def __init__(self, until: datetime, now: datetime):
        wait = max(1, int((until - now).total_seconds() + 0.999))
        super().__init__(
            429,
            f"This client made too many calls; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )


def problem_response(problem: Problem, instance: str = "") -> HttpResponse:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    if problem.errors:
        body["errors"] = problem.errors
    response = HttpResponse(json.dumps(body), status=problem.status, content_type=PROBLEM_TYPE)
    for name, value in problem.headers.items():
        response[name] = value
    if problem.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _input_errors(errors) -> list[dict]:
    """Pydantic's errors without the input echoed back (it may be a person's address)."""
    return [
        {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in errors
    ]


def _service_message(error: DjangoValidationError) -> str:
    return " ".join(str(m) for m in error.messages) or "The request was refused."


def _refusal_audit(request, status: int) -> None:
    """A call that had its scope but was refused (bad input, nobody there) is audited too:
    the client, the scope, the operation and the status (the person may not even exist)."""
    call = getattr(request, "api_call", None)
    if call is not None:
        api_call_refusal_audit(call=call, status=status)


def handlers_install(api) -> None:
    """Every error the API can meet, as a problem: bad input (400), a missing or wrong token
    (401), a missing scope (403), nothing there (404), too many calls (429)."""

    def on_problem(request, exc: Problem):
        if not isinstance(exc, ScopeMissing):  # audited where it is refused (api.auth)
            _refusal_audit(request, exc.status)
        return problem_response(exc, request.path)

    def on_input(request, exc: ninja_errors.ValidationError):
        return problem_response(
            Problem(400, "The request is not valid.", errors=_input_errors(exc.errors)),
            request.path,
        )

    def on_service(request, exc: DjangoValidationError):
        _refusal_audit(request, 400)
        return problem_response(Problem(400, _service_message(exc)), request.path)

    def on_auth(request, exc):
        return problem_response(
            Problem(401, "Send a valid client token: Authorization: Bearer wpx_…"), request.path
        )

    def on_http(request, exc: ninja_errors.HttpError):
        return problem_response(Problem(exc.status_code, str(exc)), request.path)

    def on_missing(request, exc):
        return problem_response(Problem(404, "There is nothing here."), request.path)

    api.add_exception_handler(Problem, on_problem)
    api.add_exception_handler(ninja_errors.ValidationError, on_input)
    api.add_exception_handler(DjangoValidationError, on_service)
    api.add_exception_handler(ninja_errors.AuthenticationError, on_auth)
    api.add_exception_handler(ninja_errors.HttpError, on_http)
    api.add_exception_handler(Http404, on_missing)


def openapi_problems(schema: dict) -> dict:
    """Ninja documents every response as application/json: the errors are problem details."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if int(status) >= 400 and "application/json" in content:
                    content[PROBLEM_TYPE] = content.pop("application/json")
    return schema
