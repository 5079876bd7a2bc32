"""What the accounts app (and the account-related models of allauth, admin and sessions) holds
about people: its entries in the personal-data registry."""

from datetime import timedelta

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q

from dsar.registry import ErasureStrategy, Source, no_personal_data, personal_data

from .models import ChildDataReport, User, UserSession
from .services import RECTIFIABLE_FIELDS, user_rectify

ACCOUNT_RETENTION = "While you have an account; erased when you or we close it."


def _rectify_user(subject, field: str, value: str) -> None:
    user_rectify(user=User.objects.get(pk=subject.user_id), field=field, value=value)


def _admin_log_rows(subject):
    user_type = ContentType.objects.get_for_model(User)
    rows = Q(content_type=user_type, object_id=str(subject.user_id))
    return LogEntry.objects.filter(rows) if subject.user_id is not None else LogEntry.objects.none()


personal_data(
    User,
    category="Account and profile",
    purpose="To set up and run your account, support you, and keep it secure.",
    source=Source.PROVIDED,
    retention=ACCOUNT_RETENTION,
    recipients=("Workpex staff on a need-to-know basis",),
    export_fields=(
        "username",
        "full_name",
        "email",
        "phone",
        "company_name",
        "country",
        "date_of_birth",
        "time_zone",
        "language",
        "photo",
        "security_question",
        "date_joined",
        "last_login",
    ),
    erasure=ErasureStrategy.DELETE,
    user_field="pk",
    erase_order=100,  # last: other rows point at the user
    rectifiable_fields=RECTIFIABLE_FIELDS,
    rectify=_rectify_user,
)
personal_data(
    EmailAddress,
    category="Account and profile",
    purpose="To sign you in, verify your address and send you account mail.",
    source=Source.PROVIDED,
    retention=ACCOUNT_RETENTION,
    recipients=("Our email delivery provider",),
    export_fields=("email", "verified", "primary"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    email_field="email",
    erase_order=60,
)
personal_data(
    EmailConfirmation,
    category="Account and profile",
    purpose="To confirm that an email address is yours.",
    source=Source.AUTOMATIC,
    retention="Until the address is confirmed or the link expires.",
    recipients=(),
    export_fields=("created", "sent"),
    erasure=ErasureStrategy.DELETE,
    user_field="email_address__user",
    email_field="email_address__email",
    erase_order=55,
)
personal_data(
    Authenticator,
    category="Sign-in security",
    purpose="Two-factor authentication for your account.",
    source=Source.PROVIDED,
    retention=ACCOUNT_RETENTION,
    recipients=(),
    export_fields=("type", "created_at", "last_used_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    erase_order=60,
)
personal_data(
    UserSession,
    category="Sign-in security",
    purpose="To keep you signed in.",
    source=Source.AUTOMATIC,
    retention="Until you sign out or the session expires (two weeks at most).",
    recipients=(),
    export_fields=("expire_date",),
    export_row_id=False,  # the key would let anyone holding the report sign in as the person
    erasure=ErasureStrategy.DELETE,
    user_field="user_id",
    # Expired sessions hold nothing useful: the daily retention sweep deletes them.
    retention_field="expire_date",
    retention_period=timedelta(0),
    erase_order=60,
)
personal_data(
    LogEntry,
    category="Staff actions on your account",
    purpose="A record of changes staff made to your account in the admin.",
    source=Source.AUTOMATIC,
    retention=ACCOUNT_RETENTION,
    recipients=("Workpex staff on a need-to-know basis",),
    export_fields=("action_time", "action_flag", "change_message"),
    erasure=ErasureStrategy.ANONYMISE,
    anonymise={"object_repr": "[erased]", "change_message": ""},
    subject_rows=_admin_log_rows,
    erase_order=40,
)


def _child_report_rows(subject):
    """Reports the person made, and reports about them, except one whose removal is running:
    that row is the removal's own job, and the job clears the child's details when it closes."""
    about = Q()
    if subject.email:
        about |= Q(reporter_email__iexact=subject.email) | Q(child_email__iexact=subject.email)
        about |= Q(erase_email__iexact=subject.email) | Q(erase_extra_email__iexact=subject.email)
    if subject.user_id is not None:
        about |= Q(user_id=subject.user_id) | Q(erase_user_id=subject.user_id)
    if not about:
        return ChildDataReport.objects.none()
    running = [ChildDataReport.State.CONFIRMED, ChildDataReport.State.REMOVING]
    return ChildDataReport.objects.filter(about).exclude(state__in=running)


personal_data(
    ChildDataReport,
    category="Reports about children's data",
    purpose=(
        "To remove information given to us by children under 16, and to tell the person who "
        "reported it what we did."
    ),
    source=Source.PROVIDED,
    retention=(
        "The details about the child are deleted as soon as the report is closed; the report "
        "itself (who reported it, the outcome) one year after it is closed."
    ),
    recipients=("Workpex privacy officers",),
    export_fields=(
        "source",
        "state",
        "reporter_name",
        "reporter_email",
        "relationship",
        "child_name",
        "child_email",
        "child_username",
        "details",
        "created_at",
        "decision_reason",
        "closed_at",
    ),
    erasure=ErasureStrategy.DELETE,
    subject_rows=_child_report_rows,
    retention_field="closed_at",
    retention_period=timedelta(days=365),
    erase_order=20,
)
no_personal_data(Session, reason="Not used: sessions live in accounts.UserSession.")
