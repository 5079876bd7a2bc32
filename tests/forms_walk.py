"""Every form class of the project: each app's forms module, and allauth's forms named in
ACCOUNT_FORMS. Tests that must cover every form walk this list, so a new form is covered (or
fails a test) without anyone remembering to add it."""

import importlib
import inspect

from django import forms
from django.conf import settings

PROJECT_APPS = ("accounts", "consent", "dsar", "ops")


def project_form_classes() -> dict[str, type[forms.BaseForm]]:
    """Dotted path -> form class."""
    found = {}
    for label in PROJECT_APPS:
        try:
            module = importlib.import_module(f"{label}.forms")
        except ModuleNotFoundError:
            continue
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                found[f"{cls.__module__}.{cls.__name__}"] = cls
    for path in settings.ACCOUNT_FORMS.values():
        module_name, name = path.rsplit(".", 1)
        found[path] = getattr(importlib.import_module(module_name), name)
    return found
