"""The Fides taxonomy (`fideslang`): the data categories, uses and subjects privacy tools share.

Activities name their data with its keys (`user.contact.email`, `marketing.communications.email`,
`customer`); the keys are checked against fideslang's default taxonomy, never copied here."""

from collections.abc import Iterable
from functools import lru_cache

from fideslang import DEFAULT_TAXONOMY

KINDS = ("data_category", "data_use", "data_subject")


@lru_cache(maxsize=len(KINDS))
def taxonomy_labels(kind: str) -> dict[str, str]:
    """key -> the taxonomy's own name, for one of KINDS."""
    return {item.fides_key: item.name or item.fides_key for item in getattr(DEFAULT_TAXONOMY, kind)}


def taxonomy_keys_invalid(kind: str, keys: Iterable) -> list[str]:
    """The keys that are not in the default taxonomy (or not text), in order."""
    if not isinstance(keys, list | tuple):
        return [repr(keys)]
    known = taxonomy_labels(kind)
    return [str(key) for key in keys if not isinstance(key, str) or key not in known]


def taxonomy_choices(kind: str) -> list[tuple[str, str]]:
    """(key, "key — name") pairs of one kind, for a form."""
    return [(key, f"{key} — {name}") for key, name in sorted(taxonomy_labels(kind).items())]
