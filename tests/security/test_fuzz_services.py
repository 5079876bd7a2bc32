"""Fuzzing the public services that take what people type (*/services*.py): any text either
works or is refused with a ValidationError, and a refusal leaves every table as it was. Values of
the wrong type (numbers, lists, None where text belongs) may be refused with any exception, but
never after a partial write."""

from dataclasses import dataclass, field

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import services as accounts_services
from consent import services as consent_services
from dsar import services as dsar_services
from dsar.registry import Subject
from tests.accounts.factories import UserFactory
from tests.consent.factories import FormSubmissionFactory
from tests.fuzzing import FUZZ_SETTINGS, as_received, database_snapshot, snapshot_diff, texts

# What a service can be handed from a request: lone surrogates arrive as U+FFFD.
received_texts = texts.map(as_received)

wrong_types = st.one_of(
    st.none(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.lists(texts, max_size=2),
    st.dictionaries(texts, texts, max_size=2),
    st.binary(max_size=20),
)


@dataclass
class Call:
    func: object
    fixed: object = None  # World -> the objects the call is about
    text: dict = field(default_factory=dict)  # text arguments and a valid value of each
    other: dict = field(default_factory=dict)  # other arguments and their strategies


class World:
    def __init__(self):

        self.user = UserFactory()
        self.officer = UserFactory(is_staff=True)
        self.request = dsar_services.dsar_request_file(kind="access", user=UserFactory())[0]
        self.submission = FormSubmissionFactory(email="walkin@example.com")


CALLS: dict[str, Call] = {
    "accounts.user_security_question_set": Call(
        accounts_services.user_security_question_set,
        lambda w: {"user": w.user},
        {"question": "first_pet", "answer": "Rex"},
    ),
    "accounts.user_security_answer_check": Call(
        accounts_services.user_security_answer_check, lambda w: {"user": w.user}, {"answer": "x"}
    ),
    "accounts.user_rectify": Call(
        accounts_services.user_rectify,
        lambda w: {"user": w.user},
        {"field": "date_of_birth", "value": "1990-02-03"},
    ),
    "accounts.user_profile_update": Call(
        accounts_services.user_profile_update,
        lambda w: {"user": w.user},
        other={
            "data": st.fixed_dictionaries(
                {},
                optional=dict.fromkeys(
                    ("full_name", "phone", "company_name", "country", "time_zone"), received_texts
                )
                | {"language": received_texts},
            )
        },
    ),
    "consent.form_submission_create": Call(
        consent_services.form_submission_create,
        None,
        {
            "kind": "contact_request",
            "email": "ann@example.com",
            "name": "Ann",
            "company_name": "Acme",
            "message": "Hello",
            "source": "footer",
            "ip_hash": "",
        },
        {
            "details": st.dictionaries(received_texts, received_texts, max_size=2),
            "marketing": st.booleans(),
        },
    ),
    "consent.consent_grant": Call(
        consent_services.consent_grant,
        lambda w: {"subject": Subject(user_id=w.user.pk)},
        {"purpose": "newsletter", "method": "signup", "ip_hash": ""},
    ),
    "consent.consent_preferences_save": Call(
        consent_services.consent_preferences_save,
        lambda w: {"subject": Subject(user_id=w.user.pk)},
        {"ip_hash": ""},
        {
            "purposes": st.dictionaries(
                st.one_of(st.sampled_from(["newsletter", "events"]), received_texts), st.booleans()
            ),
            "partners": st.dictionaries(
                st.integers(min_value=-(2**63), max_value=2**63), st.booleans(), max_size=2
            ),
        },
    ),
    "consent.consent_record_on_request": Call(
        consent_services.consent_record_on_request,
        lambda w: {"subject": Subject(email="someone@example.com"), "staff": w.officer},
        {"purpose": "newsletter", "action": "withdrawn", "reason": "Letter of 1 May"},
    ),
    "consent.cookie_choices_record": Call(
        consent_services.cookie_choices_record,
        lambda w: {"user": w.user},
        {"ip_hash": ""},
        {
            "choices": st.dictionaries(
                st.one_of(st.just("analytics_cookies"), received_texts), st.booleans()
            )
        },
    ),
    "consent.page_view_count": Call(
        consent_services.page_view_count,
        None,
        {"route": "/policy/"},
        {"first_visit": st.booleans()},
    ),
    "consent.form_submission_confirm": Call(
        consent_services.form_submission_confirm,
        None,
        other={"submission_id": st.integers(min_value=-(2**70), max_value=2**70)},
    ),
    "consent.form_submission_flag_child": Call(
        consent_services.form_submission_flag_child,
        lambda w: {"submission": w.submission, "actor": w.officer},
        {"reason": "Age 12"},
    ),
    "dsar.dsar_request_file": Call(
        dsar_services.dsar_request_file,
        None,
        {
            "kind": "rectification",
            "email": "someone@example.com",
            "details": "Fix it",
            "purposes": "",
            "country": "DE",
            "rectification_target": "accounts.User.date_of_birth",
            "rectification_value": "1990-02-03",
        },
    ),
    "dsar.dsar_request_confirm": Call(dsar_services.dsar_request_confirm, None, {"token": "x"}),
    "dsar.dsar_request_transition": Call(
        dsar_services.dsar_request_transition,
        lambda w: {"request": w.request, "actor": w.officer},
        {"to_state": "in_progress", "reason": "Working"},
    ),
    "dsar.dsar_request_extend": Call(
        dsar_services.dsar_request_extend,
        lambda w: {"request": w.request, "actor": w.officer},
        {"reason": "Many records"},
        {"amount": st.one_of(st.sampled_from([1, 2]), st.integers())},
    ),
    "dsar.dsar_request_note": Call(
        dsar_services.dsar_request_note,
        lambda w: {"request": w.request, "actor": w.officer},
        {"text": "Called"},
    ),
    "dsar.processing_block_add": Call(
        dsar_services.processing_block_add,
        lambda w: {"subject": Subject(user_id=w.user.pk), "actor": w.officer},
        {"kind": "restriction", "purpose": "", "reason": "Asked"},
    ),
}


@pytest.fixture
def world(db):
    return World()


def arguments(call: Call, *, wrong: bool):
    """Every text argument kept valid, fuzzed, or (with `wrong`) of another type."""
    text_values = {
        name: st.one_of(st.just(valid), received_texts, wrong_types)
        if wrong
        else st.one_of(st.just(valid), received_texts)
        for name, valid in call.text.items()
    }
    return st.fixed_dictionaries({**text_values, **call.other})


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("wrong", [False, True], ids=["text", "wrong-types"])
def test_fuzzed_service_input_is_taken_or_refused_without_a_partial_write(world, name, wrong):
    call = CALLS[name]
    fixed = call.fixed(world) if call.fixed else {}

    @settings(FUZZ_SETTINGS, max_examples=FUZZ_SETTINGS.max_examples * 3)  # services are quick
    @given(kwargs=arguments(call, wrong=wrong))
    def check(kwargs):
        for value in fixed.values():
            if hasattr(value, "refresh_from_db"):
                value.refresh_from_db()
        before = database_snapshot()
        try:
            call.func(**fixed, **kwargs)
        except ValidationError:
            assert snapshot_diff(before, database_snapshot()) == [], "a refusal wrote"
        except Exception:
            if not wrong:
                raise
            assert snapshot_diff(before, database_snapshot()) == [], "a failed call wrote"

    check()
