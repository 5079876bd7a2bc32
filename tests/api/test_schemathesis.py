"""Schemathesis against the live schema of a running portal: pytest-django's live server (a
real HTTP server over the test database), the schema read from /api/v1/openapi.json, a
bounded number of examples per operation. With a client holding every scope: no 5xx, every
answer as the schema says (status, content type, body), bad input refused with a 4xx. With a
client holding none: nothing but refusals."""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import services
from api.models import Scope
from consent import services as consent_services
from datastores.models import SystemPart
from dsar import services as dsar_services
from dsar.registry import Subject
from tests.accounts.factories import UserFactory
from tests.datastores.systems import in_progress, webhook_system

# Two subtests (every operation) of a few examples each: about a minute on the small machine.
EXAMPLES = 12
HYPOTHESIS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


@pytest.fixture
def api_schema(live_server):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    # The token is the test's (each call sends a client's): no Authorization header generated,
    # so a "negative" case is never one whose only bad part is a header the call then replaces.
    schema.config.generation.update(with_security_parameters=False)
    return schema


@pytest.fixture
def people():
    """Somebody for the generated ids to find now and then (ids 1, 2, 3...), with a consent."""
    found = [UserFactory() for _ in range(3)]
    consent_services.consent_grant(
        subject=Subject(user_id=found[0].pk), purpose="newsletter", method="signup"
    )
    return found


@pytest.fixture
def part(people):
    """A connected system's part of an erasure, waiting for the system to confirm it."""
    endpoint, _secret = dsar_services.webhook_endpoint_create(
        url="http://127.0.0.1:9/hooks", events=["erasure.due"], actor=None
    )
    request = in_progress(people[1], "erasure")
    return SystemPart.objects.create(
        request=request, system=webhook_system(endpoint), kind="erasure", state="waiting"
    )


@pytest.fixture
def every_scope(part):
    """A client with every scope, that is the connected system of `part`."""
    return services.api_client_create(
        name="schemathesis", scopes=list(Scope.values), rate_limit="100000/m", system=part.system
    )[1]


@pytest.fixture
def no_scope(people):
    return services.api_client_create(name="nothing", scopes=[], rate_limit="100000/m")[1]


def each_operation(schema, check, mode: schemathesis.GenerationMode, part=None) -> list[str]:
    """Run `check` on a few generated cases of every operation of the schema (Hypothesis, with
    Schemathesis's strategies); the operations run, by their label. Positive cases also come
    from the schema's examples and, where a purpose is asked in the query, with a real one, and
    where a system's part of a request is named in the path, with `part`: so answers, not only
    refusals, are checked against the schema."""
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        strategies = [operation.as_strategy(generation_mode=mode)]
        if mode == schemathesis.GenerationMode.POSITIVE:
            strategies += operation.get_strategies_from_examples()
            if any(p.name == "purpose" for p in operation.query):
                strategies.append(operation.as_strategy(query={"purpose": "newsletter"}))
            if part is not None and {"request_id", "system_id"} <= {
                p.name for p in operation.path_parameters
            }:
                # An erasure part: generated data for it is rightly refused (an access part's),
                # so this case confirms with what an erasure's confirmation holds.
                path = {"request_id": str(part.request.public_id), "system_id": part.system_id}
                body = {"confirmation": "Erased.", "counts": {"contacts": 1}}
                strategies.append(operation.as_strategy(path_parameters=path, body=body))

        @HYPOTHESIS
        @given(case=st.one_of(strategies))
        def run(case):
            check(case)

        run()
        labels.append(operation.label)
    return labels


OPERATIONS = 17  # 9 about people and requests, 8 about webhook subscriptions


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_the_api_keeps_its_schema(api_schema, every_scope, part, mode, live_server):
    statuses = []

    def check(case):
        # Data the schema allows may still name nothing we have (a purpose code, a partner, an
        # account): a 400 or 404 problem is then right, so "positive data is accepted" is not
        # one of ours.
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {every_scope}"},
            excluded_checks=[positive_data_acceptance],
        )
        statuses.append(response.status_code)

    assert len(each_operation(api_schema, check, mode, part)) == OPERATIONS
    assert len(statuses) >= OPERATIONS * 3
    assert max(statuses) < 500
    if mode == schemathesis.GenerationMode.POSITIVE:
        assert any(200 <= s < 300 for s in statuses), statuses  # real answers, not only refusals
        part.refresh_from_db()
        assert part.state == "done"  # the system's confirmation, answered as the schema says
    else:
        assert all(400 <= s < 500 for s in statuses), statuses
    # What the run made (webhook endpoints, switched off or not) leaves the key working.
    after = requests.get(
        f"{live_server.url}/api/v1/contact",
        params={"purpose": "newsletter", "user_id": 1},
        headers={"Authorization": f"Bearer {every_scope}"},
        timeout=10,
    )
    assert after.status_code in (200, 404), after.text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_scopes_nothing_is_shown(api_schema, no_scope):
    def check(case):
        response = case.call(headers={"Authorization": f"Bearer {no_scope}"})
        # The input is read first (400 for bad input), then the scope (403): never an answer.
        assert response.status_code in (400, 403), (response.status_code, response.text[:300])
        assert response.headers["content-type"] == ["application/problem+json"]

    assert len(each_operation(api_schema, check, schemathesis.GenerationMode.POSITIVE)) == (
        OPERATIONS
    )
