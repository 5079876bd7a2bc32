"""What the accounts app (and the account-related models of allauth, admin and sessions) holds
about people: its entries in the personal-data registry."""

from datetime import timedelta

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils.translation import gettext_noop

from dsar.registry import (
    SERVICE_DATA_CATEGORY,
    ErasureStrategy,
    Source,
    email_in,
    no_personal_data,
    personal_data,
    values_in,
)

from .models import (
    ChildDataReport,
    IntegrationGrant,
    Invoice,
    PaymentMethod,
    StaffAccessWindow,
    Testimonial,
    User,
    UserSession,
    Workspace,
    WorkspaceMember,
    WorkspaceRecord,
)
from .services import RECTIFIABLE_FIELDS, user_rectify
from .workspaces import workspace_records_for_owner, workspace_records_for_owners


def _rectify_user(subject, field: str, value: str) -> None:
    user_rectify(user=User.objects.get(pk=subject.user_id), field=field, value=value)


def _admin_log_rows(subject):
    user_type = ContentType.objects.get_for_model(User)
    rows = Q(content_type=user_type, object_id=str(subject.user_id))
    return LogEntry.objects.filter(rows) if subject.user_id is not None else LogEntry.objects.none()


def _admin_log_rows_many(subjects):
    """`_admin_log_rows` for many subjects in one condition."""
    ids = sorted({str(s.user_id) for s in subjects if s.user_id is not None})
    if not ids:
        return LogEntry.objects.none()
    user_type = ContentType.objects.get_for_model(User)
    return LogEntry.objects.filter(values_in("object_id", ids), content_type=user_type)


