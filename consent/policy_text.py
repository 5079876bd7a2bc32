"""The policy's text for people: Markdown rendered safely, and what changed between two versions.

Markdown goes through markdown-it-py with raw HTML switched off (a `<script>` in the source is
shown as text), then through nh3 (the Rust `ammonia` sanitiser) with a short allow-list, so that
even a renderer bug cannot let a version's text put scripts or foreign markup into the page.

The diff is Python's difflib over lines, refined word by word inside changed lines, and rendered
with <ins>/<del> elements that carry visually-hidden labels ("added", "removed"), so the change is
not told by colour alone and screen readers announce it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable("table")

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}


def policy_markdown_render(text: str) -> SafeString:
    """Markdown to safe HTML: no raw HTML, no scripts, links only to http(s) and mailto."""
    html = _markdown.render(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308  (sanitised by nh3 just above)


@dataclass(frozen=True)
class DiffLine:
    """One line of the diff: `kind` is "same", "added", "removed" or "changed" (with word-level
    `html`); `html` is always escaped and safe to show."""

    kind: str
    html: SafeString


_WORDS = re.compile(r"\s+|[^\s]+")


def _label(kind: str) -> str:
    return _("added:") if kind == "ins" else _("removed:")


def _mark(kind: str, text: str) -> str:
    if not text.strip():
        return escape(text)  # a blank line added or removed: nothing to announce
    return (
        f'<{kind}><span class="visually-hidden">{escape(_label(kind))} </span>'
        f"{escape(text)}</{kind}>"
    )


def _words_diff(old: str, new: str) -> str:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    parts = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(escape("".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            parts.append(_mark("del", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            parts.append(_mark("ins", "".join(b[j1:j2])))
    return "".join(parts)


def policy_diff(old_text: str, new_text: str, *, context: int = 2) -> list[DiffLine | None]:
    """What changed from `old_text` to `new_text`, line by line. Unchanged stretches longer than
    twice `context` are folded: a None in the list stands for the lines left out."""
    old_lines = (old_text or "").splitlines()
    new_lines = (new_text or "").splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    out: list[DiffLine | None] = []
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            same = old_lines[i1:i2]
            head = same[:context] if index > 0 else []
            tail = same[-context:] if index < len(opcodes) - 1 else []
            if len(same) <= len(head) + len(tail) or len(opcodes) == 1:
                kept = same
                out += [DiffLine("same", mark_safe(escape(line))) for line in kept]  # noqa: S308
                continue
            out += [DiffLine("same", mark_safe(escape(line))) for line in head]  # noqa: S308
            out.append(None)
            out += [DiffLine("same", mark_safe(escape(line))) for line in tail]  # noqa: S308
        elif tag == "replace" and (i2 - i1) == (j2 - j1):
            for old, new in zip(old_lines[i1:i2], new_lines[j1:j2], strict=True):
                out.append(DiffLine("changed", mark_safe(_words_diff(old, new))))  # noqa: S308
        else:
            out += [
                DiffLine("removed", mark_safe(_mark("del", line)))  # noqa: S308
                for line in old_lines[i1:i2]
            ]
            out += [
                DiffLine("added", mark_safe(_mark("ins", line)))  # noqa: S308
                for line in new_lines[j1:j2]
            ]
    return out
