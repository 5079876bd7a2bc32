"""Sections other apps add to the privacy dashboard (`/privacy/`), without dsar importing them.

    @dashboard_section
    def integrations(request) -> DashboardSection | None: ...

A section is a template and its context; None leaves it out for this person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DashboardSection:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 50


_sections: list[Callable[[Any], DashboardSection | None]] = []


def dashboard_section(func: Callable[[Any], DashboardSection | None]):
    """Register a function that builds one section of a person's dashboard (a decorator)."""
    _sections.append(func)
    return func


def dashboard_sections(request) -> list[DashboardSection]:
    built = [section(request) for section in _sections]
    return sorted((s for s in built if s is not None), key=lambda s: s.order)
