from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.services import photo_validate

from .models import ScanReview, SpamReview


class SpamReportForm(forms.Form):
    sender = forms.CharField(
        label=_("Sender"),
        max_length=254,
        required=False,
        help_text=_("The address the message came from, as your mail program shows it."),
    )
    subject_line = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Message"),
        max_length=SpamReview._meta.get_field("body").max_length,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Paste the message. A Workpex reviewer reads it to improve spam detection."),
    )


class ScanForm(forms.Form):
    image = forms.ImageField(
        label=_("Scanned image"),
        help_text=_("A JPEG, PNG, WebP or GIF image of at most 5 MB."),
    )
    recognised_text = forms.CharField(
        label=_("Recognised text"),
        max_length=ScanReview._meta.get_field("recognised_text").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "The text your scanning app recognised, if any. A Workpex reviewer compares it with "
            "the image and corrects it."
        ),
    )

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image is not None:
            photo_validate(image)
        return image


class AssignForm(forms.Form):
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Why you take these items. Kept with the assignment, in the audit log, and shown to "
            "the owner."
        ),
    )


class ScanDecisionForm(forms.Form):
    checked_text = forms.CharField(
        label=_("Text the scan shows"),
        max_length=ScanReview._meta.get_field("checked_text").max_length,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
