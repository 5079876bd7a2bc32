"""Processing activities as the registry's unit (issue 16, 1, 2): the rows, the Fides keys, the
system check that keeps code and rows in step, objections by lawful basis, and the officers'
edits with their history."""

import dataclasses
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from consent.models import Purpose
from dsar import registry, services
from dsar.models import DataSubjectRequest, LawfulBasis, ProcessingActivity, ProcessingBlock
from dsar.purposes import objection_uses, processing_uses
from dsar.registry import Subject

pytestmark = pytest.mark.django_db

NEW = "/privacy/requests/new/"


def _check(capsys) -> str:
    """`manage.py check --database default`: its report, or the errors it stops on."""
    try:
        call_command("check", "--database", "default")
    except SystemCheckError as error:
        return str(error)
    return capsys.readouterr().err


# --- The rows and their vocabulary ------------------------------------------------------------


def test_every_registry_entry_serves_an_activity_that_exists():
    codes = set(ProcessingActivity.objects.values_list("code", flat=True))
    assert all(entry.activity in codes for entry in registry.entries())
    assert registry.entry_by_label("accounts.Invoice").activity == "billing"


def test_every_consent_purpose_based_on_consent_is_an_activity_based_on_consent():
    consent_purposes = Purpose.objects.filter(legal_basis="consent")
    consent_codes = set(consent_purposes.values_list("code", flat=True))
    bases = dict(ProcessingActivity.objects.values_list("code", "lawful_basis"))
    assert consent_codes and {bases[code] for code in consent_codes} == {LawfulBasis.CONSENT}


def test_fides_keys_are_checked_against_the_default_taxonomy():
    activity = ProcessingActivity.objects.get(code="newsletter")
    activity.data_categories = ["user.contact.email", "user.contact.emial"]
    activity.data_subjects = ["customers"]
    with pytest.raises(ValidationError) as error:
        activity.full_clean()
    assert "user.contact.emial" in str(error.value) and "customers" in str(error.value)
    assert "user.contact.email," not in str(error.value)


def test_basis_f_needs_its_interest_and_a_transfer_its_safeguard():
    activity = ProcessingActivity.objects.get(code="forms")
    activity.lawful_basis = LawfulBasis.LEGITIMATE_INTERESTS
    activity.transfers = "Our CRM provider, in the USA."
    with pytest.raises(ValidationError) as error:
        activity.full_clean()
    assert set(error.value.message_dict) == {
        "legitimate_interest_en",
        "legitimate_interest_de",
        "transfers_de",  # given in English only
        "transfer_safeguard",
    }


# --- The system check ---------------------------------------------------------------------------


def test_the_check_passes_when_code_and_rows_agree(capsys):
    assert "dsar.E004" not in _check(capsys) and "consent.E006" not in _check(capsys)


def test_the_check_fails_on_an_entry_pointing_at_a_missing_activity(monkeypatch, capsys):
    entry = registry.entry_by_label("accounts.Invoice")
    monkeypatch.setitem(
        registry._registry, entry.label, dataclasses.replace(entry, activity="invoicing")
    )
    report = _check(capsys)
    assert "dsar.E004" in report and "accounts.Invoice serves the activity 'invoicing'" in report


def test_the_check_fails_on_a_field_pointing_at_a_missing_activity(monkeypatch, capsys):
    entry = registry.entry_by_label("accounts.User")
    moved = dataclasses.replace(entry, field_activities={"phone": "phone_marketing"})
    monkeypatch.setitem(registry._registry, entry.label, moved)
    report = _check(capsys)
    assert "accounts.User.phone serves the activity 'phone_marketing'" in report


def test_the_check_fails_on_an_activity_with_no_basis(capsys):
    ProcessingActivity.objects.filter(code="billing").update(lawful_basis="")
    report = _check(capsys)
    assert "dsar.E004" in report and "activity 'billing' has no lawful basis" in report


def test_the_check_fails_on_a_key_outside_the_taxonomy_written_past_the_admin(capsys):
    ProcessingActivity.objects.filter(code="billing").update(data_subjects=["taxpayer"])
    report = _check(capsys)
    assert "activity 'billing' names taxpayer, no Fides data_subject" in report


def test_the_check_fails_on_a_consent_purpose_that_is_no_consent_activity(capsys):
    ProcessingActivity.objects.filter(code="events").update(lawful_basis=LawfulBasis.CONTRACT)
    report = _check(capsys)
    assert "consent.E006" in report and "'events'" in report


def test_the_check_fails_on_an_objectionable_activity_nothing_stops(capsys):
    ProcessingActivity.objects.filter(code="forms").update(
        lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS, legitimate_interest="Answering you."
    )
    report = _check(capsys)
    assert "activity 'forms' is based on (e) or (f) but nothing honours an objection" in report


# --- Objections offer the activities based on (e) or (f), and direct marketing -----------------


def test_an_objection_offers_exactly_the_e_and_f_activities_and_direct_marketing():
    offered = {use.code for use in objection_uses()}
    by_basis = set(
        ProcessingActivity.objects.filter(
            lawful_basis__in=["e", "f"], as_processor=False, test_mode=False
        ).values_list("code", flat=True)
    )
    marketing = {use.code for use in processing_uses() if use.direct_marketing}
    assert by_basis == {"behaviour_analytics", "service_improvement"}
    assert "newsletter" in marketing and "direct_marketing" in marketing
    assert offered == by_basis | marketing
    assert "testimonial" not in offered and "push_notifications" not in offered


def test_a_new_basis_changes_what_an_objection_offers():
    ProcessingActivity.objects.filter(code="service_improvement").update(
        lawful_basis=LawfulBasis.CONSENT, legitimate_interest=""
    )
    assert "service_improvement" not in {use.code for use in objection_uses()}


