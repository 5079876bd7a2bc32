from django import forms
from django.utils.translation import gettext_lazy as _

from dsar.cardnumbers import CardNumberGuardMixin

from .models import Platform


class DeviceTokenField(forms.CharField):
    """A token the platform's push service issued to the app, checked against that platform's
    format by `notifications.services.device_token_clean`. Exempt from the card-number gate: an
    Apple token is 64 random hex characters, and about one in 200 holds a run of 13-19 digits
    that passes the Luhn check, so the gate would refuse genuine devices. Nobody types it."""

    card_number_allowed = True


class DeviceForm(CardNumberGuardMixin, forms.Form):
    """What an app sends to register its device, or to sign out of it."""

    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices)
    token = DeviceTokenField(label=_("Device token"), max_length=1024)
    name = forms.CharField(label=_("Device name"), max_length=100, required=False)
