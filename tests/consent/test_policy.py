"""Policy versions: drafting, publishing, the 30-day rule from every path (service, admin,
shell/ORM), the public /policy/ pages, the banner and its acknowledgement, and signup."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from consent import services
from consent.models import PolicyAcknowledgement, PolicyNotice, PolicyVersion
from consent.policies import policy_version_publish_errors
from consent.policy_text import policy_diff, policy_markdown_render
from dsar.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.accounts.test_signup import signup_data
from tests.conftest import login_with_totp

TEXT_1_1 = """# Workpex privacy policy

We keep your data safe.

## Your rights

You may ask for a copy of your data.
You may ask us to erase it.
"""


def draft(version="2.0", *, material=True, days=31, text=TEXT_1_1, summary="We share less."):
    return services.policy_version_draft(
        version=version,
        text=text,
        summary_of_changes=summary,
        is_material=material,
        effective_at=timezone.now() + timedelta(days=days),
    )


# --- Rendering and diff -----------------------------------------------------------------------


def test_markdown_is_rendered_without_raw_html_or_script_links():
    html = policy_markdown_render(
        "# Title\n\n<script>alert(1)</script>\n\n<b onclick='x()'>raw</b>\n\n"
        "[bad](javascript:alert(1)) [good](https://workpex.example/) **strong**"
    )
    assert "<h1>Title</h1>" in html
    assert "<script" not in html and "<b " not in html and "<b>" not in html
    assert "&lt;script&gt;" in html  # shown as text, not run
    assert "javascript:" not in html.split("[bad]")[0] and 'href="javascript' not in html
    assert '<a href="https://workpex.example/" rel="noopener noreferrer nofollow">' in html
    assert "<strong>strong</strong>" in html


def test_diff_marks_changes_with_ins_and_del_and_hidden_labels():
    lines = policy_diff("a\nkeep this line\nc", "a\nkeep that line\nc\nnew")
    kinds = [line.kind for line in lines if line]
    assert kinds == ["same", "changed", "same", "added"]
    changed = str(lines[1].html)
    assert '<del><span class="visually-hidden">removed: </span>this</del>' in changed
    assert '<ins><span class="visually-hidden">added: </span>that</ins>' in changed
    assert '<ins><span class="visually-hidden">added: </span>new</ins>' in str(lines[3].html)
    escaped = policy_diff("x", "<script>y</script>")
    assert "<script>" not in "".join(str(line.html) for line in escaped if line)


# --- The service --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_minor_version_is_published_without_notices(user):
    policy = draft("1.1", material=False, days=0)
    services.policy_version_publish(policy=policy)
    policy.refresh_from_db()
    assert policy.published_at is not None and policy.notices_started_at is None
    assert not PolicyNotice.objects.exists()


@pytest.mark.django_db
def test_publishing_a_material_version_makes_one_notice_per_active_account_holder(
    django_capture_on_commit_callbacks,
):
    people = UserFactory.create_batch(3)
    UserFactory(is_active=False)
    policy = draft()
    with django_capture_on_commit_callbacks() as callbacks:
        services.policy_version_publish(policy=policy)
    policy.refresh_from_db()
    assert policy.notices_started_at == policy.published_at
    notices = PolicyNotice.objects.filter(version=policy)
    assert sorted(notices.values_list("user_id", flat=True)) == sorted(p.pk for p in people)
    assert set(notices.values_list("state", flat=True)) == {"pending"}
    assert len(callbacks) == 1  # the fan-out is woken after the commit
    assert AuditEvent.objects.filter(action="policy_version_published").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("days", [0, 1, 29])
def test_the_service_refuses_a_material_version_sooner_than_30_days(user, days):
    policy = draft(days=days)
    with pytest.raises(services.PolicyError, match="at least 30 days"):
        services.policy_version_publish(policy=policy)
    policy.refresh_from_db()
    assert policy.published_at is None and policy.notices_started_at is None
    assert not PolicyNotice.objects.exists()


@pytest.mark.django_db
def test_exactly_30_days_is_allowed(user):
    now = timezone.now()
    policy = services.policy_version_draft(
        version="2.0",
        text="Text",
        summary_of_changes="Changes",
        is_material=True,
        effective_at=now + timedelta(days=30),
    )
    services.policy_version_publish(policy=policy, now=now)
    assert PolicyVersion.objects.get(pk=policy.pk).published_at == now


@pytest.mark.django_db
def test_other_publishing_rules():
    no_summary = draft("2.0", summary="")
    with pytest.raises(services.PolicyError, match="summary of changes"):
        services.policy_version_publish(policy=no_summary)
    past = draft("2.1", material=False, days=-2)
    with pytest.raises(services.PolicyError, match="past"):
        services.policy_version_publish(policy=past)
    before_current = draft("2.2", material=False, days=1)
    later = draft("2.3", material=False, days=5)
    services.policy_version_publish(policy=later)
    with pytest.raises(services.PolicyError, match="must apply after version 2.3"):
        services.policy_version_publish(policy=before_current)
    with pytest.raises(services.PolicyError, match="already published"):
        services.policy_version_publish(policy=later)


@pytest.mark.django_db
def test_a_published_version_cannot_be_changed_through_the_service():
    policy = draft()
    services.policy_version_publish(policy=policy)
    with pytest.raises(services.PolicyError, match="cannot be changed"):
        services.policy_version_update(policy=policy, effective_at=timezone.now())


# --- The database: the shell cannot bypass the rule -------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_a_material_version_sooner_than_30_days_from_the_shell():
    now = timezone.now()
    with pytest.raises(DatabaseError), transaction.atomic():
        PolicyVersion.objects.create(
            version="9.0",
            text="x",
            is_material=True,
            published_at=now,
            notices_started_at=now,
            effective_at=now + timedelta(days=29),
        )
    with pytest.raises(DatabaseError), transaction.atomic():
        # Published material without notices: the rule cannot be dodged by leaving them out.
        PolicyVersion.objects.create(
            version="9.1", text="x", is_material=True, published_at=now, effective_at=now
        )
    assert not PolicyVersion.objects.filter(version__in=["9.0", "9.1"]).exists()


@pytest.mark.django_db
def test_a_published_version_cannot_be_edited_from_the_shell():
    policy = draft()
    services.policy_version_publish(policy=policy)
    policy.refresh_from_db()
    attempts = [
        {"effective_at": timezone.now() + timedelta(days=2)},  # the check constraint and trigger
        {"is_material": False, "notices_started_at": None},  # "make it minor": the trigger
        {"text": "something else"},
    ]
    for changes in attempts:
        with pytest.raises(DatabaseError), transaction.atomic():
            PolicyVersion.objects.filter(pk=policy.pk).update(**changes)
    with pytest.raises(DatabaseError), transaction.atomic():
        policy.effective_at = timezone.now() + timedelta(days=1)
        policy.save()
    fresh = PolicyVersion.objects.get(pk=policy.pk)
    assert fresh.is_material and fresh.effective_at > timezone.now() + timedelta(days=30)


# --- The admin -------------------------------------------------------------------------------


@pytest.fixture
def officer_client(make_staff):
    officer, secret = make_staff("Privacy officer")
    client = Client()
    login_with_totp(client, officer, secret)
    return client


def admin_form(version="3.0", days=31, material="on"):
    effective = timezone.now() + timedelta(days=days)
    data = {
        "version": version,
        "effective_at_0": effective.strftime("%Y-%m-%d"),
        "effective_at_1": effective.strftime("%H:%M:%S"),
        "summary_of_changes": "We share data with a new processor.",
        "text": TEXT_1_1,
    }
    if material:
        data["is_material"] = material
    return data


@pytest.mark.django_db
def test_an_officer_drafts_and_publishes_in_admin_and_sees_progress(officer_client, user):
    response = officer_client.post("/admin/consent/policyversion/add/", admin_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = PolicyVersion.objects.get(version="3.0")
    assert policy.published_at is None
    page = officer_client.get(f"/admin/consent/policyversion/{policy.pk}/change/").content.decode()
    assert "Publish this version" in page
    officer_client.post(f"/admin/consent/policyversion/{policy.pk}/publish/")
    policy.refresh_from_db()
    assert policy.published_at is not None
    assert PolicyNotice.objects.filter(version=policy).count() >= 2  # the user and the officer
    page = officer_client.get(f"/admin/consent/policyversion/{policy.pk}/change/").content.decode()
    assert 'id="notice-progress"' in page and "Publish this version" not in page
    listing = officer_client.get("/admin/consent/policyversion/").content.decode()
    assert "notices pending" in listing.lower()
    # A published version's page is read-only: a POST changes nothing.
    response = officer_client.post(
        f"/admin/consent/policyversion/{policy.pk}/change/", admin_form("3.0", days=1)
    )
    assert response.status_code == 403
    assert PolicyVersion.objects.get(pk=policy.pk).effective_at == policy.effective_at


@pytest.mark.django_db
def test_the_admin_cannot_bypass_the_30_day_rule(officer_client, user):
    # The form refuses it at once...
    response = officer_client.post("/admin/consent/policyversion/add/", admin_form(days=10))
    assert response.status_code == 200
    assert "at least 30 days" in response.content.decode()
    assert not PolicyVersion.objects.filter(version="3.0").exists()
    # ...and a draft that became too close (or was made in the shell) is refused on publish.
    policy = draft("3.1", days=10)
    response = officer_client.post(f"/admin/consent/policyversion/{policy.pk}/publish/")
    assert response.status_code == 302
    page = officer_client.get(response["Location"]).content.decode()
    assert "at least 30 days" in page
    policy.refresh_from_db()
    assert policy.published_at is None and not PolicyNotice.objects.exists()


@pytest.mark.django_db
def test_support_staff_cannot_publish(make_staff):
    support, secret = make_staff("Support")
    client = Client()
    login_with_totp(client, support, secret)
    policy = draft()
    assert client.post(f"/admin/consent/policyversion/{policy.pk}/publish/").status_code == 403
    assert PolicyVersion.objects.get(pk=policy.pk).published_at is None


# --- /policy/ ---------------------------------------------------------------------------------


@pytest.fixture
def versions(db):
    """1.0 in force (from the migration), 1.1 minor in force since yesterday's publication, 2.0
    material and upcoming."""
    now = timezone.now()
    minor = draft("1.1", material=False, days=0, text=TEXT_1_1, summary="Clearer headings.")
    services.policy_version_publish(policy=minor, now=now - timedelta(minutes=1))
    material = draft("2.0", text=TEXT_1_1.replace("erase it", "erase it, or restrict it"), days=40)
    services.policy_version_publish(policy=material)
    return minor, material


@pytest.mark.django_db
def test_policy_page_shows_in_force_upcoming_history_and_diff(client, versions):
    minor, material = versions
    page = client.get("/policy/").content.decode()
    assert "Version 1.1, in force since" in page
    assert "<h2>Your rights</h2>" in page
    assert "Version 2.0 applies from" in page and "We share less." in page
    for version in ("1.0", "1.1", "2.0"):
        assert f'href="/policy/{version}/"' in page
    # The default diff: what the upcoming change changes.
    assert "Changes from version 1.1 to version 2.0" in page
    diff = page.split('class="policy-diff')[1].split("</section>")[0]
    assert '<span class="visually-hidden">added: </span>' in diff and "restrict" in diff


@pytest.mark.django_db
def test_diff_between_any_two_versions_and_bad_input(client, versions):
    page = client.get("/policy/?from=1.0&to=2.0").content.decode()
    assert "Changes from version 1.0 to version 2.0" in page
    assert 'visually-hidden">removed: ' in page and 'visually-hidden">added: ' in page
    bad = client.get("/policy/?from=1.0&to=7.7")
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    same = client.get("/policy/?from=1.1&to=1.1")
    assert same.status_code == 400 and "two different versions" in same.content.decode()


@pytest.mark.django_db
def test_a_draft_is_not_public(client):
    draft("5.0")
    assert client.get("/policy/5.0/").status_code == 404
    assert "5.0" not in client.get("/policy/").content.decode()
    assert client.get("/policy/1.0/").status_code == 200


# --- Banner and acknowledgement ---------------------------------------------------------------


@pytest.mark.django_db
def test_banner_until_acknowledged(user, versions):
    _minor, material = versions
    client = Client()
    client.force_login(user)
    page = client.get("/accounts/profile/").content.decode()
    assert 'role="region"' in page and 'id="policy-banner-title"' in page
    assert "I have read it" in page and 'href="/policy/"' in page
    response = client.post(
        "/policy/acknowledge/", {"version": material.pk, "next": "/accounts/profile/"}
    )
    assert response["Location"] == "/accounts/profile/"
    ack = PolicyAcknowledgement.objects.get(user=user, version=material)
    assert ack.method == "banner"
    assert 'id="policy-banner-title"' not in client.get("/accounts/profile/").content.decode()
    # A second click records nothing new; an off-site "next" is ignored.
    response = client.post("/policy/acknowledge/", {"version": material.pk, "next": "https://x.y/"})
    assert response["Location"] == "/policy/"
    assert PolicyAcknowledgement.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_no_banner_for_visitors_or_minor_versions_and_bad_acknowledgements(user):
    minor = draft("1.1", material=False, days=3)
    services.policy_version_publish(policy=minor)
    client = Client()
    client.force_login(user)
    assert 'id="policy-banner-title"' not in client.get("/accounts/profile/").content.decode()
    assert 'id="policy-banner-title"' not in Client().get("/").content.decode()
    client.post("/policy/acknowledge/", {"version": minor.pk})
    client.post("/policy/acknowledge/", {"version": "nonsense"})
    assert not PolicyAcknowledgement.objects.exists()
    assert Client().post("/policy/acknowledge/", {"version": minor.pk}).status_code == 302


@pytest.mark.django_db
def test_signup_between_publication_and_effective_date_shows_the_upcoming_version(client, versions):
    _minor, material = versions
    page = client.get("/accounts/signup/").content.decode()
    assert "Our privacy policy is changing" in page
    assert "Version 2.0 applies from" in page and 'href="/policy/2.0/"' in page
    assert "We share less." in page
    response = client.post("/accounts/signup/", signup_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    ack = PolicyAcknowledgement.objects.get(user__username="aoife")
    assert (ack.version, ack.method) == (material, "signup")
    assert mail.outbox  # the address confirmation


@pytest.mark.django_db
def test_signup_without_an_upcoming_version_shows_nothing_about_it(client):
    assert "Our privacy policy is changing" not in client.get("/accounts/signup/").content.decode()


# --- The boundaries of the publishing rules (docs/mutation.md) ----------------------------------


def unsaved(*, now, material=True, days=31, text="Text", summary="Changes", effective=True):
    return PolicyVersion(
        version="9.0",
        text=text,
        summary_of_changes=summary,
        is_material=material,
        effective_at=now + timedelta(days=days) if effective else None,
    )


@pytest.mark.django_db
def test_a_material_version_a_minute_short_of_30_days_is_refused_and_changes_nothing(user):
    now = timezone.now()
    policy = services.policy_version_draft(
        version="2.0",
        text="Text",
        summary_of_changes="Changes",
        is_material=True,
        effective_at=now + timedelta(days=30) - timedelta(minutes=1),
    )
    with pytest.raises(services.PolicyError, match="at least 30 days"):
        services.policy_version_publish(policy=policy, now=now)
    policy.refresh_from_db()
    assert policy.published_at is None and policy.notices_started_at is None
    assert not PolicyNotice.objects.exists()


@pytest.mark.django_db
def test_the_notices_start_when_published_and_the_date_applied_stays(user):
    now = timezone.now()
    effective = now + timedelta(days=30)
    policy = services.policy_version_draft(
        version="2.0",
        text="Text",
        summary_of_changes="Changes",
        is_material=True,
        effective_at=effective,
    )
    services.policy_version_publish(policy=policy, now=now)
    policy.refresh_from_db()
    assert (policy.published_at, policy.notices_started_at, policy.effective_at) == (
        now,
        now,
        effective,
    )
    assert list(PolicyNotice.objects.values_list("user_id", "state")) == [(user.pk, "pending")]
    event = AuditEvent.objects.get(action="policy_version_published")
    assert event.detail == {
        "version": "2.0",
        "material": True,
        "effective_at": effective.isoformat(),
        "notices": 1,
    }


@pytest.mark.django_db
def test_a_minor_version_chosen_a_moment_ago_applies_from_now_and_sends_no_notice(
    user, django_capture_on_commit_callbacks
):
    now = timezone.now()
    policy = services.policy_version_draft(
        version="1.1",
        text="Text",
        summary_of_changes="",
        is_material=False,
        effective_at=now - timedelta(seconds=30),
    )
    with django_capture_on_commit_callbacks() as callbacks:
        services.policy_version_publish(policy=policy, now=now)
    policy.refresh_from_db()
    assert (policy.published_at, policy.effective_at, policy.notices_started_at) == (now, now, None)
    assert callbacks == [] and not PolicyNotice.objects.exists()
    detail = AuditEvent.objects.get(action="policy_version_published").detail
    assert detail["notices"] == 0 and detail["material"] is False


@pytest.mark.django_db
def test_a_minor_version_keeps_a_later_date_it_was_given():
    now = timezone.now()
    later = now + timedelta(days=3)
    policy = services.policy_version_draft(
        version="1.1", text="Text", summary_of_changes="", is_material=False, effective_at=later
    )
    services.policy_version_publish(policy=policy, now=now)
    policy.refresh_from_db()
    assert policy.effective_at == later


@pytest.mark.django_db
def test_the_minute_of_grace_for_a_minor_version_is_one_minute():
    now = timezone.now()
    for seconds in (59, 60):
        just_now = unsaved(now=now, material=False, days=0)
        just_now.effective_at = now - timedelta(seconds=seconds)
        assert policy_version_publish_errors(policy=just_now, now=now) == []
    too_old = unsaved(now=now, material=False, days=0)
    too_old.effective_at = now - timedelta(seconds=61)
    assert policy_version_publish_errors(policy=too_old, now=now) == [
        "A version cannot apply in the past."
    ]


@pytest.mark.django_db
def test_each_missing_piece_has_its_own_reason():
    now = timezone.now()
    assert policy_version_publish_errors(policy=unsaved(now=now), now=now) == []
    assert policy_version_publish_errors(policy=unsaved(now=now, text="  \n"), now=now) == [
        "The policy text is empty."
    ]
    assert policy_version_publish_errors(policy=unsaved(now=now, summary=" "), now=now) == [
        "A material change needs a summary of changes: the notice shows it."
    ]
    assert policy_version_publish_errors(
        policy=unsaved(now=now, effective=False, text=""), now=now
    ) == ["The policy text is empty.", "Say from when the version applies."]
    earliest = date_format(timezone.localtime(now + timedelta(days=30)), "DATETIME_FORMAT")
    assert policy_version_publish_errors(policy=unsaved(now=now, days=29), now=now) == [
        "A material change applies at least 30 days after its notices go out: "
        f"choose {earliest} or later."
    ]
    published = unsaved(now=now)
    published.published_at = now
    assert policy_version_publish_errors(policy=published, now=now) == [
        "Version 9.0 is already published."
    ]


@pytest.mark.django_db
def test_a_version_must_apply_after_the_latest_published_one_not_at_the_same_time():
    now = timezone.now()
    # Drafted in the other order: the latest to apply is not the latest row.
    latest = draft("2.2", material=False, days=5)
    first = draft("2.1", material=False, days=2)
    services.policy_version_publish(policy=first, now=now)
    services.policy_version_publish(policy=latest, now=now)
    between = unsaved(now=now, material=False, days=3)
    same_time = unsaved(now=now, material=False, days=0)
    same_time.effective_at = PolicyVersion.objects.get(pk=latest.pk).effective_at
    applies = date_format(timezone.localtime(same_time.effective_at), "DATETIME_FORMAT")
    for policy in (between, same_time):
        assert policy_version_publish_errors(policy=policy, now=now) == [
            f"It must apply after version 2.2, which applies from {applies}."
        ]
    after = unsaved(now=now, material=False, days=6)
    assert policy_version_publish_errors(policy=after, now=now) == []
