"""The mobile apps' device permissions (Part II), from `accounts/data/mobile_permissions.json`:
what each is used for and who receives it. Checked against the personal-data registry when
read, so the table and the registry cannot drift apart; shown on the privacy dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dsar import registry
from dsar.dashboard import DashboardSection, dashboard_section

DATA_FILE = Path(__file__).resolve().parent / "data" / "mobile_permissions.json"
REQUIRED = ("camera", "microphone", "call_history", "contacts", "photos", "files", "location")


@dataclass(frozen=True)
class MobilePermission:
    code: str
    name: str
    used_for: str
    source: str
    recipients: tuple[str, ...]


@cache
def mobile_permissions() -> tuple[str, str, tuple[MobilePermission, ...]]:
    """(category, note, permissions); raises registry.RegistryError if the table is inconsistent."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    category = data["category"]
    if category != registry.SERVICE_DATA_CATEGORY:
        raise registry.RegistryError("Mobile permissions are service data.")
    permissions = tuple(
        MobilePermission(
            code=row["code"],
            name=row["name"],
            used_for=row["used_for"],
            source=registry.Source(row["source"]).value,
            recipients=tuple(row["recipients"]),
        )
        for row in data["permissions"]
    )
    codes = [p.code for p in permissions]
    if sorted(codes) != sorted(REQUIRED):
        raise registry.RegistryError(f"Mobile permissions must be exactly {REQUIRED}")
    return category, data["note"], permissions


@dashboard_section
def mobile_permissions_section(request) -> DashboardSection:
    category, note, permissions = mobile_permissions()
    return DashboardSection(
        template="accounts/dashboard/mobile_permissions.html",
        context={"category": category, "note": note, "permissions": permissions},
        order=30,
    )
