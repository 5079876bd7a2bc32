import pytest
from django.core.exceptions import ValidationError

from accounts import models as account_models
from accounts import testimonials
from consent import selectors as consent_selectors
from consent import services as consent_services
from dsar.models import AuditEvent
from dsar.registry import Subject

pytestmark = pytest.mark.django_db

TEXT = "Workpex made our payroll audits painless."


def public_page(client) -> str:
    response = client.get("/testimonials/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_written_testimonial_is_public_only_once_published_and_only_as_approved(
    client, user_client, user, make_staff
):
    staff, _ = make_staff()
    response = user_client.post(
        "/accounts/testimonial/",
        {"text": TEXT, "display_name": "Lisa M.", "display_details": "HR lead"},
    )
    assert response.status_code == 200  # the approval box is required
    assert not account_models.Testimonial.objects.exists()
    user_client.post(
        "/accounts/testimonial/",
        {"text": TEXT, "display_name": "Lisa M.", "display_details": "HR lead", "approve": "on"},
    )
    testimonial = account_models.Testimonial.objects.get(user=user)
    assert testimonial.state == "approved"
    assert consent_selectors.consent_is_granted(
        subject=Subject(user_id=user.pk), purpose="testimonial"
    )
    assert TEXT not in public_page(client)  # approved, not yet published

    testimonials.testimonial_publish(staff=staff, testimonial=testimonial)
    page = public_page(client)
    assert TEXT in page and "Lisa M., HR lead" in page
    assert user.full_name not in page and user.email not in page


def test_staff_draft_is_never_public_before_the_person_approves_that_exact_text(
    client, user_client, user, make_staff
):
    staff, _ = make_staff()
    draft = testimonials.testimonial_draft(
        staff=staff, user=user, feedback="Great tool", text=TEXT, display_name="Lisa"
    )
    with pytest.raises(ValidationError):
        testimonials.testimonial_publish(staff=staff, testimonial=draft)
    assert TEXT not in public_page(client)

    shown = testimonials.testimonial_fingerprint(draft)
    page = user_client.get("/accounts/testimonial/").content.decode()
    assert TEXT in page and shown in page

    # Staff change the draft after the person opened it: the stale approval is refused.
    testimonials.testimonial_draft(
        staff=staff, user=user, feedback="Great tool", text=TEXT + " Really.", display_name="Lisa"
    )
    user_client.post("/accounts/testimonial/approve/", {"fingerprint": shown})
    assert account_models.Testimonial.objects.get(user=user).state == "awaiting_approval"

    draft.refresh_from_db()
    user_client.post(
        "/accounts/testimonial/approve/",
        {"fingerprint": testimonials.testimonial_fingerprint(draft)},
    )
    draft.refresh_from_db()
    assert draft.state == "approved" and draft.approved_text == TEXT + " Really."
    testimonials.testimonial_publish(staff=staff, testimonial=draft)
    assert TEXT + " Really." in public_page(client)
    with pytest.raises(ValidationError):  # approved text belongs to the author now
        testimonials.testimonial_draft(
            staff=staff, user=user, feedback="", text="Other", display_name="Lisa"
        )


def test_withdrawing_or_changing_takes_it_off_the_page_at_once(
    client, user_client, user, make_staff
):
    staff, _ = make_staff()
    testimonial = testimonials.testimonial_write(user=user, text=TEXT, display_name="Lisa")
    testimonials.testimonial_publish(staff=staff, testimonial=testimonial)
    assert TEXT in public_page(client)

    user_client.post(
        "/accounts/testimonial/",
        {"text": "Changed words.", "display_name": "Lisa", "approve": "on"},
    )
    page = public_page(client)
    assert TEXT not in page and "Changed words." not in page  # waits to be published again

    testimonial.refresh_from_db()
    testimonials.testimonial_publish(staff=staff, testimonial=testimonial)
    assert "Changed words." in public_page(client)
    user_client.post("/accounts/testimonial/withdraw/")
    assert "Changed words." not in public_page(client)
    testimonial.refresh_from_db()
    assert testimonial.state == "withdrawn" and testimonial.approved_text == ""
    assert not consent_selectors.consent_is_granted(
        subject=Subject(user_id=user.pk), purpose="testimonial"
    )
    with pytest.raises(ValidationError):
        testimonials.testimonial_publish(staff=staff, testimonial=testimonial)
    assert AuditEvent.objects.filter(action="testimonial_withdrawn").exists()


def test_withdrawing_the_consent_in_the_preferences_withdraws_the_testimonial(
    client, user, make_staff
):
    staff, _ = make_staff()
    testimonial = testimonials.testimonial_write(user=user, text=TEXT, display_name="Lisa")
    testimonials.testimonial_publish(staff=staff, testimonial=testimonial)
    consent_services.consent_preferences_save(
        subject=Subject(user_id=user.pk), purposes={"testimonial": False}
    )
    assert TEXT not in public_page(client)
    testimonial.refresh_from_db()
    assert testimonial.state == "withdrawn"


def test_staff_draft_in_the_admin(client, make_staff, user):
    from tests.conftest import login_with_totp

    staff, secret = make_staff("Privacy officer")
    staff.is_superuser = True
    staff.save()
    login_with_totp(client, staff, secret)
    response = client.post(
        "/admin/accounts/testimonial/add/",
        {
            "user": user.pk,
            "feedback": "Love it",
            "text": TEXT,
            "display_name": "Lisa",
            "display_details": "",
        },
    )
    assert response.status_code == 302, response.content
    testimonial = account_models.Testimonial.objects.get(user=user)
    assert testimonial.state == "awaiting_approval" and testimonial.drafted_by == staff
