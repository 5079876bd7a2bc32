"""A Fides dataset (YAML), validated with fideslang's models and turned into the graph the
engine runs: collections with their primary key, identity fields, personal fields and how each
is erased, and the references between collections as directed edges.

Validation refuses, with a message naming the place, what the engine could not run safely:
a reference to another dataset, a reference to a collection or field the dataset does not
declare, a primary key or reference field with a masking strategy (keys are never masked), an
unknown strategy, a `string_rewrite` without its value, an `erase_after` naming an unknown
collection, or erase orders that go round in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from django.utils.translation import gettext as _
from fideslang.models import Dataset as FidesDataset
from pydantic import ValidationError as PydanticValidationError

# Fides' masking strategies the engine runs (field level), and the collection-level one.
NULL_REWRITE = "null_rewrite"
STRING_REWRITE = "string_rewrite"
HMAC = "hmac"
FIELD_STRATEGIES = (NULL_REWRITE, STRING_REWRITE, HMAC)
DELETE = "delete"
# Fields whose categories are under `user` hold data about the person (Fides' taxonomy).
PERSONAL_PREFIX = "user"


class DatasetError(ValueError):
    """A dataset the portal cannot run; the message says what and where."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    categories: tuple[str, ...]
    strategy: str = NULL_REWRITE
    value: str | None = None  # for string_rewrite
    explicit: bool = False  # the dataset names the strategy (masking_strategy_override)


@dataclass(frozen=True)
class Edge:
    """Rows of `child` are found from rows of `parent`: child.child_field = parent.parent_field."""

    parent: str
    parent_field: str
    child: str
    child_field: str


@dataclass
class Collection:
    name: str
    primary_key: str | None = None
    identities: dict[str, str] = field(default_factory=dict)  # identity type → field
    personal: list[FieldSpec] = field(default_factory=list)  # fields with user.* categories
    keys: set[str] = field(default_factory=set)  # primary key and reference fields
    delete_rows: bool = False
    erase_after: list[str] = field(default_factory=list)

    @property
    def masked(self) -> list[FieldSpec]:
        """The personal fields an erasure overwrites (never a key)."""
        return [f for f in self.personal if f.name not in self.keys]

    @property
    def columns(self) -> list[str]:
        """Every column the dataset names in this collection."""
        names = {f.name for f in self.personal} | self.keys | set(self.identities.values())
        return sorted(names)


@dataclass
class Graph:
    key: str
    name: str
    collections: dict[str, Collection]
    edges: list[Edge]


def _personal(categories: list[str] | None) -> bool:
    return any(
        c == PERSONAL_PREFIX or c.startswith(PERSONAL_PREFIX + ".") for c in categories or []
    )


