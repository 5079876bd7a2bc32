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
- `access_started` is called when an access or portability request's packages are asked for,
  with whom they are about: the handler writes its own job rows (idempotent: a rebuilt package
  asks again);
- `export_waits` says, in plain words, what the packages still wait for (an empty list: they
  can be built); when that work is done the handler wakes them through
  `dsar.services.exports_resume`;
- `export_sections` gives what the access report and the portability package add beyond the
  registry: one `ExportSection` per system and collection, its rows read as the package is built
  (or a note, for a system someone went through by hand);
- `exports_deleted` is called when the last of a request's packages is deleted: whatever the
  handler kept for them goes too.

A webhook delivery (the outbox) plugs in here the same way: a handler whose blockers name the
subscribed systems that have not acknowledged yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


def _no_rows() -> Iterator[dict[str, Any]]:
    return iter(())


@dataclass(frozen=True)
class ExportSection:
    """Data held in another system: its name, the collection, each field's data categories,
    a function that streams the rows (dicts of field → value) when called, and a note in words
    (what a team that went through the system by hand says it found or sent)."""

    system: str
    collection: str
    categories: dict[str, list[str]] = field(default_factory=dict)
    rows: Callable[[], Iterator[dict[str, Any]]] = field(default=_no_rows, compare=False)
    note: str = ""


class RequestPartHandler:
    """The hooks, each doing nothing by default."""

    def erasure_started(self, *, request, subjects) -> None:
        return None

    def completion_blockers(self, request) -> list[str]:
        return []

    def access_started(self, *, request, subjects) -> None:
        return None

    def export_waits(self, request) -> list[str]:
        return []

    def export_sections(self, *, request, subjects) -> Iterable[ExportSection]:
        return []

    def exports_deleted(self, *, request) -> None:
        return None


_handlers: list[RequestPartHandler] = []


def request_part_handler(cls: type[RequestPartHandler]) -> type[RequestPartHandler]:
    """Register a handler class (a decorator); registering the same class twice keeps one."""
    if not any(type(h) is cls for h in _handlers):
        _handlers.append(cls())
    return cls


def request_part_handlers() -> list[RequestPartHandler]:
    return list(_handlers)
