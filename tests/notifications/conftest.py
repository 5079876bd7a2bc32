import secrets

import pytest

from dsar.registry import Subject
from notifications.services import device_register
from tests.accounts.factories import UserFactory


def apple_token() -> str:
    return secrets.token_hex(32)


def google_token() -> str:
    return "f" + secrets.token_urlsafe(40) + ":APA91b" + secrets.token_urlsafe(80)


def windows_token() -> str:
    return "https://db5p.notify.windows.com/?token=" + secrets.token_urlsafe(60)


def register(user, platform="apple", token=None, name="Phone"):
    token = (
        token
        or {"apple": apple_token, "google": google_token, "windows": windows_token}[platform]()
    )
    return device_register(user=user, platform=platform, token=token, name=name)[0]


def subject_of(user) -> Subject:
    return Subject(user_id=user.pk)


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def other(db):
    return UserFactory()