def dataset_parse(text: str) -> Graph:
    """The graph of one dataset file (a `dataset:` list with one dataset, as Fides writes them,
    or the dataset itself); raises DatasetError with a clear message."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DatasetError(_("The file is not valid YAML: %(error)s") % {"error": error}) from None
    if isinstance(document, dict) and "dataset" in document:
        document = document["dataset"]
    if isinstance(document, list):
        if len(document) != 1:
            raise DatasetError(
                _("Give one dataset per file (this file has %(n)s).") % {"n": len(document)}
            )
        document = document[0]
    if not isinstance(document, dict):
        raise DatasetError(_("The file does not hold a Fides dataset."))
    try:
        dataset = FidesDataset.model_validate(document)
    except PydanticValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        message = _("Not a valid Fides dataset: %(problems)s") % {"problems": problems}
        raise DatasetError(message) from None
    return _graph(dataset)


def _graph(dataset: FidesDataset) -> Graph:
    collections: dict[str, Collection] = {}
    references: list[tuple[str, str, str, str, str | None]] = []
    for source in dataset.collections:
        collection = Collection(name=source.name)
        meta = source.fides_meta
        if meta is not None:
            collection.erase_after = [
                _after_name(dataset.fides_key, a) for a in meta.erase_after or []
            ]
            override = meta.masking_strategy_override
            collection.delete_rows = override is not None and override.strategy.value == DELETE
        for item in source.fields:
            if item.fields:
                raise DatasetError(
                    _("%(where)s: nested fields are for document stores; a SQL table has none.")
                    % {"where": f"{source.name}.{item.name}"}
                )
            where = f"{source.name}.{item.name}"
            fmeta = item.fides_meta
            strategy, value, explicit = NULL_REWRITE, None, False
            if fmeta is not None:
                if fmeta.primary_key:
                    if collection.primary_key:
                        raise DatasetError(
                            _("%(where)s: the collection has two primary keys.") % {"where": where}
                        )
                    collection.primary_key = item.name
                    collection.keys.add(item.name)
                if fmeta.identity:
                    collection.identities[fmeta.identity] = item.name
                for reference in fmeta.references or []:
                    collection.keys.add(item.name)
                    references.append(
                        (
                            source.name,
                            item.name,
                            reference.dataset,
                            reference.field,
                            reference.direction.value if reference.direction else None,
                        )
                    )
                override = fmeta.masking_strategy_override
                if override is not None:
                    strategy, explicit = override.strategy, True
                    value = (override.configuration or {}).get("rewrite_value")
                    if strategy not in FIELD_STRATEGIES:
                        raise DatasetError(
                            _(
                                "%(where)s: unknown masking strategy “%(strategy)s” (use one of "
                                "%(known)s, or delete on the collection)."
                            )
                            % {
                                "where": where,
                                "strategy": strategy,
                                "known": ", ".join(FIELD_STRATEGIES),
                            }
                        )
                    if strategy == STRING_REWRITE and value is None:
                        raise DatasetError(
                            _("%(where)s: string_rewrite needs configuration.rewrite_value.")
                            % {"where": where}
                        )
            if _personal(item.data_categories):
                collection.personal.append(
                    FieldSpec(
                        item.name, tuple(item.data_categories or ()), strategy, value, explicit
                    )
                )
        collections[source.name] = collection
    edges = [_edge(dataset.fides_key, collections, *r) for r in references]
    graph = Graph(
        key=dataset.fides_key,
        name=dataset.name or dataset.fides_key,
        collections=collections,
        edges=[e for pair in edges for e in pair],
    )
    for collection in collections.values():
        for spec in collection.personal:
            if spec.explicit and spec.name in collection.keys:
                raise DatasetError(
                    _(
                        "%(where)s is a key (primary key or reference): keys are never masked, "
                        "remove its masking strategy."
                    )
                    % {"where": f"{collection.name}.{spec.name}"}
                )
        for after in collection.erase_after:
            if after not in collections:
                raise DatasetError(
                    _(
                        "%(where)s: erase_after names “%(other)s”, which the dataset does not "
                        "declare."
                    )
                    % {"where": collection.name, "other": after}
                )
    return graph


def _after_name(dataset_key: str, name: str) -> str:
    prefix = dataset_key + "."
    return name[len(prefix) :] if name.startswith(prefix) else name


def _edge(key, collections, collection, field_name, dataset, target, direction) -> list[Edge]:
    where = f"{collection}.{field_name}"
    if dataset != key:
        raise DatasetError(
            _(
                "%(where)s refers to another dataset (%(other)s): give references within one "
                "dataset."
            )
            % {"where": where, "other": dataset}
        )
    other, _dot, other_field = target.partition(".")
    if other not in collections and other != collection:
        raise DatasetError(
            _("%(where)s refers to “%(target)s”, which the dataset does not declare.")
            % {"where": where, "target": target}
        )
    if not other_field:
        raise DatasetError(
            _("%(where)s: a reference names collection.field, not “%(target)s”.")
            % {"where": where, "target": target}
        )
    if other in collections:
        collections[other].keys.add(other_field)
    here_from_there = Edge(other, other_field, collection, field_name)
    there_from_here = Edge(collection, field_name, other, other_field)
    if direction == "from":
        return [here_from_there]
    if direction == "to":
        return [there_from_here]
    return [here_from_there, there_from_here]
