"""Factories for the consent app's models (factory_boy)."""

from datetime import timedelta

import factory
from django.utils import timezone

from consent.models import FormSubmission, Partner, PolicyVersion


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"partner{n}")
    name = factory.LazyAttribute(lambda p: f"{p.code.title()} Partners")


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    """A draft version; publishing goes through `consent.services.policy_version_publish`."""

    class Meta:
        model = PolicyVersion

    version = factory.Sequence(lambda n: f"9.{n}")
    text = "# Privacy policy\n\nThe text."
    is_material = False
    effective_at = factory.LazyFunction(timezone.now)


class FormSubmissionFactory(factory.django.DjangoModelFactory):
    """A form as a visitor sends it (no account), kept for 30 days."""

    class Meta:
        model = FormSubmission

    kind = "contact_request"
    email = factory.Sequence(lambda n: f"visitor{n}@example.com")
    name = "Walk In"
    retain_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
