"""The Python example of docs/webhooks.md, run as a receiving system would run it, on real
deliveries from the portal: it accepts them, handles each event once, and refuses a forgery."""

import re

import pytest

from consent.services import consent_grant
from dsar import services
from dsar.registry import Subject
from tests.conftest import ROOT

from .webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


def docs_example() -> str:
    text = (ROOT / "docs" / "webhooks.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    return code


def test_the_documented_receiver_verifies_real_deliveries_and_handles_each_once(
    user, monkeypatch, celery_eager, django_capture_on_commit_callbacks
):
    receiver = Receiver().start()
    try:
        endpoint, secret = services.webhook_endpoint_create(
            url=receiver.url, events=["consent.changed"], actor=None
        )
        receiver.secret = secret
        with django_capture_on_commit_callbacks(execute=True):
            consent_grant(
                subject=Subject(user_id=user.pk), purpose="newsletter", method="preference_centre"
            )
        (body, headers), *_ = receiver.raw
    finally:
        receiver.stop()

    monkeypatch.setenv("WORKPEX_WEBHOOK_SECRET", secret)
    handled = []
    example = {"handle": handled.append}
    exec(compile(docs_example(), "docs/webhooks.md", "exec"), example)  # noqa: S102
    receive = example["receive"]
    assert receive(body, headers) == 204
    assert receive(body, headers) == 204  # a retry: accepted, not handled again
    assert [event["type"] for event in handled] == ["consent.changed"]
    forged = body.replace(b'"granted"', b'"withdrawn"')
    assert receive(forged, headers) == 400
    assert len(handled) == 1
