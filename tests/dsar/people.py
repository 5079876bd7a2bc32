"""Realistic data subjects for the export and erasure tests: a person with something in every
registered model that an account can fill, built through the services where there is one."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import User, UserSession
from accounts.services import user_photo_set
from dsar.models import ProcessingBlock
from dsar.registry import Subject
from dsar.services import processing_block_add
from tests.accounts.factories import UserFactory


def jpeg_upload(name: str = "me.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


@dataclass
class Person:
    user: User
    session: UserSession
    log_entry: LogEntry
    block: ProcessingBlock
    email_block: ProcessingBlock

    @property
    def subject(self) -> Subject:
        return Subject(user_id=self.user.pk, email=self.user.email)

    @property
    def needles(self) -> list[str]:
        return [self.user.email, self.user.full_name, self.user.phone.as_e164]


def make_person(*, username: str, full_name: str, phone: str, staff: User) -> Person:
    """A user with a photo, a verified address and a pending confirmation, an authenticator, a
    session, a change staff made in the admin, a restriction, and an objection filed by email."""
    user = UserFactory(
        username=username, full_name=full_name, phone=phone, email=f"{username}@example.org"
    )
    user_photo_set(user=user, upload=jpeg_upload())
    address = EmailAddress.objects.get(user=user)
    EmailConfirmation.objects.create(
        email_address=address, key=secrets.token_hex(16), sent=timezone.now()
    )
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.RECOVERY_CODES, data={"seed": secrets.token_hex(8)}
    )
    session = UserSession.objects.create(
        session_key=secrets.token_hex(16),
        session_data="opaque",
        expire_date=timezone.now() + timedelta(days=14),
        user_id=user.pk,
    )
    log_entry = LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr=str(user),
        action_flag=CHANGE,
        change_message=f"Changed phone number of {full_name} to {phone}.",
    )
    block = processing_block_add(
        kind=ProcessingBlock.Kind.RESTRICTION,
        subject=Subject(user_id=user.pk),
        # Not the person's name: the service copies the reason into the audit log (see
        # test_erasure.test_a_reason_naming_the_person_does_not_survive_erasure).
        reason="Disputes the accuracy of the phone number we hold.",
        # One use, not all: the person still pays with their stored card (tests/dsar/erasees.py).
        purpose="behaviour_analytics",
    )
    email_block = processing_block_add(
        kind=ProcessingBlock.Kind.OBJECTION,
        subject=Subject(email=user.email.upper()),
        purpose="direct_marketing",
    )
    return Person(user, session, log_entry, block, email_block)
