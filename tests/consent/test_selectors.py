from datetime import UTC, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from consent import selectors, services
from consent.models import ConsentEvent, PolicyVersion, Purpose
from dsar.registry import Subject
from dsar.services import processing_block_add
from tests.accounts.factories import UserFactory

from .conftest import grant, withdraw

pytestmark = pytest.mark.django_db


def both_gates(subject: Subject, purpose: str, partner=None) -> bool:
    """The single gate and the bulk gate must always agree."""
    single = selectors.can_contact(subject, purpose, partner=partner)
    if subject.user_id is not None:
        bulk = selectors.contactable(
            User.objects.filter(pk=subject.user_id), purpose=purpose, partner=partner
        ).exists()
    else:
        grants = ConsentEvent.objects.filter(email=subject.email.lower(), user__isnull=True)
        bulk = (
            selectors.contactable(grants, purpose=purpose, partner=partner, email_field="email")
            .filter(consent_uid__isnull=True)
            .exists()
        )
    assert single == bulk, f"single gate says {single}, bulk gate says {bulk}"
    return single


def test_nothing_granted_means_no_marketing(user_subject):
    assert both_gates(user_subject, "newsletter") is False


def test_grant_then_withdraw_then_grant_again(user_subject):
    grant(user_subject, "newsletter")
    assert both_gates(user_subject, "newsletter") is True
    assert both_gates(user_subject, "events") is False  # one purpose says nothing of another
    withdraw(user_subject, "newsletter", method="unsubscribe_link")
    assert both_gates(user_subject, "newsletter") is False
    grant(user_subject, "newsletter")
    assert both_gates(user_subject, "newsletter") is True


def test_essential_mail_always_passes_even_for_the_unsubscribed_and_restricted(user_subject):
    grant(user_subject, "newsletter")
    withdraw(user_subject, "newsletter", method="unsubscribe_link")
    processing_block_add(kind="restriction", subject=user_subject, purpose="")
    for code in ("account_security", "payment", "policy_changes", "requests"):
        assert both_gates(user_subject, code) is True


def test_an_unverified_account_address_gets_no_marketing(user, user_subject):
    grant(user_subject, "newsletter")
    EmailAddress.objects.filter(user=user).update(verified=False)
    assert both_gates(user_subject, "newsletter") is False


def test_email_only_subject_and_the_account_with_that_address_are_one_person(user):
    by_email = Subject(email=user.email.upper())
    grant(by_email, "newsletter", method="form_submission")  # before they had an account
    assert both_gates(Subject(user_id=user.pk), "newsletter") is True
    assert selectors.can_contact(by_email, "newsletter") is True
    withdraw(Subject(user_id=user.pk), "newsletter")  # later, signed in
    assert selectors.can_contact(by_email, "newsletter") is False
    assert both_gates(Subject(user_id=user.pk), "newsletter") is False


def test_email_only_subject_without_account():
    person = Subject(email="Lena@Example.org")
    assert both_gates(person, "events") is False
    grant(person, "events", method="form_submission")
    assert both_gates(Subject(email="lena@example.org"), "events") is True
    withdraw(person, "events", method="unsubscribe_link")
    assert both_gates(person, "events") is False


def test_partners_one_by_one_and_opt_out_of_every_partner(user_subject, partners):
    northwind, contoso = partners
    grant(user_subject, "partner_notifications", partner=northwind)
    assert both_gates(user_subject, "partner_notifications", northwind.pk) is True
    assert both_gates(user_subject, "partner_notifications", contoso.pk) is False
    grant(user_subject, "partner_notifications", partner=contoso)
    withdraw(user_subject, "partner_notifications")  # every partner
    assert both_gates(user_subject, "partner_notifications", northwind.pk) is False
    assert both_gates(user_subject, "partner_notifications", contoso.pk) is False
    grant(user_subject, "partner_notifications", partner=contoso)  # later, one again
    assert both_gates(user_subject, "partner_notifications", contoso.pk) is True
    assert both_gates(user_subject, "partner_notifications", northwind.pk) is False


def test_a_per_partner_purpose_needs_its_partner(user_subject):
    with pytest.raises(ValueError, match="partner"):
        selectors.can_contact(user_subject, "partner_notifications")