def test_the_form_refuses_an_objection_to_a_use_based_on_consent(user_client):
    page = user_client.get(NEW).content.decode()
    assert "An objection (GDPR Art. 21) can name:" in page
    response = user_client.post(NEW, {"kind": "objection", "purposes": ["testimonial"]})
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", response.content.decode())
    assert "You can object only to" in text and "withdraw your consent" in text
    assert not DataSubjectRequest.objects.exists()


def test_the_same_use_may_be_restricted(user_client, user):
    response = user_client.post(NEW, {"kind": "restriction", "purposes": ["testimonial"]})
    assert response.status_code == 302
    assert DataSubjectRequest.objects.get(user=user).purposes == ["testimonial"]


def test_the_service_refuses_it_too_and_takes_an_objection_based_on_f(user):
    with pytest.raises(services.RequestError, match="You can object only to"):
        services.dsar_request_file(kind="objection", user=user, purposes=["stored_payment_method"])
    assert not DataSubjectRequest.objects.exists()
    request, _ = services.dsar_request_file(
        kind="objection", user=user, purposes=["service_improvement", "newsletter"]
    )
    assert request.purposes == ["service_improvement", "newsletter"]


def test_no_way_around_it_an_objection_block_names_only_what_art_21_allows(user):
    """The block service is the one gate: whoever adds an objection (the filing flow, an
    officer applying a request, the API) can name only an (e)/(f) activity or direct
    marketing; a restriction may name any use."""
    subject = Subject(user_id=user.pk)
    with pytest.raises(services.RequestError, match="You can object only to"):
        services.processing_block_add(
            kind="objection", subject=subject, purpose="stored_payment_method"
        )
    assert not ProcessingBlock.objects.exists()
    services.processing_block_add(kind="objection", subject=subject, purpose="service_improvement")
    services.processing_block_add(kind="objection", subject=subject, purpose="direct_marketing")
    services.processing_block_add(
        kind="restriction", subject=subject, purpose="stored_payment_method"
    )
    assert set(ProcessingBlock.objects.values_list("kind", "purpose")) == {
        ("objection", "service_improvement"),
        ("objection", "direct_marketing"),
        ("restriction", "stored_payment_method"),
    }


# --- Officers edit the words in the admin, with history ----------------------------------------


TEXTS = ("name", "description", "legitimate_interest", "recipients", "transfers", "retention")


def _form(activity: ProcessingActivity, **changes) -> dict:
    """The admin's form as the activity fills it: each text once per language (`name_en`,
    `name_de`, …)."""
    data = {
        "lawful_basis": activity.lawful_basis,
        "data_categories": activity.data_categories,
        "data_uses": activity.data_uses,
        "data_subjects": activity.data_subjects,
        "transfer_safeguard": activity.transfer_safeguard,
        "position": activity.position,
    }
    for name in (*TEXTS, "measures"):
        for language in ("en", "de"):
            field = f"{name}_{language}"
            data[field] = getattr(activity, field) or ""
    return {**data, **changes}


def test_an_officer_edits_the_words_and_the_history_says_who_changed_what_when(officer_client):
    billing = ProcessingActivity.objects.get(code="billing")
    url = f"/admin/dsar/processingactivity/{billing.pk}/change/"
    page = officer_client.get(url).content.decode()
    assert "accounts.Invoice" in page  # the registry entries, from the code, read-only
    response = officer_client.post(
        url,
        _form(billing, code="invoices", retention_en="Eleven years, as the new tax law says."),
    )
    assert response.status_code == 302
    billing.refresh_from_db()
    assert billing.code == "billing"  # the key the code points at stays
    assert billing.retention == "Eleven years, as the new tax law says."
    new, old = billing.history.all()[:2]
    assert new.history_user == officer_client.officer and new.history_type == "~"
    # The English column changed, and the plain column modeltranslation keeps beside it.
    assert {change.field for change in new.diff_against(old).changes} == {
        "retention",
        "retention_en",
    }
    history = officer_client.get(f"/admin/dsar/processingactivity/{billing.pk}/history/")
    page = history.content.decode()
    assert str(officer_client.officer) in page  # who
    assert "Eleven years, as the new tax law says." in page  # what, before and after
    assert "Ten years after the end of the financial year" in page
    # Each change once per language: the plain column beside `retention_en` is not listed again.
    changes = [getattr(r, "history_delta_changes", []) for r in history.context["page_obj"]]
    assert [c["field"] for c in changes[0]] == ["Retention [en]"]


def test_an_edit_outside_the_vocabulary_is_refused_and_nothing_changes(officer_client):
    billing = ProcessingActivity.objects.get(code="billing")
    url = f"/admin/dsar/processingactivity/{billing.pk}/change/"
    response = officer_client.post(
        url, _form(billing, data_categories=["user.invoice"], lawful_basis="f")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "user.invoice" in page and "Basis (f) needs the legitimate interest" in page
    billing.refresh_from_db()
    assert billing.lawful_basis == "c" and billing.history.count() == 1


def test_an_activity_cannot_be_deleted_and_support_cannot_edit(officer_client, make_staff):
    from django.test import Client

    from tests.conftest import login_with_totp

    billing = ProcessingActivity.objects.get(code="billing")
    delete = f"/admin/dsar/processingactivity/{billing.pk}/delete/"
    assert officer_client.get(delete).status_code == 403
    support, secret = make_staff("Support")
    client = Client()
    login_with_totp(client, support, secret)
    url = f"/admin/dsar/processingactivity/{billing.pk}/change/"
    assert client.post(url, _form(billing, retention_en="Forever.")).status_code == 403
    billing.refresh_from_db()
    assert billing.retention.startswith("Ten years")
