"""axe-core in the browser tests: installing the pinned copy and auditing pages with it.

axe-core comes from the npm registry, pinned by `tests/e2e/axe/package-lock.json`; `axe_install()`
runs `npm ci` there when the installed copy is missing or not the locked version. The script is
added through the DevTools protocol, which the page's Content-Security-Policy does not block,
so the pages are audited exactly as they are served (CSP on, no inline script added).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

AXE_DIR = Path(__file__).parent / "axe"
AXE_PACKAGE = AXE_DIR / "node_modules" / "axe-core"
AXE_SCRIPT = AXE_PACKAGE / "axe.min.js"
INSTALL_HINT = (
    "install Node.js and npm (`apt-get install -y nodejs npm`), then "
    "`npm ci --prefix tests/e2e/axe` (the e2e tests run it themselves when npm is there)"
)

# What fails a page: every rule at these impacts, and the structural rules below at any impact
# (axe rates missing landmarks or skipped heading levels only "moderate", but a screen-reader user
# finds their way by them).
FAILING_IMPACTS = {"serious", "critical"}
STRUCTURE_RULES = {
    "bypass",
    "heading-order",
    "landmark-one-main",
    "landmark-unique",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
    "landmark-no-duplicate-main",
    "page-has-heading-one",
    "region",
    "skip-link",
}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary || ''})),
  }));
}"""


def _locked_version() -> str:
    lock = json.loads((AXE_DIR / "package-lock.json").read_text())
    return lock["packages"]["node_modules/axe-core"]["version"]


def _installed_version() -> str | None:
    try:
        return json.loads((AXE_PACKAGE / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def axe_install() -> str:
    """The source of the locked axe-core, installed with `npm ci` if needed; skips the test (fails
    it in CI) with how to install when it cannot be had."""
    problem = None
    if _installed_version() != _locked_version() or not AXE_SCRIPT.exists():
        npm = shutil.which("npm")
        if npm is None:
            problem = "npm is not installed"
        else:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=AXE_DIR,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0 or _installed_version() != _locked_version():
                problem = f"`npm ci` in {AXE_DIR} failed: {done.stderr.strip()[-500:]}"
    if problem is None and AXE_SCRIPT.exists():
        return AXE_SCRIPT.read_text()
    message = f"axe-core {_locked_version()} is not available ({problem}): {INSTALL_HINT}."
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def axe_violations(page, source: str) -> list[str]:
    """The failing axe violations on the page as it is now, one readable line per element."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {source}\n}}")
    lines = []
    for violation in page.evaluate(RUN_AXE):
        if violation["impact"] not in FAILING_IMPACTS and violation["id"] not in STRUCTURE_RULES:
            continue
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split()).removeprefix("Fix any of the following: ")
            lines.append(
                f"[{violation['impact']}] {violation['id']} ({violation['help']}): "
                f"{node['target']} — {summary}"
            )
    return lines


class AxeAudit:
    """Audits pages one after the other in one browser page and reports all failures at the end,
    so one run lists every problem rather than the first."""

    def __init__(self, page, source: str):
        self.page = page
        self.source = source
        # Given to every page the browser opens from now on, before its own scripts: cheaper
        # than sending the 650 kB again after each navigation (axe_violations checks it is there).
        page.add_init_script(script=source)
        self.found: dict[str, list[str]] = {}
        self.audited: list[str] = []

    def visit(
        self, url: str, *, status: int = 200, lands: str | None = None, label: str | None = None
    ) -> None:
        """Open url and audit it. A page that answered another status, or sent the browser
        elsewhere than `lands` (default: url itself), is a failure too: a login page audited in
        its place would prove nothing."""
        label = label or url
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        landed = urlsplit(self.page.url).path
        wanted = urlsplit(lands or url).path
        if landed != wanted or response is None or response.status != status:
            answered = response.status if response else None
            self.audited.append(label)
            self.found[label] = [f"answered {answered} at {landed}, expected {status} at {wanted}"]
            return
        self.check(label)

    def check(self, label: str) -> None:
        """Audit the page as it is now (after a click, a choice, a form error)."""
        self.audited.append(label)
        violations = axe_violations(self.page, self.source)
        if violations:
            self.found[label] = violations

    def assert_clean(self) -> None:
        """Fail with each problem once, followed by the pages it is on."""
        if not self.found:
            return
        pages_by_problem: dict[str, list[str]] = {}
        for label, lines in self.found.items():
            for line in lines:
                pages_by_problem.setdefault(line, []).append(label)
        report = "\n".join(
            f"{problem}\n    on {len(labels)} page(s): {', '.join(labels)}"
            for problem, labels in pages_by_problem.items()
        )
        pytest.fail(
            f"accessibility problems on {len(self.found)} of {len(self.audited)} pages "
            f"(axe-core {_locked_version()}):\n{report}",
            pytrace=False,
        )
