"""CI's dependency audit: pip-audit on the locked requirements (uv.lock), every group.

Outcomes, so that network trouble never reads as "no known vulnerabilities":
- a known vulnerability in a locked package: exit 1 (CI fails), with the advisory and the fix;
- every package audited, none vulnerable: exit 0;
- the vulnerability service could not be reached, or could not audit some packages (an index
  without PyPI's JSON API, no network): the script says plainly which packages were NOT audited
  and exits 0, unless DEPENDENCY_AUDIT_REQUIRED=1, when it exits 2. Set that wherever PyPI's
  vulnerability data is reachable, so a silent skip cannot hide a vulnerability there.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def main() -> int:
    required = os.environ.get("DEPENDENCY_AUDIT_REQUIRED") == "1"
    requirements = subprocess.run(
        [str(VENV_BIN / "uv"), "export", "--format", "requirements-txt", "--no-hashes"]
        + ["--frozen", "--all-groups", "--quiet"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as file:
        file.write(requirements)
        file.flush()
        result = subprocess.run(
            [str(VENV_BIN / "pip-audit"), "-r", file.name, "--disable-pip", "--no-deps"]
            + ["--progress-spinner", "off", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=600,
        )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print("dependency audit NOT DONE: pip-audit gave no report (network?):", file=sys.stderr)
        print(result.stderr[-2000:], file=sys.stderr)
        return 2 if required else 0

    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        print(f"dependency audit FAILED: {len(vulnerable)} vulnerable package(s)")
        return 1
    audited = len(dependencies) - len(skipped)
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        print(
            f"dependency audit INCOMPLETE: {audited} of {len(dependencies)} packages audited, "
            f"no vulnerability among them; NOT audited (no vulnerability data reachable): {names}"
        )
        return 2 if required else 0
    print(f"dependency audit passed: {audited} packages, no known vulnerability")
    return 0


if __name__ == "__main__":
    sys.exit(main())
