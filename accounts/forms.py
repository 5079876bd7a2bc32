from allauth.account.forms import AddEmailForm as AllauthAddEmailForm
from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.forms import ResetPasswordKeyForm as AllauthResetPasswordKeyForm
from allauth.account.forms import SetPasswordForm as AllauthSetPasswordForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField
from phonenumber_field.formfields import PhoneNumberField

from dsar.cardnumbers import CardNumberGuardMixin, luhn_valid

from . import services
from .app_settings import app_settings
from .models import (
    ChildDataReport,
    SecurityQuestion,
    StaffAccessWindow,
    Testimonial,
    User,
    WorkspaceRecord,
)

OLDEST_PLAUSIBLE_AGE = 130


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


LOGIN_MAX_LENGTH = 254  # an email address at most (RFC 5321); usernames are shorter


class LoginForm(CardNumberGuardMixin, AllauthLoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("Username or email")
        login.widget.attrs["autocomplete"] = "username"
        # No username or address is longer; SQLite refuses a longer case-insensitive lookup
        # ("LIKE or GLOB pattern too complex") with a server error.
        login.max_length = LOGIN_MAX_LENGTH
        login.validators.append(MaxLengthValidator(LOGIN_MAX_LENGTH))
        login.widget.attrs["maxlength"] = str(LOGIN_MAX_LENGTH)

    def user_credentials(self) -> dict:
        """allauth also tries an email-looking login as a username, and its backend then checks
        the password of an email match twice: a wrong password for a known email took one
        password hash longer than for an unknown one. Try it as a username only when such a
        username exists, so each login costs exactly one password hash."""
        credentials = super().user_credentials()
        if "email" in credentials and "username" in credentials:
            taken = get_user_model().objects.filter(username__iexact=credentials["username"])
            if not taken.exists():
                del credentials["username"]
        return credentials


class SignupForm(CardNumberGuardMixin, AllauthSignupForm):
    """allauth's signup plus the fields the policy names, and the 16+ age gate.

    The age gate is a form error: a refused signup never reaches the database.
    """

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    country = LazyTypedChoiceField(label=_("Country"), choices=countries)
    phone = PhoneNumberField(
        label=_("Phone number"),
        required=False,
        help_text=_("Optional. Use the international format, for example +44 20 7946 0958."),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=DateInput(),
        help_text=_("You must be 16 or older to have an account."),
    )

    # Optional marketing consents: never pre-ticked, recorded in the consent ledger on signup.
    marketing_newsletter = forms.BooleanField(
        label=_("Send me the Workpex newsletter"),
        required=False,
        initial=False,
        help_text=_("About once a month. Unsubscribe at any time, in one click."),
    )
    marketing_product_updates = forms.BooleanField(
        label=_("Send me news about products and service updates"),
        required=False,
        initial=False,
        help_text=_("Optional. You can change this at any time in your preferences."),
    )
    MARKETING_PURPOSES = {
        "marketing_newsletter": "newsletter",
        "marketing_product_updates": "product_updates",
    }

    field_order = [
        "full_name",
        "email",
        "phone",
        "company_name",
        "country",
        "date_of_birth",
        "username",
        "password1",
        "password2",
        "marketing_newsletter",
        "marketing_product_updates",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.fields["company_name"].widget.attrs["autocomplete"] = "organization"
        self.fields["country"].widget.attrs["autocomplete"] = "country"
        self.fields["phone"].widget.attrs["autocomplete"] = "tel"
        self.fields["date_of_birth"].widget.attrs["autocomplete"] = "bday"
        self.order_fields(self.field_order)

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if services.age_on(date_of_birth=born, on=today) > OLDEST_PLAUSIBLE_AGE:
            raise forms.ValidationError(_("Please check the year of your date of birth."))
        if not services.user_is_old_enough(date_of_birth=born, on=today):
            raise forms.ValidationError(
                _(
                    "Sorry, you must be at least 16 years old to create an account. "
                    "We have not kept any of the details you entered."
                ),
                code="under_age",
            )
        return born

    def try_save(self, request):
        user, response = super().try_save(request)
        if user is None:
            # The address has an account, so allauth mails its owner instead of creating one.
            # Hash the password all the same: a real sign-up hashes it, and a quicker answer
            # would tell that the address is known.
            make_password(self.cleaned_data.get("password1"))
        return user, response

    def marketing_purposes(self) -> list[str]:
        """The purpose codes of the marketing boxes the person ticked."""
        return [
            code for name, code in self.MARKETING_PURPOSES.items() if self.cleaned_data.get(name)
        ]


class ProfileForm(CardNumberGuardMixin, forms.ModelForm):
    photo = forms.ImageField(
        label=_("Photo"),
        required=False,
        help_text=_(
            "Optional. JPEG, PNG, WebP or GIF, up to 5 MB. We remove location and camera data."
        ),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    remove_photo = forms.BooleanField(label=_("Remove my current photo"), required=False)

    class Meta:
        model = User
        fields = [
            "full_name",
            "phone",
            "company_name",
            "country",
            "region",
            "photo",
            "time_zone",
            "language",
        ]
        help_texts = {
            "phone": _("Optional. Leave blank to remove it."),
            "time_zone": _("Optional. Dates and times are shown in this zone."),
            "language": _("Optional. The portal is shown in this language."),
            "region": _("Optional. For the United States: your state's two-letter code, like CA."),
        }

    def clean_region(self):
        return self.cleaned_data.get("region", "").strip().upper()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", _("Use the default (UTC)"))] + list(
            self.fields["time_zone"].choices
        )[1:]
        self.fields["language"].choices = [("", _("Use my browser's language"))] + list(
            self.fields["language"].choices
        )[1:]
        if not self.instance.photo:
            del self.fields["remove_photo"]
        self.order_fields(self.Meta.fields[:6] + ["remove_photo"])

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and photo is not self.initial.get("photo") and hasattr(photo, "size"):
            services.photo_validate(photo)
        return photo

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.pop("remove_photo", False) and "photo" not in self.files:
            cleaned_data["photo"] = False  # the service's "remove the photo"
        return cleaned_data


class SecurityQuestionForm(CardNumberGuardMixin, forms.Form):
    current_password = forms.CharField(
        label=_("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    question = forms.ChoiceField(label=_("Question"), choices=SecurityQuestion.choices)
    answer = forms.CharField(
        label=_("Answer"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Not case-sensitive. Asked only when you reset your password."),
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_current_password(self):
        password = self.cleaned_data["current_password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your current password."))
        return password

    def clean_answer(self):
        answer = " ".join(self.cleaned_data["answer"].split())
        if len(answer) < 2:
            raise forms.ValidationError(_("The answer is too short to be a useful check."))
        return answer


class ResetPasswordKeyForm(CardNumberGuardMixin, AllauthResetPasswordKeyForm):
    """allauth's "choose a new password" step, plus the security question when the user set one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user is not None and self.user.has_security_question:
            question = SecurityQuestion(self.user.security_question).label
            self.fields = {
                "security_answer": forms.CharField(
                    label=question,
                    max_length=200,
                    widget=forms.TextInput(attrs={"autocomplete": "off"}),
                    help_text=_("The answer to the security question you chose."),
                ),
                **self.fields,
            }

    def clean_security_answer(self):
        answer = self.cleaned_data["security_answer"]
        if not services.user_security_answer_check(user=self.user, answer=answer):
            raise forms.ValidationError(_("That answer does not match the one you gave us."))
        return answer


# allauth's other forms with text fields, with the card-number gate (ACCOUNT_FORMS names them).
class AddEmailForm(CardNumberGuardMixin, AllauthAddEmailForm):
    pass


class ChangePasswordForm(CardNumberGuardMixin, AllauthChangePasswordForm):
    pass


class SetPasswordForm(CardNumberGuardMixin, AllauthSetPasswordForm):
    pass


class ResetPasswordForm(CardNumberGuardMixin, AllauthResetPasswordForm):
    pass


class SecretInput(forms.TextInput):
    """A text input that never renders its value back: a refused card form comes back empty
    in these fields, so the number is never echoed in a page."""

    def format_value(self, value):
        return None


class CardNumberField(forms.CharField):
    """The one field that takes a card number: it goes to the processor and nowhere else."""

    card_number_allowed = True

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", SecretInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"})
        )
        super().__init__(max_length=23, **kwargs)

    def clean(self, value):
        digits = "".join(c for c in (value or "") if c not in " -")
        if not digits and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if not digits.isdigit() or not 13 <= len(digits) <= 19 or not luhn_valid(digits):
            raise forms.ValidationError(
                _("This is not a valid card number. Check it and type it again."), code="invalid"
            )
        return digits


class PaymentMethodForm(CardNumberGuardMixin, forms.Form):
    cardholder_name = forms.CharField(label=_("Name on the card"), max_length=150)
    card_number = CardNumberField(
        label=_("Card number"),
        help_text=_("Sent to our payment processor only. We keep the last four digits."),
    )
    expiry_month = forms.IntegerField(label=_("Expiry month"), min_value=1, max_value=12)
    expiry_year = forms.IntegerField(label=_("Expiry year"), min_value=2000, max_value=2100)
    cvc = forms.RegexField(
        label=_("Security code (CVC)"),
        regex=r"^[0-9]{3,4}$",
        error_messages={"invalid": _("The security code is the 3 or 4 digits on the card.")},
        widget=SecretInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )
    billing_line1 = forms.CharField(label=_("Billing address"), max_length=200)
    billing_line2 = forms.CharField(
        label=_("Billing address (line 2)"), max_length=200, required=False
    )
    billing_city = forms.CharField(label=_("City"), max_length=100)
    billing_postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    billing_country = LazyTypedChoiceField(label=_("Country"), choices=countries)
    store_for_future = forms.BooleanField(
        label=_("Store this card for future payments"),
        required=False,
        initial=False,
        help_text=_(
            "Optional. We then keep the processor's token for this card, encrypted. You can "
            "withdraw this at any time in your preferences, and we delete the token at once."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cardholder_name"].widget.attrs["autocomplete"] = "cc-name"
        self.fields["expiry_month"].widget.attrs["autocomplete"] = "cc-exp-month"
        self.fields["expiry_year"].widget.attrs["autocomplete"] = "cc-exp-year"


class TestimonialForm(CardNumberGuardMixin, forms.Form):
    text = forms.CharField(
        label=_("Your testimonial"), max_length=1500, widget=forms.Textarea(attrs={"rows": 5})
    )
    display_name = forms.CharField(
        label=_("Name to show with it"),
        max_length=150,
        help_text=_("Exactly as it will appear. Initials or a first name are fine."),
    )
    display_details = forms.CharField(
        label=_("Details to show with it"),
        max_length=200,
        required=False,
        help_text=_("Optional, for example your role or company. Leave blank to show none."),
    )
    approve = forms.BooleanField(
        label=_("I approve publishing exactly this text, with the name and details above"),
        required=True,
    )


class TestimonialApprovalForm(CardNumberGuardMixin, forms.Form):
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)


class TestimonialDraftForm(CardNumberGuardMixin, forms.ModelForm):
    """Staff draft a testimonial from a person's feedback, in the admin."""

    class Meta:
        model = Testimonial
        fields = ["user", "feedback", "text", "display_name", "display_details"]


class WorkspaceForm(CardNumberGuardMixin, forms.Form):
    name = forms.CharField(label=_("Workspace name"), max_length=100)


class WorkspaceMemberForm(CardNumberGuardMixin, forms.Form):
    username = forms.CharField(label=_("Collaborator's username"), max_length=150)


class WorkspaceRecordForm(CardNumberGuardMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=WorkspaceRecord.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=150)
    email = forms.EmailField(label=_("Email address"), required=False)
    phone = forms.CharField(label=_("Phone number"), max_length=40, required=False)
    notes = forms.CharField(
        label=_("Notes"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class IntegrationGrantForm(CardNumberGuardMixin, forms.Form):
    integration = forms.ChoiceField(label=_("Integration"))
    scopes = forms.MultipleChoiceField(
        label=_("What it may read"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Nothing is ticked for you: choose exactly what the integration may read."),
    )
    workspace = forms.ModelChoiceField(
        label=_("Workspace"),
        queryset=None,
        required=False,
        help_text=_("Needed for access to a workspace's records or collaborators."),
    )

    def __init__(self, *args, user, **kwargs):
        from .integrations import SCOPES, integration_choices

        super().__init__(*args, **kwargs)
        self.fields["integration"].choices = integration_choices()
        self.fields["scopes"].choices = list(SCOPES.items())
        self.fields["workspace"].queryset = user.owned_workspaces.all()


class StaffAccessWindowForm(CardNumberGuardMixin, forms.ModelForm):
    """Opening a need-to-know window (admin); the service checks it again."""

    minutes = forms.IntegerField(
        label=_("For how many minutes"), min_value=1, initial=30, help_text=_("At most 4 hours.")
    )

    class Meta:
        model = StaffAccessWindow
        fields = ["subject_user", "ticket_reference", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "ticket_reference" in self.fields:  # a window's view-only page has no fields
            self.fields["ticket_reference"].help_text = _("The support ticket, like SUP-1234.")

    def clean(self):
        from . import staff_access

        cleaned = super().clean()
        ticket = cleaned.get("ticket_reference") or ""
        if ticket and not staff_access.TICKET_PATTERN.match(ticket.strip()):
            self.add_error("ticket_reference", _("Give the support ticket, like SUP-1234."))
        reason = " ".join((cleaned.get("reason") or "").split())
        if reason and len(reason) < 15:
            self.add_error("reason", _("Say why you need to see this person's data."))
        minutes = cleaned.get("minutes")
        if minutes and minutes > app_settings.STAFF_ACCESS_MAX_MINUTES:
            self.add_error(
                "minutes",
                _("A window lasts at most %(max)d minutes.")
                % {"max": app_settings.STAFF_ACCESS_MAX_MINUTES},
            )
        return cleaned


class ChildDataReportForm(CardNumberGuardMixin, forms.Form):
    """The public "report a child's data" form: no login needed."""

    reporter_name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    reporter_email = forms.EmailField(
        label=_("Your email address"),
        help_text=_("We write to you once we have reviewed the report and acted on it."),
    )
    relationship = forms.ChoiceField(
        label=_("Your relationship to the child"),
        choices=[("", "—")] + list(ChildDataReport.Relationship.choices),
        required=False,
    )
    child_name = forms.CharField(label=_("The child's name"), max_length=150, required=False)
    child_email = forms.EmailField(
        label=_("The email address the child used"),
        required=False,
        help_text=_("If you know it: it lets us find everything the child gave us."),
    )
    child_username = forms.CharField(
        label=_("The child's username on Workpex"), max_length=150, required=False
    )
    details = forms.CharField(
        label=_("What should we know?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("For example which form the child filled in, or the child's age."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reporter_name"].widget.attrs["autocomplete"] = "name"
        self.fields["reporter_email"].widget.attrs["autocomplete"] = "email"
        for name in ("child_name", "child_email", "child_username"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean(self):
        data = super().clean()
        if not (data.get("child_name") or data.get("child_email") or data.get("child_username")):
            raise forms.ValidationError(
                _("Tell us who the child is: a name, an email address or a username.")
            )
        return data
