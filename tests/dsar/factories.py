"""Factories for the dsar app's models (factory_boy). Requests are filed through
`dsar.services.dsar_request_file` where the filing itself matters; this makes rows in a state
the test names (the officer's desk, sweeps)."""

import factory
from django.utils import timezone

from dsar.deadlines import add_months
from dsar.models import DataSubjectRequest, ExportFile, RequestKind, RequestState
from tests.accounts.factories import UserFactory


class DataSubjectRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataSubjectRequest

    kind = RequestKind.ACCESS
    state = RequestState.IN_PROGRESS
    user = factory.SubFactory(UserFactory)
    received_at = factory.LazyFunction(timezone.now)
    verified_at = factory.SelfAttribute("received_at")
    original_due_at = factory.LazyAttribute(lambda r: add_months(r.received_at, 1))
    due_at = factory.SelfAttribute("original_due_at")


class ExportFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportFile

    request = factory.SubFactory(DataSubjectRequestFactory)
    kind = "access"
    state = "ready"
