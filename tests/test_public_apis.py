"""The portal's code uses only the public APIs of Django, allauth and every other library: no
import from a library's `internal` or private (`_name`) module, no private name imported from a
library, and no private attribute (`obj._name`) read or written outside the object's own class
(issue 19: a library upgrade must not silently change what the portal does).

Django documents a few underscore names as public API (`Model._meta`, `_default_manager`,
`_base_manager`, `Model._state`) and Python's named tuples theirs (`_replace`, `_asdict`,
`_fields`, `_make`); those are allowed.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"accounts", "consent", "desk", "dsar", "notifications", "ops", "review", "workpex_portal"}
DOCUMENTED = {"_meta", "_default_manager", "_base_manager", "_state"} | {
    "_replace",
    "_asdict",
    "_fields",
    "_make",
}
# Not underscore-named, yet undocumented internals of Django's connection.
UNDOCUMENTED = {"atomic_blocks", "_from_testcase"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _ours(module: str | None) -> bool:
    return not module or module.split(".")[0] in OURS | {"tests", "bench", "loadtest", "scripts"}


def private_uses(source: str, *, attributes: bool = True) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            continue  # a relative import is our own module
        if isinstance(node, ast.Import | ast.ImportFrom):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                modules = [node.module]
            for module in modules:
                if not _ours(module) and any(
                    part == "internal" or _private(part) for part in module.split(".")
                ):
                    found.append((node.lineno, f"import of {module}"))
            if isinstance(node, ast.ImportFrom) and not _ours(node.module):
                found += [
                    (node.lineno, f"private name {a.name} from {node.module}")
                    for a in node.names
                    if _private(a.name)
                ]
        elif not attributes:
            continue
        elif isinstance(node, ast.Attribute):
            owner = node.value
            own = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
            if (_private(node.attr) and not own and node.attr not in DOCUMENTED) or (
                node.attr in UNDOCUMENTED
            ):
                found.append((node.lineno, f"attribute {node.attr} of {ast.unparse(owner)}"))
        elif isinstance(node, ast.Constant) and node.value in UNDOCUMENTED:
            found.append((node.lineno, f"attribute {node.value} by name"))
    return found


PRODUCTION = sorted(
    path
    for package in OURS
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.parts
)


@pytest.mark.parametrize("path", PRODUCTION, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_api_of_any_library(path):
    assert private_uses(path.read_text()) == []


# Tests, benchmarks and scripts may poke our own objects' insides, but import no library's.
TOOLING = sorted(
    path
    for folder in ("tests", "bench", "loadtest", "scripts")
    for path in (ROOT / folder).rglob("*.py")
)


@pytest.mark.parametrize("path", TOOLING, ids=lambda p: str(p.relative_to(ROOT)))
def test_tests_and_tools_import_no_private_module_of_any_library(path):
    assert private_uses(path.read_text(), attributes=False) == []


def test_the_scan_finds_what_it_forbids():
    source = (
        "from allauth.account.internal.flows.login import get_authentication_records\n"
        "from email.generator import _make_boundary\n"
        "import celery._state\n"
        "rows._for_write = True\n"
        "connection.atomic_blocks\n"
        "self._cache = {}\n"
        "model._meta.get_field('x')\n"
        "from .erasure import _rows_delete\n"
    )
    assert [line for line, _what in private_uses(source)] == [1, 2, 3, 4, 5]
