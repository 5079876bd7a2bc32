"""Checks for pages that show a job's failure to officers: plain words at the top level, the
technical error only inside a folded <details>."""


def assert_folded(page: str, *, plain: str, technical: str) -> None:
    assert plain in page, plain
    assert technical in page, technical
    assert "Traceback (most recent call last)" not in page
    start = 0
    while (at := page.find(technical, start)) != -1:
        opened, closed = page.rfind("<details>", 0, at), page.rfind("</details>", 0, at)
        assert opened > closed, f"{technical!r} shown outside <details> at {at}"
        start = at + len(technical)
    assert page.index(plain) < page.index(technical)
