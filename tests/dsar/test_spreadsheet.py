import io

import pytest

from dsar.spreadsheet import SpreadsheetWriter, spreadsheet_cell


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("a=b", "a=b"),
        ("", ""),
        (-2, -2),
        (3.5, 3.5),
        (None, None),
    ],
)
def test_text_that_a_spreadsheet_would_run_is_shown_as_text(value, shown):
    assert spreadsheet_cell(value) == shown


def test_writer_makes_every_cell_safe():
    out = io.StringIO()
    SpreadsheetWriter(out).writerows([["name", "=cmd|' /C calc'!A0", 7]])
    assert out.getvalue() == "name,'=cmd|' /C calc'!A0,7\r\n"