def test_inactive_partner_or_purpose_stops_mail(user_subject, partners):
    northwind = partners[0]
    grant(user_subject, "partner_notifications", partner=northwind)
    grant(user_subject, "newsletter")
    northwind.is_active = False
    northwind.save()
    Purpose.objects.filter(code="newsletter").update(is_active=False)
    assert both_gates(user_subject, "partner_notifications", northwind.pk) is False
    assert both_gates(user_subject, "newsletter") is False


@pytest.mark.parametrize(
    ("kind", "block_purpose", "stopped", "allowed"),
    [
        ("restriction", "newsletter", ["newsletter"], ["events"]),
        ("objection", "direct_marketing", ["newsletter", "events"], []),
        ("restriction", "", ["newsletter", "events"], []),
    ],
)
def test_dsar_restrictions_and_objections_stop_mail(
    user_subject, kind, block_purpose, stopped, allowed
):
    for code in ("newsletter", "events"):
        grant(user_subject, code)
    processing_block_add(kind=kind, subject=user_subject, purpose=block_purpose)
    for code in stopped:
        assert both_gates(user_subject, code) is False
    for code in allowed:
        assert both_gates(user_subject, code) is True


def test_a_block_recorded_by_email_stops_the_account_too(user, user_subject):
    grant(user_subject, "newsletter")
    processing_block_add(kind="objection", subject=Subject(email=user.email.upper()), purpose="")
    assert both_gates(user_subject, "newsletter") is False


def test_lifted_block_lets_mail_through_again(user_subject):
    from datetime import timedelta

    from django.utils import timezone

    from dsar.services import processing_block_announce_lift, processing_blocks_lift_due

    grant(user_subject, "newsletter")
    block = processing_block_add(kind="restriction", subject=user_subject, purpose="newsletter")
    assert both_gates(user_subject, "newsletter") is False
    processing_block_announce_lift(block=block, actor=None, reason="Checked.")
    assert both_gates(user_subject, "newsletter") is False  # announced, not lifted yet
    processing_blocks_lift_due(now=timezone.now() + timedelta(days=8))
    assert both_gates(user_subject, "newsletter") is True


def test_cookie_purposes_are_not_a_mail_gate(user_subject):
    with pytest.raises(
        ValueError, match=r"^Cookie choices belong to a browser, not to a subject\.$"
    ):
        selectors.can_contact(user_subject, "analytics_cookies")


def test_unknown_purpose_is_a_clear_error(user_subject):
    with pytest.raises(
        selectors.UnknownPurpose, match="There is no purpose with the code 'carrier_pigeons'."
    ):
        selectors.can_contact(user_subject, "carrier_pigeons")


def _people(count: int, start: int) -> list[User]:
    users = User.objects.bulk_create(
        [
            User(
                username=f"bulk{start + i}",
                email=f"bulk{start + i}@example.com",
                full_name="Bulk Person",
                company_name="Bulk Ltd",
                country="IE",
            )
            for i in range(count)
        ]
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users]
    )
    policy = selectors.policy_version_in_force()
    newsletter = Purpose.objects.get(code="newsletter")
    now = timezone.now()
    events = []
    for i, u in enumerate(users):
        events.append(
            ConsentEvent(
                user=u,
                purpose=newsletter,
                action="granted",
                method="signup",
                policy_version=policy,
                at=now - timedelta(days=2),
            )
        )
        if i % 3 == 0:  # a third withdrew since
            events.append(
                ConsentEvent(
                    user=u,
                    purpose=newsletter,
                    action="withdrawn",
                    method="unsubscribe_link",
                    policy_version=policy,
                    at=now - timedelta(days=1),
                )
            )
    ConsentEvent.objects.bulk_create(events)
    for u in users[1:3]:
        processing_block_add(kind="objection", subject=Subject(user_id=u.pk), purpose="")
    return users


@pytest.mark.parametrize("count", [10, 1000])
def test_bulk_gate_uses_the_same_number_of_queries_for_10_and_1000(
    count, django_assert_num_queries
):
    users = _people(count, start=0)
    expected = {u.pk for i, u in enumerate(users) if i % 3 != 0 and i not in (1, 2)}
    recipients = User.objects.filter(username__startswith="bulk")
    with django_assert_num_queries(2):  # the purpose, then the recipients
        allowed = list(
            selectors.contactable(recipients, purpose="newsletter").values_list("pk", flat=True)
        )
    assert set(allowed) == expected


