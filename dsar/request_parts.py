"""Parts of a request that other apps carry out (connected data stores), without dsar importing
them. An app registers one handler from its `AppConfig.ready()`:

    @request_part_handler
    class DataStores(RequestPartHandler):
        def erasure_started(self, *, request, subjects): ...

- `erasure_started` is called by the erasure run just before its registry step, with whom it
  erases (`Subject`s read from the schedule; the request's account still holds its other
  identifiers then): the handler writes its own job rows (and is called again on a resumed
  run, so it must be idempotent);
- `completion_blockers` says, in plain words, what of its work a request still waits for: the
  request cannot be completed before it is done (the handler completes it through
  `dsar.services.erasure_complete_if_possible` when its last part is done);
- `export_sections` gives what the access report and the portability package add beyond the
  registry: one `ExportSection` per system and collection, its rows read as the package is built.

A webhook delivery (the outbox) plugs in here the same way: a handler whose blockers name the
subscribed systems that have not acknowledged yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExportSection:
    """Data held in another system: its name, the collection, each field's data categories,
    and a function that streams the rows (dicts of field → value) when called."""

    system: str
    collection: str
    categories: dict[str, list[str]]
    rows: Callable[[], Iterator[dict[str, Any]]] = field(compare=False)


class RequestPartHandler:
    """The hooks, each doing nothing by default."""

    def erasure_started(self, *, request, subjects) -> None:
        return None

    def completion_blockers(self, request) -> list[str]:
        return []

    def export_sections(self, *, request, subjects) -> Iterable[ExportSection]:
        return []


_handlers: list[RequestPartHandler] = []


def request_part_handler(cls: type[RequestPartHandler]) -> type[RequestPartHandler]:
    """Register a handler class (a decorator); registering the same class twice keeps one."""
    if not any(type(h) is cls for h in _handlers):
        _handlers.append(cls())
    return cls


def request_part_handlers() -> list[RequestPartHandler]:
    return list(_handlers)
