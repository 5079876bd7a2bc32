"""CSV for people who open it in a spreadsheet: the officer's reports and the ledger export.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by spreadsheet
programs as a formula (OWASP "CSV injection"). Text that people typed (names, addresses, reasons)
can start that way, so such text cells get a leading apostrophe, which spreadsheets show as plain
text. Numbers are left alone. The person's own portability export is machine-readable data and
keeps every value exactly as stored (dsar.exports)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """The value as a spreadsheet will show it, never as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SpreadsheetWriter:
    """`csv.writer` whose rows are made safe to open in a spreadsheet."""

    def __init__(self, out) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([spreadsheet_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
