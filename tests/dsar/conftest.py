"""The people the erasure tests erase (and the one who must be left alone)."""

import pytest

from tests.accounts.factories import UserFactory

from .people import make_person
from .webhook_receiver import receiver  # noqa: F401  (a receiving system that is up)


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, full_name="Staff Member")


@pytest.fixture
def ada(staff):
    return make_person(username="ada", full_name="Ada Lovelace", phone="+353861234567", staff=staff)


@pytest.fixture
def grace(staff):
    return make_person(
        username="grace", full_name="Grace Hopper", phone="+353871112222", staff=staff
    )
