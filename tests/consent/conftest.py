import pytest

from consent import services
from consent.models import ConsentEvent
from dsar.registry import Subject
from tests.consent.factories import PartnerFactory
from tests.smtp_sink import SmtpSink, smtp_sink_configure


@pytest.fixture
def partners(db):
    return [
        PartnerFactory(code="northwind", name="Northwind Resellers"),
        PartnerFactory(code="contoso", name="Contoso Partners"),
    ]


def grant(subject: Subject, purpose: str, *, partner=None, method="preference_centre"):
    return services.consent_record(
        subject=subject, purpose=purpose, action="granted", method=method, partner=partner
    )


def withdraw(subject: Subject, purpose: str, *, partner=None, method="preference_centre"):
    return services.consent_record(
        subject=subject, purpose=purpose, action="withdrawn", method=method, partner=partner
    )


@pytest.fixture
def user_subject(user):
    return Subject(user_id=user.pk)


@pytest.fixture
def ledger_count():
    return lambda: ConsentEvent.objects.count()


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on loopback, up; `smtp_sink.down()` plays an outage."""
    sink = SmtpSink()
    sink.up()
    smtp_sink_configure(settings, sink)
    yield sink
    sink.down()
