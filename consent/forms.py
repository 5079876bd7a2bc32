from django import forms
from django.contrib.auth import get_user_model
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from dsar.cardnumbers import CardNumberGuardMixin

from .models import ConsentEvent, Partner, PolicyVersion, Purpose
from .services import FORM_KINDS

# Materials people can download from a form: slug -> (title, static file).
MATERIALS = {
    "privacy-by-design": (
        _("Privacy by design at Workpex (whitepaper)"),
        "consent/materials/privacy-by-design.txt",
    ),
}
SURVEY_RATINGS = [(str(n), str(n)) for n in range(1, 6)]


class Switch(forms.CheckboxInput):
    """A Bootstrap switch: a real checkbox, announced as a switch."""

    def __init__(self, attrs=None, check_test=None):
        super().__init__(
            attrs={"role": "switch", "class": "form-check-input", **(attrs or {})},
            check_test=check_test,
        )


def _never_on(value) -> bool:
    return False


class PreferencesForm(CardNumberGuardMixin, forms.Form):
    """A switch per channel (email, push) of each message purpose, one per other optional purpose
    and per reselling partner. Essential purposes and cookie categories are shown by the
    template, not switched here. The email switch of a message purpose keeps the name
    `purpose_<code>`; its push switch is `push_<code>`."""

    def __init__(self, *args, purposes, partners, state, gpc: bool = False, paused=None, **kwargs):
        super().__init__(*args, **kwargs)
        paused = paused or {}
        self.purposes = [p for p in purposes if not p.is_essential and p.channel != "cookie"]
        self.partner_purpose = next((p for p in self.purposes if p.per_partner), None)
        self.partners = list(partners) if self.partner_purpose else []
        self.gpc = gpc
        for purpose in self.purposes:
            if purpose.per_partner:
                continue
            if purpose.has_channel_switches:
                self.fields[f"purpose_{purpose.code}"] = _switch(
                    _("By email"), state.granted(purpose, channel="email")
                )
                self.fields[f"push_{purpose.code}"] = _switch(
                    _("As push notifications on my devices"),
                    state.granted(purpose, channel="push"),
                )
                _pause(self.fields[f"purpose_{purpose.code}"], purpose, paused, "email")
                _pause(self.fields[f"push_{purpose.code}"], purpose, paused, "push")
                continue
            self.fields[f"purpose_{purpose.code}"] = _switch(
                purpose.name, state.granted(purpose), help_text=purpose.description
            )
            _pause(self.fields[f"purpose_{purpose.code}"], purpose, paused, "email")
        for partner in self.partners:
            self.fields[f"partner_{partner.pk}"] = forms.BooleanField(
                label=partner.name,
                help_text=partner.description,
                required=False,
                initial=state.granted(self.partner_purpose, partner.pk) and not gpc,
                disabled=gpc,
                widget=Switch(),
            )
            _pause(self.fields[f"partner_{partner.pk}"], self.partner_purpose, paused, "email")

    def purpose_choices(self) -> dict[str, bool]:
        """The purposes switched as a whole."""
        return {
            p.code: self.cleaned_data[f"purpose_{p.code}"]
            for p in self.purposes
            if not p.per_partner and not p.has_channel_switches
        }

    def channel_choices(self) -> dict[str, dict[str, bool]]:
        """The message purposes, channel by channel."""
        return {
            p.code: {
                "email": self.cleaned_data[f"purpose_{p.code}"],
                "push": self.cleaned_data[f"push_{p.code}"],
            }
            for p in self.channel_purposes()
        }

    def partner_choices(self) -> dict[int, bool]:
        if self.gpc:
            return {}  # Global Privacy Control: no sharing with partners from this browser
        return {
            int(name.removeprefix("partner_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("partner_")
        }

    def channel_purposes(self) -> list:
        return [p for p in self.purposes if not p.per_partner and p.has_channel_switches]

    def channel_groups(self) -> list[dict]:
        """For the template: each message purpose with its email and push switches."""
        return [
            {"purpose": p, "fields": [self[f"purpose_{p.code}"], self[f"push_{p.code}"]]}
            for p in self.channel_purposes()
        ]

    def purpose_fields(self):
        return [
            self[f"purpose_{p.code}"]
            for p in self.purposes
            if not p.per_partner and not p.has_channel_switches
        ]

    def partner_fields(self):
        return [self[name] for name in self.fields if name.startswith("partner_")]


def _pause(field: forms.BooleanField, purpose, paused: dict, channel: str) -> None:
    """A switch whose use a restriction or objection stops: shown off and "paused", and fixed,
    so saving the form neither turns it on nor records a withdrawal (the ledger is kept as it
    is, for when the block is lifted)."""
    from .selectors import purpose_paused_by

    block = purpose_paused_by(purpose, paused, channel)
    if block is None:
        return
    field.disabled = True
    field.widget = Switch(check_test=_never_on)
    if block.kind == "objection":
        note = _("Paused — you objected to this use")
    else:
        note = _("Paused — you restricted this use")
    field.label = format_lazy("{label} — {note}", label=field.label, note=note)


def _switch(label, initial: bool, help_text="") -> forms.BooleanField:
    return forms.BooleanField(
        label=label, help_text=help_text, required=False, initial=initial, widget=Switch()
    )


class PreferencesLinkForm(CardNumberGuardMixin, forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class CookieChoicesForm(CardNumberGuardMixin, forms.Form):
    analytics = forms.BooleanField(label=_("Analytics"), required=False, widget=Switch())
    social = forms.BooleanField(label=_("Social media widgets"), required=False, widget=Switch())
    choice = forms.ChoiceField(
        choices=[("accept_all", "accept_all"), ("refuse_all", "refuse_all"), ("save", "save")],
        required=False,
    )
    next = forms.CharField(required=False, max_length=2000)

    def choices(self) -> dict[str, bool]:
        choice = self.cleaned_data.get("choice") or "save"
        if choice == "accept_all":
            return {"analytics": True, "social": True}
        if choice == "refuse_all":
            return {"analytics": False, "social": False}
        return {"analytics": self.cleaned_data["analytics"], "social": self.cleaned_data["social"]}


class SubmissionForm(CardNumberGuardMixin, forms.Form):
    """The fields every form shares; each kind adds its own (`KIND_FIELDS`)."""

    name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    company_name = forms.CharField(
        label=_("Company name"),
        max_length=200,
        required=False,
        help_text=_("Optional."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )

    def __init__(self, *args, kind: str, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        for name, field in kind_fields(kind).items():
            self.fields[name] = field
        marketing = FORM_KINDS[kind].marketing_purpose
        if marketing and kind != "newsletter_signup":
            purpose = Purpose.objects.filter(code=marketing, is_active=True).first()
            if purpose is not None:
                # Never pre-ticked: consent is something people do, not something they undo.
                self.fields["marketing"] = forms.BooleanField(
                    label=_("Yes, email me: %(purpose)s") % {"purpose": purpose.name},
                    help_text=purpose.description,
                    required=False,
                    initial=False,
                )
        if user is not None and user.is_authenticated:
            self.fields["name"].initial = user.full_name
            self.fields["email"].initial = user.email
            self.fields["company_name"].initial = user.company_name

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def details(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in kind_fields(self.kind)
            if name != "message" and self.cleaned_data.get(name) not in (None, "")
        }


def kind_fields(kind: str) -> dict[str, forms.Field]:
    message = forms.CharField(
        label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    if kind == "event_registration":
        return {"event": forms.CharField(label=_("Event or webinar"), max_length=200)}
    if kind == "material_download":
        return {
            "material": forms.ChoiceField(
                label=_("Material"), choices=[(k, v[0]) for k, v in MATERIALS.items()]
            )
        }
    if kind == "contest_entry":
        return {
            "entry": forms.CharField(
                label=_("Your entry"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
            )
        }
    if kind == "survey_response":
        return {
            "rating": forms.ChoiceField(
                label=_("How happy are you with Workpex? (1 = not at all, 5 = very)"),
                choices=SURVEY_RATINGS,
                widget=forms.RadioSelect,
            ),
            "comment": forms.CharField(
                label=_("Anything else you want to tell us?"),
                max_length=2000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 4}),
            ),
        }
    if kind == "quote_request":
        return {
            "seats": forms.IntegerField(label=_("How many people will use it?"), min_value=1),
            "message": message,
        }
    if kind in ("support_request", "contact_request"):
        return {"message": message}
    return {}


class RecordOnRequestForm(CardNumberGuardMixin, forms.Form):
    """Staff record a consent change a person asked for in writing."""

    subject = forms.CharField(
        label=_("Person"),
        max_length=254,
        help_text=_("Their username or email address (an email without an account is fine)."),
    )
    purpose = forms.ModelChoiceField(
        label=_("Purpose"),
        queryset=Purpose.objects.filter(is_essential=False).exclude(channel="cookie"),
    )
    partner = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=Partner.objects.all(),
        required=False,
        help_text=_("Only for notifications from reselling partners; empty means every partner."),
    )
    action = forms.ChoiceField(label=_("Change"), choices=ConsentEvent.Action.choices)
    reason = forms.CharField(
        label=_("Written request"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Which written request this comes from (date, channel, reference). Kept with the entry."
        ),
    )

    def clean_subject(self):
        from dsar.registry import Subject

        value = self.cleaned_data["subject"].strip()
        User = get_user_model()
        user = (
            User.objects.filter(username=value).first()
            or User.objects.filter(email__iexact=value).first()
        )
        if user is not None:
            return Subject(user_id=user.pk)
        try:
            forms.EmailField().clean(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                _("No account has this username. Give a username or an email address.")
            ) from None
        return Subject(email=value.lower())

    def clean(self):
        cleaned = super().clean()
        purpose, partner = cleaned.get("purpose"), cleaned.get("partner")
        if purpose is not None and partner is not None and not purpose.per_partner:
            self.add_error("partner", _("This purpose is not given partner by partner."))
        return cleaned


class PolicyDiffForm(CardNumberGuardMixin, forms.Form):
    """Two published versions to compare at /policy/."""

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(p.version, p.version) for p in versions]
        self.fields["from"] = forms.ChoiceField(label=_("Compare version"), choices=choices)
        self.fields["to"] = forms.ChoiceField(label=_("with version"), choices=choices)

    def clean(self):
        data = super().clean()
        if data.get("from") and data.get("from") == data.get("to"):
            raise forms.ValidationError(_("Choose two different versions to compare."))
        return data


class PolicyVersionForm(CardNumberGuardMixin, forms.ModelForm):
    """The admin's form for a draft. The publishing rules (the 30-day rule first) are checked
    by the service when the draft is published, and shown here early so nobody is surprised."""

    class Meta:
        model = PolicyVersion
        fields = ["version", "effective_at", "is_material", "summary_of_changes", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 25, "class": "vLargeTextField"})}

    def clean(self):
        from django.utils import timezone

        from .models import MATERIAL_NOTICE_PERIOD

        data = super().clean()
        effective = data.get("effective_at")
        if (
            data.get("is_material")
            and effective
            and effective < timezone.now() + (MATERIAL_NOTICE_PERIOD)
        ):
            self.add_error(
                "effective_at",
                _(
                    "A material change applies at least 30 days after its notices go out "
                    "(they go out when you publish): choose a later date."
                ),
            )
        return data


class ReasonForm(CardNumberGuardMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit log."),
    )