def test_policy_version_in_force():
    first = PolicyVersion.objects.get(version="1.0")
    assert selectors.policy_version_in_force() == first
    assert selectors.policy_version_in_force(at=datetime(2025, 12, 31, tzinfo=UTC)) is None
    later = PolicyVersion.objects.create(
        version="2.0",
        text="New text",
        published_at=timezone.now(),
        effective_at=timezone.now() + timedelta(days=30),
    )
    assert selectors.policy_version_in_force() == first
    assert selectors.policy_version_in_force(at=later.effective_at) == later


def test_consent_receipt_follows_the_kantara_fields(user, user_subject, partners):
    grant(user_subject, "newsletter", method="signup")
    grant(user_subject, "partner_notifications", partner=partners[0])
    withdraw(user_subject, "newsletter", method="unsubscribe_link")
    receipt = selectors.consent_receipt(subject=user_subject)
    for field in (
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "language",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
        "sensitive",
        "spiCat",
    ):
        assert field in receipt
    assert receipt["piiPrincipalId"] == user.email
    consented = receipt["services"][0]["purposes"]
    assert [p["thirdPartyName"] for p in consented] == ["Northwind Resellers"]
    assert [e["state"] for e in receipt["consentHistory"]] == ["granted", "granted", "withdrawn"]
    assert all(e["policyVersion"] == "1.0" for e in receipt["consentHistory"])
    states = {(s["purpose"], s["partner"]): s["state"] for s in receipt["consentState"]}
    assert states[("newsletter", None)] == "not granted"
    assert states[("account_security", None)] == "granted"


def test_consent_state_of_another_person_is_not_mixed_in(user_subject):
    other = UserFactory()
    grant(Subject(user_id=other.pk), "newsletter")
    assert selectors.consent_state(subject=user_subject).latest == {}


def test_the_later_of_the_account_rows_and_the_address_rows_decides(user):
    """The bulk gate looks up the latest account row and the latest email-only row of the
    address apart: the later of the two (by time, then id) decides, as in the single gate."""
    policy = selectors.policy_version_in_force()
    newsletter = Purpose.objects.get(code="newsletter")
    now = timezone.now()

    def row(action, at, **who):
        ConsentEvent.objects.create(
            purpose=newsletter, action=action, method="form_submission", policy_version=policy,
            at=at, **who,
        )  # fmt: skip

    account, address = Subject(user_id=user.pk), {"email": user.email.lower()}
    row("withdrawn", now - timedelta(days=2), user=user)
    row("granted", now - timedelta(days=1), **address)  # a form, later, not signed in
    assert both_gates(account, "newsletter") is True
    row("withdrawn", now - timedelta(hours=1), user=user)
    assert both_gates(account, "newsletter") is False
    row("granted", now - timedelta(hours=1), **address)  # the same time: the later row wins
    assert both_gates(account, "newsletter") is True
    row("withdrawn", now - timedelta(hours=1), user=user)
    assert both_gates(account, "newsletter") is False


# --- What a wrong rule in the gate would let through (docs/mutation.md) ----------------------


def test_another_persons_grant_does_not_let_this_person_be_contacted(user_subject):
    other = UserFactory(username="other", email="other@example.org")
    grant(Subject(user_id=other.pk), "newsletter")
    grant(Subject(email="someone.else@example.org"), "events", method="form_submission")
    for purpose in ("newsletter", "events"):
        assert selectors.consent_is_granted(subject=user_subject, purpose=purpose) is False
        assert (
            selectors.consent_is_granted(subject=user_subject, purpose=purpose, channel="email")
            is False
        )
        assert selectors.can_contact(user_subject, purpose) is False
    assert selectors.can_contact(Subject(user_id=other.pk), "newsletter") is True


def test_the_ledger_answer_for_an_address_includes_its_account_s_rows(user):
    """consent_is_granted resolves the subject itself unless told it already did."""
    grant(Subject(user_id=user.pk), "newsletter")
    by_address = Subject(email=user.email.upper())
    assert selectors.consent_is_granted(subject=by_address, purpose="newsletter") is True
    assert (
        selectors.consent_is_granted(subject=by_address, purpose="newsletter", channel="email")
        is True
    )
    resolved = selectors.subject_resolve(subject=by_address)
    assert resolved == Subject(user_id=user.pk, email=user.email.lower())
    assert (
        selectors.consent_is_granted(subject=resolved, purpose="newsletter", resolved=True) is True
    )


