"""Photos and scans in S3-compatible object storage: saved, served by the views that check who
is asking, and deleted from the bucket when they are replaced, decided or erased (the bucket
is listed to prove it)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts import workspaces
from accounts.services import user_photo_set
from dsar.erasure import erasure_erase_subject
from dsar.registry import Subject
from review import services as review
from tests.accounts.factories import UserFactory
from tests.conftest import login_with_totp
from tests.dsar.people import jpeg_upload

from .conftest import files_on_disk

pytestmark = [pytest.mark.django_db, pytest.mark.s3]


def png_upload() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(out, format="PNG")
    return SimpleUploadedFile("scan.png", out.getvalue(), content_type="image/png")


def test_a_photo_is_uploaded_served_replaced_and_erased_in_the_bucket(
    s3_bucket, settings, client, django_capture_on_commit_callbacks
):
    user = UserFactory()
    client.force_login(user)
    profile = {"full_name": "Nora Nolan", "company_name": "Nolan & Co", "country": "GB"}
    response = client.post("/accounts/profile/", {**profile, "photo": jpeg_upload()})
    assert response.status_code == 302
    user.refresh_from_db()
    first = user.photo.name
    assert s3_bucket.keys("profile-photos/") == [first]
    assert files_on_disk(settings.MEDIA_ROOT) == []

    response = client.get("/accounts/profile/photo/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=0, no-store"
    assert b"".join(response.streaming_content) == s3_bucket.read(first)

    # A new photo replaces the old one: the old object goes once the change is committed.
    with django_capture_on_commit_callbacks(execute=True):
        user_photo_set(user=user, upload=jpeg_upload("again.jpg"))
    assert s3_bucket.keys("profile-photos/") == [user.photo.name] != [first]

    with django_capture_on_commit_callbacks(execute=True):
        erasure_erase_subject(subject=Subject(user_id=user.pk, email=user.email))
    assert s3_bucket.keys("profile-photos/") == []


def test_a_photo_missing_from_the_bucket_is_a_404(s3_bucket, client):
    user = UserFactory()
    user_photo_set(user=user, upload=jpeg_upload())
    s3_bucket.client.delete_object(Bucket=s3_bucket.name, Key=user.photo.name)
    client.force_login(user)
    assert client.get("/accounts/profile/photo/").status_code == 404


def test_a_scan_is_served_to_its_reviewer_and_deleted_with_the_check(
    s3_bucket, make_staff, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    workspace = workspaces.workspace_create(owner=owner, name="Office")
    scan = review.scan_submit(
        workspace=workspace, uploader=owner, upload=png_upload(), recognised_text="Invoice 4711"
    )
    assert s3_bucket.keys("review-scans/") == [scan.image.name]

    staff, secret = make_staff("Reviewer")
    reviewer = Client()
    login_with_totp(reviewer, staff, secret)
    image_url = f"/admin/review/scanreview/{scan.pk}/image/"
    assert reviewer.get(image_url).status_code == 403  # not assigned to them yet
    scan = review.review_item_assign(item=scan, reviewer=staff, purpose="Check the invoice text.")
    response = reviewer.get(image_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == s3_bucket.read(scan.image.name)

    with django_capture_on_commit_callbacks(execute=True):
        review.scan_review_decide(item=scan, reviewer=staff, checked_text="Invoice 4711")
    assert s3_bucket.keys("review-scans/") == []


def test_erasing_the_uploader_deletes_their_scan_from_the_bucket(
    s3_bucket, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    workspace = workspaces.workspace_create(owner=owner, name="Office")
    review.scan_submit(
        workspace=workspace, uploader=owner, upload=png_upload(), recognised_text="Receipt"
    )
    someone = UserFactory()
    other = review.scan_submit(
        workspace=workspaces.workspace_create(owner=someone, name="Elsewhere"),
        uploader=someone,
        upload=png_upload(),
        recognised_text="Not theirs",
    )
    assert len(s3_bucket.keys("review-scans/")) == 2

    with django_capture_on_commit_callbacks(execute=True):
        counts = erasure_erase_subject(subject=Subject(user_id=owner.pk, email=owner.email))
    assert counts["review.ScanReview"] == 1
    assert s3_bucket.keys("review-scans/") == [other.image.name]
