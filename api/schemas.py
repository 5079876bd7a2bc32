"""The shapes of what the API takes and answers (pydantic, through django-ninja)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints, model_validator

from dsar.models import WebhookEventType
from dsar.selectors import webhook_delivery_status

MAX_ID = 2**63 - 1
BATCH_MAX = 10_000

UserId = Annotated[int, Field(ge=1, le=MAX_ID)]
Email = Annotated[str, StringConstraints(min_length=3, max_length=254)]
Code = Annotated[str, StringConstraints(pattern=r"^[-a-zA-Z0-9_]{1,64}$")]


def examples(*bodies: dict) -> ConfigDict:
    """Whole examples of a body, for the docs and for Schemathesis's examples."""
    return ConfigDict(json_schema_extra={"examples": list(bodies)})


SOMEONE = {"email": "someone@example.com"}
Channel = Literal["email", "push"]
Source = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$"),
    Field(description="Where the choice was made, in words: a screen, a form, a call."),
]


class SubjectIn(Schema):
    """The person: an account holder by `user_id`, or anyone by `email` (one of the two)."""

    user_id: UserId | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def one_of_two(self):
        if (self.user_id is None) == (self.email is None):
            raise ValueError("Give either user_id or email.")
        return self


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict] | None = None


class ContactOut(Schema):
    contactable: bool
    purpose: str
    channel: str
    partner: str | None = None


class BatchIn(Schema):
    model_config = examples(
        {"purpose": "newsletter", "user_ids": [1, 2], "emails": ["someone@example.com"]}
    )

    purpose: Code
    channel: Channel = "email"
    partner: Code | None = None
    user_ids: list[UserId] = Field(default_factory=list, max_length=BATCH_MAX)
    emails: list[Email] = Field(default_factory=list, max_length=BATCH_MAX)

    @model_validator(mode="after")
    def bounded(self):
        if len(self.user_ids) + len(self.emails) > BATCH_MAX:
            raise ValueError(f"At most {BATCH_MAX} people in one call.")
        return self


class BatchItem(Schema):
    user_id: int | None = None
    email: str | None = None
    contactable: bool


class BatchOut(Schema):
    purpose: str
    channel: str
    results: list[BatchItem]


class ConsentIn(Schema):
    model_config = examples(
        {
            "subject": SOMEONE,
            "purpose": "newsletter",
            "action": "granted",
            "source": "the sign-up form of the mobile app",
        }
    )

    subject: SubjectIn
    purpose: Code
    action: Literal["granted", "withdrawn"]
    source: Source
    channel: Channel | None = Field(
        None, description="Only this channel of the purpose; none: the purpose as a whole."
    )
    partner: Code | None = None


class ConsentOut(Schema):
    id: int
    purpose: str
    action: str
    channel: str
    partner: str | None
    at: datetime


class PurposeState(Schema):
    code: str
    name: str
    essential: bool
    granted: bool
    channels: dict[str, bool] | None = None
    paused: bool


class PartnerState(Schema):
    code: str
    name: str
    granted: bool


class PreferencesOut(Schema):
    purposes: list[PurposeState]
    partners: list[PartnerState]


class PreferencesIn(Schema):
    model_config = examples(
        {
            "subject": SOMEONE,
            "source": "the account settings of the web app",
            "purposes": {"newsletter": True, "events": False},
            "channels": {"product_updates": {"email": True, "push": False}},
        }
    )

    subject: SubjectIn
    source: Source
    purposes: dict[Code, bool] = Field(default_factory=dict, max_length=200)
    channels: dict[Code, dict[Channel, bool]] = Field(default_factory=dict, max_length=200)
    partners: dict[Code, bool] = Field(default_factory=dict, max_length=200)


class UnsubscribeIn(Schema):
    model_config = examples({"subject": SOMEONE, "purpose": "newsletter"})

    subject: SubjectIn
    purpose: Code
    partner: Code | None = None
    everything: bool = False


class UnsubscribeOut(Schema):
    withdrawn: list[str]


RequestKindCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]


class RequestIn(Schema):
    model_config = examples(
        {
            "subject": SOMEONE,
            "kind": "access",
            "identity_check": "email_link",
            "details": "Asked for in the help centre chat.",
        }
    )

    subject: SubjectIn
    kind: RequestKindCode
    identity_check: Literal["account_login", "email_link"] = Field(
        description=(
            "How the person's identity is checked. account_login: they are signed in to their "
            "Workpex account in your product (subject by user_id); the request counts as "
            "received now. email_link: the portal mails them a link to confirm; the request "
            "counts from their confirmation."
        )
    )
    details: Annotated[str, StringConstraints(max_length=5000)] = ""
    purposes: list[Code] = Field(default_factory=list, max_length=50)
    country: Annotated[str, StringConstraints(pattern=r"^([A-Z]{2})?$")] = ""
    region: Annotated[str, StringConstraints(pattern=r"^([A-Z]{2,3})?$")] = ""


class RequestOut(Schema):
    id: UUID
    reference: str
    kind: str
    state: str
    state_label: str
    filed_at: datetime
    received_at: datetime | None
    verified_at: datetime | None
    due_at: datetime | None
    original_due_at: datetime | None
    extended: bool
    closed_at: datetime | None
    next_step: str
    joined: bool = False


