from django import forms
from django.utils.translation import gettext_lazy as _

from .fides import DatasetError
from .models import ConnectedSystem
from .services import dataset_check, system_url_set


class ConnectedSystemForm(forms.ModelForm):
    """The system, a new connection URL (never shown again once stored), and its dataset: pasted
    or uploaded, checked against the database before anything is saved."""

    url = forms.CharField(
        label=_("connection URL (SQLAlchemy)"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "For example postgresql://user:password@host:5432/shop, "
            "mariadb://user:password@host:3306/shop or sqlite:////srv/shop.sqlite3. Stored "
            "encrypted; leave empty to keep the stored one."
        ),
    )
    dataset_text = forms.CharField(
        label=_("dataset (Fides YAML)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 20, "spellcheck": "false"}),
        help_text=_("Paste or edit the dataset; saving a changed dataset makes a new version."),
    )
    dataset_file = forms.FileField(
        label=_("or upload a dataset file"), required=False, help_text=_("A .yml file.")
    )

    class Meta:
        model = ConnectedSystem
        fields = ("name", "kind", "instructions", "team", "due_days", "endpoint", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.dataset if self.instance.pk else None
        if current is not None:
            self.fields["dataset_text"].initial = current.text

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        url = (data.get("url") or "").strip()
        if url:
            system_url_set(system=self.instance, url=url)
        if kind == ConnectedSystem.Kind.SQL and not self.instance.url_encrypted:
            self.add_error("url", _("A SQL database needs its connection URL."))
            return data
        if kind == ConnectedSystem.Kind.WEBHOOK and not data.get("endpoint"):
            self.add_error(
                "endpoint", _("Choose the webhook endpoint that tells this system whom to erase.")
            )
            return data
        upload = data.get("dataset_file")
        text = (
            upload.read().decode("utf-8", errors="replace") if upload else data.get("dataset_text")
        )
        data["dataset"] = (text or "").strip()
        if data["dataset"] and kind:
            self.instance.kind = kind
            try:
                dataset_check(system=self.instance, text=data["dataset"])
            except DatasetError as error:
                self.add_error("dataset_text", str(error))
        return data


class ConfirmForm(forms.Form):
    confirmation = forms.CharField(
        label=_("what was done"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Who did it and what: this is kept with the request."),
    )
