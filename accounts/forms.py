from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ResetPasswordKeyForm as AllauthResetPasswordKeyForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField
from phonenumber_field.formfields import PhoneNumberField

from . import services
from .models import ChildDataReport, SecurityQuestion, User

OLDEST_PLAUSIBLE_AGE = 130


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class LoginForm(AllauthLoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("Username or email")
        self.fields["login"].widget.attrs["autocomplete"] = "username"


class SignupForm(AllauthSignupForm):
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

    def marketing_purposes(self) -> list[str]:
        """The purpose codes of the marketing boxes the person ticked."""
        return [
            code for name, code in self.MARKETING_PURPOSES.items() if self.cleaned_data.get(name)
        ]


class ProfileForm(forms.ModelForm):
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
        fields = ["full_name", "phone", "company_name", "country", "photo", "time_zone", "language"]
        help_texts = {
            "phone": _("Optional. Leave blank to remove it."),
            "time_zone": _("Optional. Dates and times are shown in this zone."),
            "language": _("Optional. The portal is shown in this language."),
        }

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
        self.order_fields(self.Meta.fields[:5] + ["remove_photo"])

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


class SecurityQuestionForm(forms.Form):
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


class ResetPasswordKeyForm(AllauthResetPasswordKeyForm):
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


class ChildDataReportForm(forms.Form):
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
