"""scripts/dependency_audit.py: a vulnerability fails CI; missing data is said, never hidden."""

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dependency_audit.py"


@pytest.fixture
def audit(monkeypatch):
    spec = importlib.util.spec_from_file_location("dependency_audit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run_with(report, *, required=False):
        def fake_run(args, **kwargs):
            stdout = "django==5.2.8\n" if "export" in args else report
            return subprocess.CompletedProcess(args, 0, stdout=stdout, stderr="")

        monkeypatch.setattr(module.subprocess, "run", fake_run)
        monkeypatch.setenv("DEPENDENCY_AUDIT_REQUIRED", "1" if required else "0")
        return module.main()

    return run_with


def report(*dependencies):
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_a_vulnerability_fails(audit, capsys):
    vuln = {"id": "PYSEC-1", "fix_versions": ["5.2.9"], "description": "x"}
    assert audit(report({"name": "django", "version": "5.2.8", "vulns": [vuln]})) == 1
    assert "VULNERABLE django 5.2.8: PYSEC-1 (fixed in 5.2.9)" in capsys.readouterr().out


def test_all_audited_and_clean_passes(audit, capsys):
    assert audit(report({"name": "django", "version": "5.2.8", "vulns": []})) == 0
    assert "passed: 1 packages" in capsys.readouterr().out


def test_unaudited_packages_are_named_and_fail_only_when_required(audit, capsys):
    skipped = report({"name": "django", "skip_reason": "not found"})
    assert audit(skipped) == 0
    assert "INCOMPLETE: 0 of 1" in capsys.readouterr().out
    assert audit(skipped, required=True) == 2
    assert audit("not json", required=True) == 2
