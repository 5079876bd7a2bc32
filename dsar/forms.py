from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from .cardnumbers import CardNumberGuardMixin
from .deadlines import DEFAULT_RULE, DeadlineRule
from .models import RequestChannel, RequestKind
from .purposes import (
    ALL_USES,
    objection_refused_message,
    objection_uses_clean,
    objection_uses_text,
    processing_use_choices,
)
from .registry import rectifiable_choices
from .services import RequestError, rectification_value_check


class RequestForm(CardNumberGuardMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("What would you like to do?"),
        choices=RequestKind.choices,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Optional. For example: what to correct and how, which use of your data you object "
            "to, or what your complaint is about."
        ),
    )
    purposes = forms.MultipleChoiceField(
        label=_("Which use of your data?"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "For a restriction or an objection: tick each use to stop, or all uses. An objection "
            "to direct marketing takes effect at once."
        ),
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not one of the uses of your data we have. Choose from the list."
            )
        },
    )
    rectification_target = forms.ChoiceField(
        label=_("What should we correct?"),
        required=False,
        help_text=_("For a correction of something you cannot change on your profile."),
    )
    rectification_value = forms.CharField(
        label=_("The correct value"), required=False, max_length=500
    )
    country = LazyTypedChoiceField(
        label=_("Country you live in"),
        required=False,
        choices=[("", "—")] + list(countries),
        help_text=_(
            "For a complaint, we tell you which authority handles it; it also sets the legal "
            "deadline for our answer."
        ),
    )
    region = forms.CharField(
        label=_("State (United States only)"),
        required=False,
        max_length=3,
        help_text=_("The two-letter code, like CA: some states set their own deadline."),
    )

    recipient_email = forms.EmailField(
        label=_("Send my package straight to this email address"),
        required=False,
        help_text=_(
            "Optional, for a portability request: once your package is ready, this address gets "
            "a link that works once, for 7 days."
        ),
    )

    def __init__(self, *args, needs_email: bool, destinations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rectification_target"].choices = [("", "—")] + rectifiable_choices()
        self.fields["purposes"].choices = processing_use_choices()
        objection = _("An objection (GDPR Art. 21) can name: %(uses)s.")
        self.fields[
            "purposes"
        ].help_text = (
            f"{self.fields['purposes'].help_text} {objection % {'uses': objection_uses_text()}}"
        )
        if destinations:
            self.fields["recipient_key"] = forms.ChoiceField(
                label=_("Or send my package to one of my integrations"),
                required=False,
                choices=[("", "—"), *destinations],
                help_text=_("Optional, for a portability request."),
            )
        if needs_email:
            self.fields = {
                "email": forms.EmailField(
                    label=_("Your email address"),
                    help_text=_("We send a link to this address to confirm the request is yours."),
                    widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                ),
                **self.fields,
            }

    def clean(self):
        cleaned = super().clean()
        target, value = cleaned.get("rectification_target"), cleaned.get("rectification_value")
        if target and not value:
            self.add_error("rectification_value", _("Give the correct value."))
        elif target and cleaned.get("kind") == RequestKind.RECTIFICATION:
            # The owning field's own checks, now rather than when an officer applies it.
            try:
                cleaned["rectification_value"] = rectification_value_check(
                    target=target, value=value
                )
            except RequestError as error:
                self.add_error("rectification_value", error)
        if cleaned.get("kind") in (RequestKind.RESTRICTION, RequestKind.OBJECTION):
            if not cleaned.get("purposes") and "purposes" not in self.errors:
                self.add_error("purposes", _("Tick the uses of your data to stop, or all uses."))
            elif ALL_USES in cleaned.get("purposes", []):
                cleaned["purposes"] = [ALL_USES]
            if cleaned.get("kind") == RequestKind.OBJECTION:
                try:
                    objection_uses_clean(cleaned.get("purposes", []))
                except ValueError as error:
                    self.add_error("purposes", objection_refused_message(error.args[0]))
        else:
            cleaned["purposes"] = []  # ticked before choosing another kind: not part of it
        if cleaned.get("kind") == RequestKind.COMPLAINT and not cleaned.get("country"):
            self.add_error("country", _("Choose your country, so we can name its authority."))
        return cleaned


class ExtensionForm(CardNumberGuardMixin, forms.Form):
    """By how much, in the unit of the request's jurisdiction, up to its maximum."""

    amount = forms.IntegerField(min_value=1)
    reason = forms.CharField(label=_("Reason (mailed to the person)"), widget=forms.Textarea)

    def __init__(self, *args, rule: DeadlineRule = DEFAULT_RULE, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"] = forms.IntegerField(
            min_value=1,
            max_value=rule.max_extension,
            label=_("Extend by (%(unit)s)") % {"unit": rule.unit_label},
            help_text=_("Under %(law)s: at most %(max)d %(unit)s, once.")
            % {"law": rule.law, "max": rule.max_extension, "unit": rule.unit_label},
        )


class LogRequestForm(CardNumberGuardMixin, forms.Form):
    """A request an officer received by email, letter, phone or in person."""

    required_css_class = "required"  # the admin's bold labels for what must be filled in

    kind = forms.ChoiceField(label=_("What the person asks"), choices=RequestKind.choices)
    email = forms.EmailField(
        label=_("The person's email address"),
        help_text=_("We mail the reference and the link to follow the request to this address."),
    )
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[c for c in RequestChannel.choices if c[0] != RequestChannel.WEB],
    )
    received_on = forms.DateField(
        label=_("Date received"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The deadline is counted from this day."),
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    purposes = forms.MultipleChoiceField(
        label=_("Which use of their data?"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For a restriction or an objection; none ticked stands for all uses."),
    )
    country = LazyTypedChoiceField(
        label=_("Country the person lives in"),
        required=False,
        choices=[("", "—")] + list(countries),
        help_text=_("Sets the legal deadline (and the authority, for a complaint)."),
    )
    region = forms.CharField(
        label=_("State (United States only)"),
        required=False,
        max_length=3,
        help_text=_("The two-letter code, like CA: some states set their own deadline."),
    )
    identity_confirmed = forms.BooleanField(
        label=_("I have confirmed the person's identity already"),
        required=False,
        help_text=_("Otherwise the mail asks them to confirm it through a link."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purposes"].choices = processing_use_choices()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") not in (RequestKind.RESTRICTION, RequestKind.OBJECTION):
            cleaned["purposes"] = []  # only a restriction or an objection names uses
        elif ALL_USES in cleaned.get("purposes", []):
            cleaned["purposes"] = [ALL_USES]
        return cleaned
