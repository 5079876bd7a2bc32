"""Factories for the accounts app's models (factory_boy). Rows the tests need as they are;
anything a service decides (a removal's state change, an access window's checks) the tests make
through the service instead."""

from datetime import date

import factory
from allauth.account.models import EmailAddress

from accounts.models import ChildDataReport, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    full_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    company_name = factory.Faker("company")
    country = "IE"
    date_of_birth = date(1990, 1, 15)
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class ChildDataReportFactory(factory.django.DjangoModelFactory):
    """A report as the public form leaves it: waiting for review."""

    class Meta:
        model = ChildDataReport

    reporter_email = factory.Sequence(lambda n: f"reporter{n}@example.net")
    child_name = "Kim Young"
