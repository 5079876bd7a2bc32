"""Which data protection supervisory authority a person can complain to, by country."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "supervisory_authorities.json"


@dataclass(frozen=True)
class Authority:
    country: str
    name: str
    url: str


@cache
def _table() -> dict[str, Authority]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return {
        code: Authority(country=code, name=entry["name"], url=entry["url"])
        for code, entry in raw.items()
        if not code.startswith("_")
    }


def authority_for(country_code: str) -> Authority | None:
    """The authority for a country, or None where the country has none in our table."""
    return _table().get((country_code or "").upper())
