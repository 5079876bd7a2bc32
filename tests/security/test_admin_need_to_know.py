"""Need to know in the admin, for every model with personal data and every staff role.

The models are enumerated from the personal-data registry: every registered model that has an
admin must have a row builder in ROWS (`test_every_personal_data_admin_is_covered` fails naming
it), and then its changelist, search, change and history views are checked for each role:

- Support without an access window, and any staff member given the model's view permission
  without a standing need: refused (403), or a list of nobody; opening a person's row is refused
  and the refusal audited against that person.
- Support with a window for person A: only A's rows, and every view audited with the window's
  ticket and reason.
- A privacy officer: allowed (where the role has the model at all) and audited with the
  standing need as the reason.
- A superuser: allowed and audited.

Rows are built for two people, A and B, so "only A" is tested against a real neighbour.
"""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts import staff_access, testimonials, workspaces
from accounts.child_removal import child_report_submit
from accounts.models import ChildDataReport, StaffAccessWindow
from accounts.totp import totp_authenticator_add, totp_secret_new
from consent import services as consent_services
from consent.models import PolicyAcknowledgement, PolicyNotice, PolicyVersion
from dsar import registry, services
from dsar.models import AuditEvent, ExportFile, ProcessingBlock, RequestKind
from dsar.registry import Subject
from dsar.staff import STANDING_ADMIN, STANDING_OFFICER, STANDING_REASONS
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp

pytestmark = pytest.mark.django_db

TICKET, WHY = "SUP-4711", "Customer asked why their invoices are missing"
WINDOW_REASON = f"{TICKET}: {WHY}"
# The review queue has a need-to-know rule of its own: an item's page opens only to the reviewer
# it is assigned to (tests/review/test_review.py); everyone else is refused there.
OWN_CHANGE_RULE = {"review.ScanReview", "review.SpamReview"}
# Admins that narrow further than the gate (support sees only requests assigned to them).
NARROWER = {"dsar.DataSubjectRequest", "dsar.ExportFile"}


# --- One row of person `p` per model ----------------------------------------------------------


def _window(p, staff):
    viewer = staff if staff.groups.filter(name="Support").exists() else UserFactory(is_staff=True)
    now = timezone.now()
    return StaffAccessWindow.objects.create(
        staff=viewer,
        subject_user=p,
        ticket_reference="SUP-1",
        reason="An older ticket, long closed",
        starts_at=now - timedelta(hours=2),
        expires_at=now - timedelta(hours=1),
    )


def _child_report(p, staff):
    report = child_report_submit(reporter_email="parent@example.com", child_name="Kid")
    ChildDataReport.objects.filter(pk=report.pk).update(user=p)
    return report


def _request(p, staff=None):
    return services.dsar_request_file(kind=RequestKind.ACCESS, user=p)[0]


def _review(kind):
    def build(p, staff):
        from review import services as review
        from tests.review.test_review import png_upload

        workspace = workspaces.workspace_create(owner=p, name="Clients")
        if kind == "spam":
            return review.spam_report_create(
                workspace=workspace, reporter=p, sender="", subject_line="", body="Hello"
            )
        return review.scan_submit(
            workspace=workspace, uploader=p, upload=png_upload(), recognised_text="Text"
        )

    return build


def _device(p, staff):
    from notifications.services import device_register

    return device_register(user=p, platform="google", token=f"t{p.pk:09d}" * 9, name="Phone")[0]


def _push(p, staff):
    from notifications.models import TestModePush

    device = _device(p, staff)
    return TestModePush.objects.create(
        device=device, user=p, platform="google", purpose="newsletter", title="Hi", body="x"
    )


def _email_address(p, staff):
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.get_or_create(
        user=p, email=p.email, defaults={"primary": True, "verified": True}
    )[0]


def _system_part(p, staff):
    from datastores.models import ConnectedSystem, SystemPart

    system, _ = ConnectedSystem.objects.get_or_create(
        name="Paper archive", defaults={"kind": ConnectedSystem.Kind.MANUAL}
    )
    return SystemPart.objects.create(
        request=_request(p), system=system, kind="erasure", state="manual"
    )


