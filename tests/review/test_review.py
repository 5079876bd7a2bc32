"""Manual review by staff (issue 10, part 2): need-to-know access to reported spam and scans."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts import workspaces
from desk import records
from dsar import registry, services
from dsar.erasure import erasure_erase_subject
from dsar.exports import access_report_write
from dsar.models import AuditEvent, RequestKind
from dsar.registry import Subject
from dsar.retention import retention_sweep
from review import services as review
from review.models import ReviewState, ScanReview, SpamReview
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp

pytestmark = pytest.mark.django_db

BODY = "Dear winner, send your bank details to claim the prize of Mr Quentin Quiz."
SCAN_TEXT = "Invoice 4711 for Hanna Handwritten, total 120.00 EUR"
PURPOSE = "Check whether this reported message is spam, ticket SPAM-7."


def png_upload(name="scan.png", size=(120, 80)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


@pytest.fixture
def owner():
    return UserFactory(full_name="Olga Owner")


@pytest.fixture
def workspace(owner):
    return workspaces.workspace_create(owner=owner, name="Olga's office")


@pytest.fixture
def spam(workspace, owner):
    return review.spam_report_create(
        workspace=workspace,
        reporter=owner,
        sender="prize@lottery.example",
        subject_line="You won",
        body=BODY,
    )


@pytest.fixture
def scan(workspace, owner):
    return review.scan_submit(
        workspace=workspace, uploader=owner, upload=png_upload(), recognised_text=SCAN_TEXT
    )


def reviewer_client(make_staff, name="Rita Reviewer"):
    staff, secret = make_staff("Reviewer")
    staff.full_name = name
    staff.save()
    client = Client()
    login_with_totp(client, staff, secret)
    return client, staff


def refusals(staff):
    return AuditEvent.objects.filter(action="staff_review_refused", actor=staff)


# --- The people of the workspace ------------------------------------------------------------------


def test_a_member_reports_spam_and_sends_a_scan_from_the_workspace(client, owner, workspace):
    client.force_login(owner)
    url = f"/accounts/workspaces/{workspace.pk}/review/"
    assert client.get(f"/accounts/workspaces/{workspace.pk}/").content.decode().count(url) == 1
    response = client.post(
        url,
        {
            "action": "spam",
            "spam-sender": "x@spam.example",
            "spam-subject_line": "Hi",
            "spam-body": BODY,
        },
    )
    assert response.status_code == 302
    response = client.post(
        url,
        {"action": "scan", "scan-image": png_upload(), "scan-recognised_text": SCAN_TEXT},
    )
    assert response.status_code == 302
    item = SpamReview.objects.get()
    assert (item.workspace, item.reported_by, item.state) == (workspace, owner, "waiting")
    assert item.purge_after > timezone.now() + timedelta(days=29)
    scan = ScanReview.objects.get()
    # Stored re-encoded as a JPEG under a random name, whatever was uploaded.
    assert scan.image.name.startswith("review-scans/") and scan.image.name.endswith(".jpg")
    with scan.image.open("rb") as handle:
        assert Image.open(handle).format == "JPEG"
    page = client.get(url).content.decode()
    assert "Message reported as spam" in page and "Scan to check" in page
    assert "Waiting for a reviewer" in page


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_stored(client, owner, workspace):
    client.force_login(owner)
    html = SimpleUploadedFile("scan.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
    response = client.post(
        f"/accounts/workspaces/{workspace.pk}/review/",
        {"action": "scan", "scan-image": html, "scan-recognised_text": SCAN_TEXT},
    )
    assert response.status_code == 400
    assert not ScanReview.objects.exists()
    response = client.post(
        f"/accounts/workspaces/{workspace.pk}/review/", {"action": "spam", "spam-body": " "}
    )
    assert response.status_code == 400
    assert not SpamReview.objects.exists()


def test_another_person_neither_sees_nor_adds_items(client, workspace, spam):
    client.force_login(UserFactory())
    url = f"/accounts/workspaces/{workspace.pk}/review/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "spam", "spam-body": BODY}).status_code == 403
    assert SpamReview.objects.count() == 1
    with pytest.raises(Exception):  # noqa: B017  (PermissionDenied)
        review.spam_report_create(
            workspace=workspace, reporter=UserFactory(), sender="", subject_line="", body=BODY
        )


# --- The gate ---------------------------------------------------------------------------------


def test_a_reviewer_without_the_assignment_gets_403_and_the_attempt_is_audited(
    make_staff, owner, spam, scan
):
    client, staff = reviewer_client(make_staff)
    for url in (
        f"/admin/review/spamreview/{spam.pk}/change/",
        f"/admin/review/scanreview/{scan.pk}/change/",
        f"/admin/review/scanreview/{scan.pk}/image/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert BODY.encode() not in response.content and SCAN_TEXT.encode() not in response.content
    response = client.post(f"/admin/review/spamreview/{spam.pk}/decide/", {"decision": "spam"})
    assert response.status_code == 403
    assert refusals(staff).count() == 4
    assert {e.subject_ref for e in refusals(staff)} == {f"user:{owner.pk}"}
    spam.refresh_from_db()
    assert spam.state == ReviewState.WAITING and spam.body == BODY


def test_only_the_assigned_reviewer_sees_the_content_and_every_look_is_audited(
    make_staff, owner, spam
):
    client, rita = reviewer_client(make_staff)
    other_client, other = reviewer_client(make_staff, name="Otto Other")
    response = client.post(
        "/admin/review/spamreview/",
        {"action": "take_items", "_selected_action": [spam.pk], "purpose": PURPOSE},
    )
    assert response.status_code == 302
    spam.refresh_from_db()
    assert (spam.state, spam.assignee, spam.purpose) == ("assigned", rita, PURPOSE)

    page = client.get(f"/admin/review/spamreview/{spam.pk}/change/")
    assert page.status_code == 200 and BODY in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    look = AuditEvent.objects.get(action="staff_viewed_review_item", actor=rita)
    assert (look.reason, look.subject_ref) == (PURPOSE, f"user:{owner.pk}")

    # Another reviewer is refused, and so is Rita once she gave it back.
    assert other_client.get(f"/admin/review/spamreview/{spam.pk}/change/").status_code == 403
    assert refusals(other).count() == 1
    assert client.post(f"/admin/review/spamreview/{spam.pk}/release/").status_code == 302
    spam.refresh_from_db()
    assert spam.state == ReviewState.WAITING and spam.assignee is None
    assert client.get(f"/admin/review/spamreview/{spam.pk}/change/").status_code == 403
    assert refusals(rita).count() == 1


def test_a_decision_deletes_the_message_and_closes_the_item_to_everyone(make_staff, spam):
    client, rita = reviewer_client(make_staff)
    review.review_item_assign(item=spam, reviewer=rita, purpose=PURPOSE)
    response = client.post(f"/admin/review/spamreview/{spam.pk}/decide/", {"decision": "spam"})
    assert response.status_code == 302
    spam.refresh_from_db()
    assert (spam.state, spam.decision, spam.decided_by) == ("decided", "spam", rita)
    assert (spam.sender, spam.subject_line, spam.body) == ("", "", "")
    assert spam.purge_after > timezone.now() + timedelta(days=29)
    decided = AuditEvent.objects.get(action="staff_review_decided")
    assert decided.detail == {"decision": "spam"} and decided.reason == PURPOSE
    assert client.get(f"/admin/review/spamreview/{spam.pk}/change/").status_code == 403
    with pytest.raises(review.ReviewAccessRefused):
        review.spam_review_decide(item=spam, reviewer=rita, decision="not_spam")


def test_the_scan_is_served_as_an_image_to_its_reviewer_and_deleted_with_the_check(
    make_staff, client, owner, workspace, scan, django_capture_on_commit_callbacks
):
    reviewer, rita = reviewer_client(make_staff)
    review.review_item_assign(item=scan, reviewer=rita, purpose=PURPOSE)
    page = reviewer.get(f"/admin/review/scanreview/{scan.pk}/change/").content.decode()
    assert SCAN_TEXT in page and f"/admin/review/scanreview/{scan.pk}/image/" in page
    image = reviewer.get(f"/admin/review/scanreview/{scan.pk}/image/")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert image["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="staff_viewed_review_item", actor=rita).count() == 2

    stored = scan.image.name
    corrected = SCAN_TEXT.replace("120.00", "126.00")
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer.post(
            f"/admin/review/scanreview/{scan.pk}/decide/", {"checked_text": corrected}
        )
    assert response.status_code == 302
    scan.refresh_from_db()
    assert (scan.decision, scan.checked_text, scan.recognised_text) == ("corrected", corrected, "")
    assert not scan.image and not scan.image.storage.exists(stored)
    client.force_login(owner)
    page = client.get(f"/accounts/workspaces/{workspace.pk}/review/").content.decode()
    assert corrected in page and "Recognised text corrected" in page


def test_the_queue_lists_kind_workspace_age_and_assignee_but_no_content(make_staff, spam, scan):
    client, rita = reviewer_client(make_staff)
    review.review_item_assign(item=spam, reviewer=rita, purpose=PURPOSE)
    for url in ("/admin/review/spamreview/", "/admin/review/scanreview/"):
        page = client.get(url).content.decode()
        assert "Olga&#x27;s office" in page or "Olga's office" in page
        for secret in (BODY, SCAN_TEXT, "prize@lottery.example", "You won", scan.image.name):
            assert secret not in page
    # Officers see the queue, never the content.
    officer, secret = make_staff("Privacy officer")
    officer_client = Client()
    login_with_totp(officer_client, officer, secret)
    assert officer_client.get("/admin/review/spamreview/").status_code == 200
    assert officer_client.get(f"/admin/review/spamreview/{spam.pk}/change/").status_code == 403
    assert refusals(officer).count() == 1


def test_taking_an_item_needs_the_reviewer_role_and_a_purpose(make_staff, spam):
    support, _secret = make_staff("Support")
    with pytest.raises(ValidationError):
        review.review_item_assign(item=spam, reviewer=support, purpose=PURPOSE)
    rita, _secret = make_staff("Reviewer")
    with pytest.raises(ValidationError):
        review.review_item_assign(item=spam, reviewer=rita, purpose="because")
    spam.refresh_from_db()
    assert spam.state == ReviewState.WAITING and not AuditEvent.objects.exists()
    review.review_item_assign(item=spam, reviewer=rita, purpose=PURPOSE)
    otto, _secret = make_staff("Reviewer")
    with pytest.raises(ValidationError):
        review.review_item_assign(item=spam, reviewer=otto, purpose=PURPOSE)
    with pytest.raises(ValidationError):
        review.review_item_release(item=spam, actor=otto)
    officer, _secret = make_staff("Privacy officer")
    review.review_item_release(item=spam, actor=officer)  # officers free a stuck item


def test_the_owner_sees_who_looked_at_the_items_and_why(make_staff, client, owner, spam):
    reviewer, rita = reviewer_client(make_staff)
    other_client, _other = reviewer_client(make_staff, name="Otto Other")
    review.review_item_assign(item=spam, reviewer=rita, purpose=PURPOSE)
    reviewer.get(f"/admin/review/spamreview/{spam.pk}/change/")
    other_client.get(f"/admin/review/spamreview/{spam.pk}/change/")
    client.force_login(owner)
    page = client.get("/privacy/").content.decode()
    assert "Who looked at my data and why" in page
    assert "Rita Reviewer" in page and "Looked at an item you sent for manual review" in page
    assert PURPOSE in page
    assert "Otto Other" in page and "without it being assigned to them" in page
    # Nobody else's page shows it.
    client.force_login(UserFactory())
    assert "Rita Reviewer" not in client.get("/privacy/").content.decode()


# --- Registry, records of processing, export, erasure, retention ----------------------------


def test_both_purposes_are_in_the_registry_and_the_records_of_processing(make_staff):
    spam_entry = registry.entry_for(SpamReview)
    scan_entry = registry.entry_for(ScanReview)
    assert spam_entry.retention_field == scan_entry.retention_field == "purge_after"
    # Part II service data: we review for our customers, as processor (GDPR Art. 30(2)).
    assert (spam_entry.activity, scan_entry.activity) == ("spam_review", "scan_review")
    report = records.processor_records()
    names = [row[0][0] for row in report.rows]
    assert "Manual spam checks" in names and "Manual checks of scanned documents" in names
    spam_row = report.rows[names.index("Manual spam checks")]
    assert any("anonymous_user" in subject for subject in spam_row[1])
    controller_rows = records.records_of_processing().rows
    assert not any(row[0][0] == "Manual spam checks" for row in controller_rows)

    officer, secret = make_staff("Privacy officer")
    client = Client()
    login_with_totp(client, officer, secret)
    page = client.get("/admin/desk/records-of-processing/?view=processor").content.decode()
    assert "so that our spam detection works for you" in page
    assert "the text recognised in images you send us" in page
    csv_url = "/admin/desk/records-of-processing/?view=processor&format=csv"
    assert "the text recognised in images you send us" in client.get(csv_url).content.decode()


def test_the_access_report_holds_the_owners_items_and_no_one_elses(owner, spam, scan):
    other = UserFactory()
    other_workspace = workspaces.workspace_create(owner=other, name="Other's")
    review.spam_report_create(
        workspace=other_workspace, reporter=other, sender="", subject_line="", body="Not Olga's"
    )
    json_file, html_file = io.StringIO(), io.StringIO()
    counts = access_report_write(
        subject=Subject(user_id=owner.pk), json_file=json_file, html_file=html_file
    )
    assert counts["review.SpamReview"] == 1 and counts["review.ScanReview"] == 1
    report = json_file.getvalue()
    assert json.loads(report)["subject"] == f"user:{owner.pk}" and BODY in report
    assert SCAN_TEXT in report and "Not Olga's" not in report


def test_a_service_data_export_and_erasure_cover_the_items(
    owner, workspace, spam, scan, django_capture_on_commit_callbacks
):
    request, _ = services.dsar_request_file(kind=RequestKind.SERVICE_DATA_EXPORT, user=owner)
    request = services.dsar_request_transition(request=request, to_state="in_progress", actor=None)
    services.dsar_request_apply(request=request, actor=None)
    export = request.exports.get()
    assert services.export_build(export_id=export.pk)
    export.refresh_from_db()
    with zipfile.ZipFile(export.file.path) as archive:
        document = archive.read("service-data.json").decode()
    assert BODY in document and SCAN_TEXT in document

    stored = scan.image.name
    with django_capture_on_commit_callbacks(execute=True):
        counts = erasure_erase_subject(subject=Subject(user_id=owner.pk, email=owner.email))
    assert counts["review.SpamReview"] == 1 and counts["review.ScanReview"] == 1
    assert not SpamReview.objects.exists() and not ScanReview.objects.exists()
    assert not scan.image.storage.exists(stored)


def test_the_retention_sweep_deletes_items_and_their_scans_once_due(
    scan, spam, django_capture_on_commit_callbacks
):
    stored = scan.image.name
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_sweep()["review.ScanReview"] == 0
    assert ScanReview.objects.exists()
    later = timezone.now() + timedelta(days=31)
    with django_capture_on_commit_callbacks(execute=True):
        counts = retention_sweep(now=later)
    assert counts["review.ScanReview"] == 1 and counts["review.SpamReview"] == 1
    assert not scan.image.storage.exists(stored)


def test_the_pages_speak_german(client, owner, workspace, spam):
    owner.language = "de"
    owner.save()
    client.force_login(owner)
    page = client.get(f"/accounts/workspaces/{workspace.pk}/review/").content.decode()
    assert "Manuelle Prüfung" in page and "Eine Nachricht als Spam melden" in page
    assert "Als Spam gemeldete Nachricht" in page and "Wartet auf eine Prüfung" in page