def test_essential_purposes_stand_in_the_ledger_without_any_row(user_subject):
    for code in ("account_security", "policy_changes"):
        assert selectors.consent_is_granted(subject=user_subject, purpose=code) is True


def test_without_a_channel_the_ledger_answers_for_the_purpose_as_a_whole(user_subject):
    grant(user_subject, "newsletter")
    services.consent_record(
        subject=user_subject,
        purpose="newsletter",
        action="withdrawn",
        method="preference_centre",
        channel="email",
    )
    assert selectors.consent_is_granted(subject=user_subject, purpose="newsletter") is True
    assert (
        selectors.consent_is_granted(subject=user_subject, purpose="newsletter", channel="email")
        is False
    )


def test_the_latest_row_by_time_decides_even_when_recorded_later(user_subject):
    """A withdrawal that happened before a grant but reached the ledger after it (an import, a
    partner's list) does not undo the grant; among rows of the same moment the later row wins."""
    now = timezone.now()
    grant_row = services.consent_record(
        subject=user_subject,
        purpose="newsletter",
        action="granted",
        method="preference_centre",
        at=now,
    )
    services.consent_record(
        subject=user_subject,
        purpose="newsletter",
        action="withdrawn",
        method="preference_centre",
        at=now - timedelta(days=1),
    )
    assert selectors.consent_is_granted(subject=user_subject, purpose="newsletter") is True
    assert selectors.can_contact(user_subject, "newsletter") is True
    services.consent_record(
        subject=user_subject,
        purpose="newsletter",
        action="withdrawn",
        method="preference_centre",
        at=grant_row.at,
    )
    assert selectors.consent_is_granted(subject=user_subject, purpose="newsletter") is False
    assert selectors.can_contact(user_subject, "newsletter") is False


def test_only_the_account_s_own_address_verified_by_the_account_counts(user, user_subject):
    grant(user_subject, "newsletter")
    EmailAddress.objects.filter(user=user).update(verified=False)
    # Another address of the same account is verified: not the one we would mail.
    EmailAddress.objects.create(user=user, email="second@example.org", verified=True)
    assert selectors.can_contact(user_subject, "newsletter") is False
    # Someone else verified this account's address (it was typed by mistake): not this account.
    other = UserFactory(username="owner", email="owner@example.org")
    EmailAddress.objects.create(user=other, email=user.email.upper(), verified=True)
    assert selectors.can_contact(user_subject, "newsletter") is False
    EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
    assert selectors.can_contact(user_subject, "newsletter") is True


def test_the_gate_says_what_is_wrong_with_a_channel_or_a_partner(user_subject, partners):
    cases = [
        ({"purpose": "newsletter", "channel": "fax"}, "Unknown channel 'fax'."),
        (
            {"purpose": "partner_notifications", "partner": partners[0], "channel": "push"},
            "Purpose 'partner_notifications' is not sent by push.",
        ),
        (
            {"purpose": "partner_notifications"},
            "Purpose 'partner_notifications' is given per partner: say which partner.",
        ),
        (
            {"purpose": "newsletter", "partner": partners[0]},
            "Purpose 'newsletter' is not given per partner.",
        ),
    ]
    for kwargs, message in cases:
        purpose = kwargs.pop("purpose")
        with pytest.raises(ValueError) as refused:
            selectors.can_contact(user_subject, purpose, **kwargs)
        assert str(refused.value) == message


def test_a_data_use_purpose_is_asked_without_a_channel_check(user_subject):
    assert selectors.can_contact(user_subject, "testimonial") is False
    grant(user_subject, "testimonial")
    assert selectors.can_contact(user_subject, "testimonial") is True


def test_resolving_with_a_lock_finds_the_account_or_says_it_is_gone(user):
    found = selectors.subject_resolve(subject=Subject(user_id=user.pk), lock=True)
    assert found == Subject(user_id=user.pk, email=user.email.lower())
    gone = user.pk + 1000
    stale = Subject(user_id=gone, email="Gone@Example.org")
    # Without the lock, a missing account is simply the address the caller knew.
    assert selectors.subject_resolve(subject=stale) == Subject(
        user_id=gone, email="gone@example.org"
    )
    with pytest.raises(selectors.SubjectGone) as refused:
        selectors.subject_resolve(subject=stale, lock=True)
    assert refused.value.args == (gone,)
