"""API clients: the company's other systems, each with scopes, a hashed secret and a rate."""

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    CONSENT_READ = "consent:read", _("Ask whether a person may be contacted; read preferences")
    CONSENT_WRITE = "consent:write", _("Record consent, change preferences, unsubscribe")
    REQUESTS_WRITE = "requests:write", _("File privacy requests on a person's behalf")
    REQUESTS_READ = "requests:read", _("Read a privacy request's state and deadline")
    REQUESTS_CONFIRM = (
        "requests:confirm",
        _("Confirm its own connected system's part of a privacy request done"),
    )
    WEBHOOKS_MANAGE = "webhooks:manage", _("Manage webhook subscriptions")


def scopes_validate(value) -> None:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ValidationError(_("Scopes are a list of scope names."))
    unknown = sorted(set(value) - set(Scope.values))
    if unknown:
        raise ValidationError(_("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)})


def rate_rule(value: str) -> str:
    """A client's rate ("600/m,20000/h") in the portal's notation, counted per client."""
    return ",".join(f"{part.strip()}/key" for part in value.split(",") if part.strip())


def rate_limit_validate(value: str) -> None:
    from dsar.ratelimits import rates_parse

    try:
        if not rate_rule(value):
            raise ImproperlyConfigured(value)
        rates_parse(rate_rule(value))
    except ImproperlyConfigured:
        raise ValidationError(
            _("Write the rate as amount/period, e.g. 600/m or 600/m,20000/h.")
        ) from None


class ApiClient(models.Model):
    """One calling system. Its token is `wpx_<client_id>_<secret>`: only the SHA-256 of the
    secret is kept (api.services explains why that is enough). After a rotation the previous
    secret still works until `previous_valid_until`, so the caller can switch without a gap."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    client_id = models.CharField(_("client id"), max_length=32, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True, validators=[scopes_validate])
    rate_limit = models.CharField(
        _("rate limit"),
        max_length=100,
        default="600/m",
        validators=[rate_limit_validate],
        help_text=_("Calls allowed per period, e.g. 600/m or 600/m,20000/h (s, m, h, d)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The connected system this client is: it may confirm that system's parts of requests.
    system = models.ForeignKey(
        "datastores.ConnectedSystem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_clients",
        limit_choices_to={"kind": "webhook"},
        verbose_name=_("confirms for the connected system"),
        help_text=_(
            "A connected system confirmed through the API: this client may confirm that "
            "system's part of each erasure (with the scope requests:confirm), and no other."
        ),
    )
    secret_hash = models.CharField(max_length=64, editable=False)
    previous_secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    previous_valid_until = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    rotated_at = models.DateTimeField(_("secret rotated at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(previous_secret_hash="")
                | models.Q(previous_valid_until__isnull=False),
                name="api_client_previous_secret_has_end",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class ClientWebhookEndpoint(models.Model):
    """A webhook endpoint a client subscribed through the API: the client sees and changes only
    these (an officer's endpoints are not a client's). Kept here, not on the endpoint, because
    dsar does not know the API."""

    client = models.ForeignKey(
        ApiClient,
        verbose_name=_("API client"),
        on_delete=models.PROTECT,  # clients and endpoints are switched off, never deleted
        related_name="webhook_endpoints",
    )
    endpoint = models.OneToOneField(
        "dsar.WebhookEndpoint",
        verbose_name=_("webhook endpoint"),
        on_delete=models.CASCADE,
        related_name="api_client_link",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("endpoint made by an API client")
        verbose_name_plural = _("endpoints made by API clients")

    def __str__(self) -> str:
        return str(self.client)