def _authenticator(p, staff):
    return totp_authenticator_add(p, totp_secret_new())


ROWS = {
    "accounts.User": lambda p, staff: p,
    "accounts.StaffAccessWindow": _window,
    "accounts.ChildDataReport": _child_report,
    "accounts.Workspace": lambda p, staff: workspaces.workspace_create(owner=p, name="Mine"),
    "accounts.Testimonial": lambda p, staff: testimonials.testimonial_write(
        user=p, text="Workpex keeps my data tidy and safe.", display_name="Happy customer"
    ),
    "dsar.ProcessingBlock": lambda p, staff: ProcessingBlock.objects.create(
        kind=ProcessingBlock.Kind.RESTRICTION, user=p, purpose=""
    ),
    "dsar.DataSubjectRequest": _request,
    "dsar.ExportFile": lambda p, staff: ExportFile.objects.create(
        request=_request(p), kind=ExportFile.Kind.ACCESS
    ),
    "datastores.SystemPart": _system_part,
    "dsar.AuditEvent": lambda p, staff: services.audit_record(
        action="request_filed", subject=Subject(user_id=p.pk), reason="Filed on the portal"
    ),
    "review.ScanReview": _review("scan"),
    "review.SpamReview": _review("spam"),
    "consent.ConsentEvent": lambda p, staff: consent_services.consent_grant(
        subject=Subject(user_id=p.pk), purpose="newsletter", method="preference_centre"
    ),
    "consent.FormSubmission": lambda p, staff: consent_services.form_submission_create(
        kind="newsletter_signup", email=p.email, name="Form sender"
    ),
    "consent.PolicyAcknowledgement": lambda p, staff: PolicyAcknowledgement.objects.create(
        user=p, version=PolicyVersion.objects.first(), method=PolicyAcknowledgement.Method.BANNER
    ),
    "consent.PolicyNotice": lambda p, staff: PolicyNotice.objects.create(
        user=p, version=PolicyVersion.objects.first()
    ),
    "notifications.Device": _device,
    "notifications.TestModePush": _push,
    "account.EmailAddress": _email_address,
    "mfa.Authenticator": _authenticator,
}


def personal_data_admin_labels() -> list[str]:
    return sorted(e.label for e in registry.entries() if admin.site.is_registered(e.model))


def test_every_personal_data_admin_is_covered():
    """A model with personal data and an admin has a row builder here, so its views are tested
    for every role (and the gate covers it: the admin site mixes it into every ModelAdmin)."""
    assert personal_data_admin_labels() == sorted(ROWS)


def test_the_gate_is_in_every_admin():
    from dsar.admin_gate import NeedToKnowAdminMixin

    for label in personal_data_admin_labels():
        model = registry.entry_by_label(label).model
        assert isinstance(admin.site.get_model_admin(model), NeedToKnowAdminMixin), label


# --- The roles --------------------------------------------------------------------------------


def _staff(role, model):
    staff = UserFactory(is_staff=True, is_superuser=role == "superuser", full_name="Staff Member")
    if role.startswith("support"):
        staff.groups.add(Group.objects.get(name="Support"))
    elif role == "officer":
        staff.groups.add(Group.objects.get(name="Privacy officer"))
    elif role == VIEWER:  # any role without a standing need: the permission alone opens nobody
        opts = model._meta
        staff.user_permissions.add(
            Permission.objects.get(
                content_type__app_label=opts.app_label, codename=f"view_{opts.model_name}"
            )
        )
    secret = totp_secret_new()
    totp_authenticator_add(staff, secret)
    client = Client()
    login_with_totp(client, staff, secret)
    return staff, client


def _urls(model, row, person):
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    return {
        "changelist": base,
        "search": f"{base}?q={person.username}",
        "change": f"{base}{row.pk}/change/",
        "history": f"{base}{row.pk}/history/",
        "delete": f"{base}{row.pk}/delete/",
    }