CollectionName = Annotated[str, StringConstraints(pattern=r"^[-a-zA-Z0-9_.]{1,100}$")]


FieldName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
DataCategory = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", max_length=200)
]
FieldValue = (
    Annotated[str, StringConstraints(max_length=10_000)]
    | Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | bool
    | None
)


class PartCollectionIn(Schema):
    collection: CollectionName
    categories: dict[FieldName, list[DataCategory]] = Field(
        default_factory=dict,
        max_length=200,
        description="Each field's data categories (Fides taxonomy keys, e.g. user.contact.email).",
    )
    rows: list[dict[FieldName, FieldValue]] = Field(
        max_length=10_000, description="The person's rows: field → value."
    )


class PartDoneIn(Schema):
    model_config = examples(
        {
            "confirmation": "Deleted the customer record and anonymised 12 orders.",
            "counts": {"customers": 1, "orders": 12},
        },
        {
            "confirmation": "Exported the person's tickets.",
            "data": [
                {
                    "collection": "tickets",
                    "categories": {"subject": ["user.content"]},
                    "rows": [{"id": 7, "subject": "My invoice"}],
                }
            ],
        },
    )

    confirmation: Annotated[
        str,
        StringConstraints(min_length=1, max_length=2000, pattern=r"^[^\x00]*\S[^\x00]*$"),
        Field(description="What the system did, in words; kept with the request."),
    ]
    counts: dict[CollectionName, Annotated[int, Field(ge=0, le=MAX_ID)]] = Field(
        default_factory=dict,
        max_length=200,
        description="Optional: how many rows the system changed or deleted, per collection.",
    )
    data: list[PartCollectionIn] = Field(
        default_factory=list,
        max_length=100,
        description=(
            "For an access part (told by `access.part_due`): the person's data in your system, "
            "per collection, for their access report and portable package."
        ),
    )


class PartSystem(Schema):
    id: int
    name: str


class PartOut(Schema):
    request_id: UUID
    system: PartSystem
    kind: str
    state: str
    state_label: str
    due_at: datetime | None
    finished_at: datetime | None
    confirmation: str
    counts: dict[str, int]


# --- Webhook subscriptions (api/webhooks.py) ---------------------------------------------------

EventType = Literal[tuple(WebhookEventType.values)]
EventId = Annotated[str, StringConstraints(pattern=r"^evt_[0-9a-f]{32}$")]
WebhookUrl = Annotated[
    str,
    StringConstraints(max_length=500),
    Field(description="Where the events are POSTed: https:// (or http://), a public address."),
]
WebhookEvents = Annotated[list[EventType], Field(max_length=len(WebhookEventType.values) * 2)]
WebhookDescription = Annotated[str, StringConstraints(max_length=200)]
HOOKS = {"url": "https://crm.example.com/hooks/privacy", "events": ["consent.changed"]}


def _no_null_default(field_schema: dict) -> None:
    """An optional field that may be left out but not sent as null: no `default: null` in the
    schema either."""
    field_schema.pop("default", None)


def _left_out() -> Any:
    return Field(None, json_schema_extra=_no_null_default)


class EndpointIn(Schema):
    model_config = ConfigDict(
        extra="forbid",  # a misspelt field is said, not ignored
        json_schema_extra={"examples": [{**HOOKS, "description": "CRM: consent changes"}]},
    )

    url: WebhookUrl
    events: WebhookEvents = Field(description="The events to send (at least one).")
    description: WebhookDescription = ""
    active: bool = True


PATCHABLE = ("url", "events", "description", "active")


class EndpointPatch(Schema):
    """Only the fields given are changed; at least one, none of them null, no others."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"events": ["consent.changed", "erasure.due"]}, {"active": True}],
            "minProperties": 1,
        },
    )

    url: WebhookUrl = _left_out()
    events: WebhookEvents = _left_out()
    description: WebhookDescription = _left_out()
    active: bool = _left_out()

    @model_validator(mode="after")
    def something_to_change(self):
        if not self.model_fields_set:
            raise ValueError(f"Give at least one field to change: {', '.join(PATCHABLE)}.")
        return self


class EndpointOut(Schema):
    id: UUID
    url: str
    description: str
    events: list[str]
    active: bool
    created_at: datetime
    secret_rotated_at: datetime | None

    @staticmethod
    def resolve_id(endpoint) -> UUID:
        return endpoint.public_id


class EndpointSecretOut(Schema):
    """The endpoint and its signing secret: in this answer only, never again."""

    endpoint: EndpointOut
    secret: str = Field(description="The whsec_… secret to verify signatures with.")


class DeliveryOut(Schema):
    event_id: str = Field(description="The event's id: the webhook-id header of every try.")
    event_type: str
    state: str
    status: str = Field(description="What happened and what happens next, in words.")
    tries: int
    next_try_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime

    @staticmethod
    def resolve_event_id(delivery) -> str:
        return delivery.event.message_id

    @staticmethod
    def resolve_event_type(delivery) -> str:
        return delivery.event.type

    @staticmethod
    def resolve_status(delivery) -> str:
        return webhook_delivery_status(delivery).text

    @staticmethod
    def resolve_next_try_at(delivery) -> datetime | None:
        return delivery.due_at if delivery.state == delivery.State.PENDING else None
