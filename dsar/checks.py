from django.core import checks

from . import registry


@checks.register(checks.Tags.models)
def check_personal_data_registry(app_configs=None, **kwargs):
    return [
        checks.Error(
            f"{label} is not in the personal-data registry.",
            hint=(
                "Register it with dsar.registry.personal_data(...) in its app's "
                "personal_data.py, or mark it with dsar.registry.no_personal_data(..., reason=...)."
            ),
            id="dsar.E001",
            obj=label,
        )
        for label in registry.unaccounted_models()
    ]