def _refs(person):
    return {Subject(user_id=person.pk).ref, Subject(email=person.email).ref}


def _may_view(staff, model):
    request = RequestFactory().get("/admin/")
    request.user = staff
    return admin.site.get_model_admin(model).has_view_or_change_permission(request)


def _looks(staff, person, action=None):
    events = AuditEvent.objects.filter(actor=staff, subject_ref__in=_refs(person))
    return events.filter(action=action) if action else events


def _listed_pks(response):
    return {row.pk for row in response.context["cl"].result_list}


VIEWER = "view_permission_without_window"
ROLES = ("support_without_window", VIEWER, "support_with_window", "officer", "superuser")
WITHOUT_WINDOW = ("support_without_window", VIEWER)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", sorted(ROWS))
def test_admin_views_of_personal_data_follow_need_to_know(label, role):
    model = registry.entry_by_label(label).model
    staff, client = _staff(role, model)
    a, b = UserFactory(full_name="Adelheid A"), UserFactory(full_name="Bruno B")
    row_a, row_b = ROWS[label](a, staff), ROWS[label](b, staff)
    urls = _urls(model, row_a, a)
    if role == "support_with_window":
        staff_access.staff_access_open(
            staff=staff, subject_user=a, ticket_reference=TICKET, reason=WHY, minutes=30
        )
    allowed = _may_view(staff, model)

    for view in ("changelist", "search"):
        response = client.get(urls[view])
        if not allowed:
            assert response.status_code == 403, (label, view, response.status_code)
            continue
        assert response.status_code == 200, (label, view, response.status_code)
        listed = _listed_pks(response)
        action = "staff_searched" if view == "search" else "staff_listed"
        if role in WITHOUT_WINDOW:
            assert not listed, (label, view)
            assert AuditEvent.objects.filter(actor=staff, action=action).exists()
        elif role == "support_with_window":
            owned = set(
                registry.entry_by_label(label)
                .rows_for(Subject(user_id=a.pk, email=a.email))
                .values_list("pk", flat=True)
            )
            assert listed <= owned, (label, view, listed - owned)
            assert row_b.pk not in listed
            if view == "changelist" and label not in NARROWER:
                assert row_a.pk in listed, label
                looks = _looks(staff, a, action)
                assert looks.exists() and {e.reason for e in looks} == {WINDOW_REASON}, label
        else:
            if view == "changelist":
                assert {row_a.pk, row_b.pk} <= listed, label
                reason = STANDING_REASONS[STANDING_OFFICER if role == "officer" else STANDING_ADMIN]
                assert {e.reason for e in _looks(staff, a, action)} == {reason}, label
                assert _looks(staff, b, action).exists(), label

    if role in (*WITHOUT_WINDOW, "support_with_window"):  # nor do they delete a person's row
        response = client.post(urls["delete"], {"post": "yes"})
        assert response.status_code in (302, 403), (label, response.status_code)
        assert model._default_manager.filter(pk=row_a.pk).exists(), label

    for view in ("change", "history"):
        before = _looks(staff, a).count()
        response = client.get(urls[view])
        own_rule = view == "change" and label in OWN_CHANGE_RULE
        if not allowed or role in WITHOUT_WINDOW or (own_rule and role != "support_with_window"):
            assert response.status_code in (302, 403), (label, view, response.status_code)
            assert b"Adelheid" not in response.content
            if allowed and not own_rule and label not in NARROWER:
                refused = _looks(staff, a, "staff_access_refused")
                assert refused.exists(), (label, view)
            continue
        if role == "support_with_window" and (label in NARROWER or own_rule):
            assert response.status_code in (302, 403), (label, view, response.status_code)
            continue
        assert response.status_code == 200, (label, view, response.status_code)
        assert _looks(staff, a).count() > before, (label, view)
        if role == "support_with_window":
            assert _looks(staff, a).latest("pk").reason == WINDOW_REASON
            other = _urls(model, row_b, b)[view]
            assert client.get(other).status_code == 403, (label, view)
            assert _looks(staff, b, "staff_access_refused").exists()