personal_data(
    User,
    activity="account",
    category=gettext_noop("Account and profile"),
    source=Source.PROVIDED,
    export_fields=(
        "username",
        "full_name",
        "email",
        "phone",
        "company_name",
        "country",
        "region",
        "date_of_birth",
        "time_zone",
        "language",
        "photo",
        "security_question",
        "date_joined",
        "last_login",
    ),
    # The security question and the last sign-in protect the account: sign-in security.
    field_activities={"security_question": "sign_in", "last_login": "sign_in"},
    erasure=ErasureStrategy.DELETE,
    user_field="pk",
    erase_order=100,  # last: other rows point at the user
    rectifiable_fields=RECTIFIABLE_FIELDS,
    rectify=_rectify_user,
)
personal_data(
    EmailAddress,
    activity="account",
    category=gettext_noop("Account and profile"),
    source=Source.PROVIDED,
    export_fields=("email", "verified", "primary"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    email_field="email",
    erase_order=60,
)
personal_data(
    EmailConfirmation,
    activity="account",
    category=gettext_noop("Account and profile"),
    source=Source.AUTOMATIC,
    export_fields=("created", "sent"),
    erasure=ErasureStrategy.DELETE,
    user_field="email_address__user",
    email_field="email_address__email",
    erase_order=55,
)
personal_data(
    Authenticator,
    activity="sign_in",
    category=gettext_noop("Sign-in security"),
    source=Source.PROVIDED,
    export_fields=("type", "created_at", "last_used_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    erase_order=60,
)
personal_data(
    UserSession,
    activity="sign_in",
    category=gettext_noop("Sign-in security"),
    source=Source.AUTOMATIC,
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
    activity="accountability",
    category=gettext_noop("Staff actions on your account"),
    source=Source.AUTOMATIC,
    export_fields=("action_time", "action_flag", "change_message"),
    erasure=ErasureStrategy.ANONYMISE,
    anonymise={"object_repr": "[erased]", "change_message": ""},
    subject_rows=_admin_log_rows,
    subjects_rows=_admin_log_rows_many,
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


def _child_report_rows_many(subjects):
    """`_child_report_rows` for many subjects in one condition."""
    emails = sorted({s.email for s in subjects if s.email})
    user_ids = sorted({s.user_id for s in subjects if s.user_id is not None})
    about = Q()
    for name in ("reporter_email", "child_email", "erase_email", "erase_extra_email"):
        if emails:
            about |= email_in(name, emails)
    if user_ids:
        about |= values_in("user_id", user_ids) | values_in("erase_user_id", user_ids)
    if not about:
        return ChildDataReport.objects.none()
    running = [ChildDataReport.State.CONFIRMED, ChildDataReport.State.REMOVING]
    return ChildDataReport.objects.filter(about).exclude(state__in=running)


personal_data(
    ChildDataReport,
    activity="child_reports",
    category=gettext_noop("Reports about children's data"),
    source=Source.PROVIDED,
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
    subjects_rows=_child_report_rows_many,
    retention_field="closed_at",
    retention_period=timedelta(days=365),
    erase_order=20,
)
no_personal_data(Session, reason="Not used: sessions live in accounts.UserSession.")

personal_data(
    PaymentMethod,
    activity="stored_payment_method",
    category=gettext_noop("Payments"),
    source=Source.PROVIDED,
    export_fields=(
        "cardholder_name",
        "billing_line1",
        "billing_line2",
        "billing_city",
        "billing_postal_code",
        "billing_country",
        "expiry_month",
        "expiry_year",
        "last4",
        "brand",
        "created_at",
    ),
    erasure=ErasureStrategy.DELETE,  # the encrypted token goes with the row
    user_field="user",
    erase_order=30,
)
personal_data(
    Invoice,
    activity="billing",
    category=gettext_noop("Payments"),
    source=Source.PROVIDED,
    export_fields=(
        "number",
        "issued_at",
        "description",
        "amount_cents",
        "currency",
        "billing_name",
        "billing_address",
        "card_last4",
    ),
    erasure=ErasureStrategy.LEGAL_HOLD,
    legal_hold_reason=(
        "Commercial and tax law make us keep invoices (German Commercial Code, HGB §257(1) "
        "no. 4 and (4), and Fiscal Code, AO §147(1) no. 4 and (3): accounting vouchers for ten "
        "years; the content of an invoice, UStG §14(4)). We keep only what the invoice must "
        "show and use it for nothing but accounting, audits and tax inspections."
    ),
    # What an invoice must show (UStG §14(4)): whom it was billed to and where, its number,
    # date, what was supplied and the amounts. The link to the account and the card's last
    # digits are not required: erasure blanks them.
    hold_fields=(
        "number",
        "issued_at",
        "description",
        "amount_cents",
        "currency",
        "billing_name",
        "billing_address",
    ),
    hold_period="Ten years after the end of the calendar year the invoice was issued in.",
    hold_until_field="hold_until",
    user_field="user",
    erase_order=30,
)
personal_data(
    Testimonial,
    activity="testimonial",
    category=gettext_noop("Testimonials"),
    source=Source.PROVIDED,
    export_fields=(
        "state",
        "feedback",
        "text",
        "display_name",
        "display_details",
        "approved_text",
        "approved_name",
        "approved_details",
        "approved_at",
        "published_at",
    ),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    erase_order=30,
)

personal_data(
    Workspace,
    activity="service_data",
    category=SERVICE_DATA_CATEGORY,
    source=Source.PROVIDED,
    export_fields=("name", "created_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="owner",
    erase_order=25,  # after its records, before the account
)
personal_data(
    WorkspaceRecord,
    activity="service_data",
    category=SERVICE_DATA_CATEGORY,
    source=Source.PROVIDED,
    export_fields=("workspace", "kind", "name", "email", "phone", "notes", "created_at"),
    erasure=ErasureStrategy.DELETE,
    subject_rows=workspace_records_for_owner,
    subjects_rows=workspace_records_for_owners,
    erase_order=20,
)
personal_data(
    WorkspaceMember,
    activity="service_data",
    category=SERVICE_DATA_CATEGORY,
    source=Source.PROVIDED,
    export_fields=("workspace", "added_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    erase_order=20,
)
personal_data(
    IntegrationGrant,
    activity="integrations",
    category=gettext_noop("Third-party integrations"),
    source=Source.PROVIDED,
    export_fields=("integration", "scopes", "workspace", "granted_at", "revoked_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="user",
    erase_order=15,
)
personal_data(
    StaffAccessWindow,
    activity="support_access",
    category=gettext_noop("Staff access to your data"),
    source=Source.AUTOMATIC,
    export_fields=("ticket_reference", "reason", "starts_at", "expires_at"),
    erasure=ErasureStrategy.DELETE,
    user_field="subject_user",
    erase_order=15,
)
