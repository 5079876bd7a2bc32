"""Mutation testing of the core rules (docs/mutation.md): mutmut over each rule with only its own
tests, one rule at a time, one mutant at a time, and a score per rule.

mutmut 3 reads its configuration from the pyproject.toml of the directory it runs in and keeps
its state in `mutants/` there. So each rule gets a directory of its own, var/mutate/<rule>/, that
links to the checkout and holds a pyproject.toml whose [tool.mutmut] names the rule's files and
tests (the shared settings come from this checkout's [tool.mutmut]). mutmut mutates whole files;
the run is narrowed to the rule's functions by mutant name (`module.x_function__mutmut_N`), and
the score counts only those.

    python scripts/mutate.py                  every rule
    python scripts/mutate.py consent_gate     one rule (or several)
    python scripts/mutate.py --list           the rules and what is in scope
    python scripts/mutate.py --survivors age  run again only the last run's survivors

Each rule runs on its own PostgreSQL test database (test_workpex_mut_<rule>, created afresh by a
clean run of the rule's tests first). Survivors are listed with `mutmut show` commands.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "mutate"
VENV_BIN = Path(sys.executable).parent
# What a rule directory links to: the checkout minus its own state.
SKIP = {".git", ".venv", "var", "mutants", "pyproject.toml", "__pycache__", ".pytest_cache"}


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    files: tuple[str, ...]
    functions: tuple[str, ...]  # "module.function" or "module.Class.method"; "module.*" = all
    tests: tuple[str, ...]


RULES = [
    Rule(
        "consent_gate",
        "The consent gate (can_contact, consent_is_granted)",
        ("consent/selectors.py",),
        (
            "consent.selectors.can_contact",
            "consent.selectors.consent_is_granted",
            "consent.selectors._check_partner",
            "consent.selectors.channel_check",
            "consent.selectors.channel_decides",
            "consent.selectors.subject_resolve",
            "consent.selectors._subject_rows",
            "consent.selectors.purpose_get",
            "consent.selectors.partner_id_of",
        ),
        (
            "tests/consent/test_selectors.py",
            "tests/consent/test_channels.py",
            "tests/dsar/test_purposes.py",
        ),
    ),
    Rule(
        "restriction",
        "Restriction and objection selectors",
        ("dsar/selectors.py", "dsar/purposes.py"),
        (
            "dsar.selectors.processing_blocks_active",
            "dsar.selectors.blocked_user_ids",
            "dsar.selectors.blocked_emails",
            "dsar.selectors._who",
            "dsar.selectors.subject_processing_blocked",
            "dsar.selectors.processing_allowed",
            "dsar.selectors.blocked_use_codes",
            "dsar.purposes.processing_uses_clean",
            "dsar.purposes.immediate_objection_uses",
        ),
        ("tests/dsar/test_restriction.py", "tests/dsar/test_purposes.py"),
    ),
    Rule(
        "deadlines",
        "Deadlines and the extension",
        ("dsar/deadlines.py", "dsar/services/requests.py"),
        (
            "dsar.deadlines.*",
            "dsar.services.requests.dsar_request_extend",
            "dsar.services.requests._request_extend",
        ),
        ("tests/dsar/test_requests.py", "tests/dsar/test_lifecycle.py"),
    ),
    Rule(
        "notice_30_days",
        "The 30-day rule for material policy changes",
        ("consent/policies.py",),
        (
            "consent.policies.policy_version_publish_errors",
            "consent.policies.policy_version_publish",
            "consent.policies._latest_published",
        ),
        ("tests/consent/test_policy.py", "tests/consent/test_notices.py"),
    ),
    Rule(
        "age",
        "The under-16 rules (age gate, under-16 sweep)",
        ("accounts/services.py", "accounts/child_removal.py"),
        (
            "accounts.services.age_on",
            "accounts.services.user_is_old_enough",
            "accounts.child_removal.under_age_born_after",
            "accounts.child_removal.child_data_detect",
        ),
        (
            "tests/accounts/test_signup.py",
            "tests/accounts/test_services.py",
            "tests/accounts/test_child_removal.py",
        ),
    ),
    Rule(
        "erasure_plan",
        "The erasure planner (plan order)",
        ("dsar/erasure.py", "dsar/registry.py"),
        (
            "dsar.erasure.erasure_erase_subject",
            "dsar.erasure.erasure_erase_subjects",
            "dsar.erasure._erase_entry",
            "dsar.erasure._rows_update",
            "dsar.erasure._holds",
            "dsar.registry.entries",
            "dsar.registry.entries_holding",
        ),
        (
            "tests/dsar/test_erasure.py",
            "tests/dsar/test_erasure_rules.py",
            "tests/dsar/test_erasure_bulk.py",
        ),
    ),
]
RULES_BY_NAME = {rule.name: rule for rule in RULES}

# mutmut's exit-code classes (mutmut.models: status_by_exit_code)
KILLED = {1, 3, -24, 37}  # a test failed, an error, a timeout, the type checker
SURVIVED = {0, 5}  # every test passed; no test ran it
NO_TESTS = {33}


def mangled_patterns(rule: Rule) -> list[str]:
    """mutmut's mutant names: `pkg.mod.x_func__mutmut_N`, `pkg.mod.xǁClassǁmethod__mutmut_N`."""
    patterns = []
    for dotted in rule.functions:
        parts = dotted.split(".")
        classes = [i for i, part in enumerate(parts) if part[:1].isupper()]
        if parts[-1] == "*":
            patterns.append(dotted)
        elif classes:
            i = classes[0]
            patterns.append(f"{'.'.join(parts[:i])}.xǁ{parts[i]}ǁ{parts[i + 1]}__mutmut_*")
        else:
            patterns.append(f"{'.'.join(parts[:-1])}.x_{parts[-1]}__mutmut_*")
    return patterns


def selection(rule: Rule) -> list[str]:
    """The rule's tests, without those that need a Celery worker or a browser."""
    return [*rule.tests, "-m", "not worker and not browser"]


def toml_list(values) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def rule_dir(rule: Rule) -> Path:
    """var/mutate/<rule>/: links to the checkout, and a pyproject.toml for this rule."""
    where = WORK / rule.name
    where.mkdir(parents=True, exist_ok=True)
    for entry in ROOT.iterdir():
        if entry.name in SKIP:
            continue
        link = where / entry.name
        if not link.is_symlink():
            link.symlink_to(entry)
    text = (ROOT / "pyproject.toml").read_text()
    shared = tomllib.loads(text).get("tool", {}).get("mutmut", {})
    head, _, tail = text.partition("[tool.mutmut]")
    # drop the shared table (up to the next table) and write the rule's own
    rest = tail.split("\n[", 1)
    text = head + ("[" + rest[1] if len(rest) > 1 else "")
    lines = ["", "[tool.mutmut]"]
    settings = dict(shared)
    settings["source_paths"] = list(rule.files)
    settings["pytest_add_cli_args_test_selection"] = selection(rule)
    for key, value in settings.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        elif isinstance(value, list):
            lines.append(f"{key} = {toml_list(value)}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    (where / "pyproject.toml").write_text(text.rstrip() + "\n" + "\n".join(lines) + "\n")
    return where


def rule_env(rule: Rule) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/8")
    env["TEST_DATABASE_NAME"] = f"test_workpex_mut_{rule.name}"
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def results(where: Path, patterns: list[str]) -> dict[str, int]:
    """Exit code per in-scope mutant, from mutmut's meta files."""
    found: dict[str, int] = {}
    for meta in (where / "mutants").rglob("*.meta"):
        data = json.loads(meta.read_text())
        for name, code in data.get("exit_code_by_key", {}).items():
            if code is not None and any(fnmatch.fnmatchcase(name, p) for p in patterns):
                found[name] = code
    return found


def run_rule(rule: Rule, *, survivors_only: bool) -> dict:
    where = rule_dir(rule)
    env = rule_env(rule)
    patterns = mangled_patterns(rule)
    if survivors_only:
        # Keep the earlier results; run again only what survived them (new tests are found by
        # mutmut's incremental stats).
        earlier = results(where, patterns)
        names = [n for n, c in earlier.items() if c not in KILLED]
        if not names:
            print(f"\n== {rule.name}: no survivors to run again")
            return outcome(rule, results(where, patterns))
    else:
        shutil.rmtree(where / "mutants", ignore_errors=True)
        earlier, names = {}, patterns
    print(f"\n== {rule.name}: {rule.title}", flush=True)
    if not survivors_only:
        # A clean run of the rule's tests on a new database: the baseline must pass.
        subprocess.run(
            [str(VENV_BIN / "python"), "-m", "pytest", "--create-db", "-q", "-x", *selection(rule)],
            cwd=ROOT,
            env=env,
            check=True,
        )
    subprocess.run(
        [str(VENV_BIN / "mutmut"), "run", "--max-children", "1", *names],
        cwd=where,
        env=env,
        check=False,
    )
    # mutmut may forget results it did not run again this time: the earlier ones still stand.
    return outcome(rule, {**earlier, **results(where, patterns)})


def outcome(rule: Rule, codes: dict[str, int]) -> dict:
    killed = sorted(n for n, c in codes.items() if c in KILLED)
    survived = sorted(n for n, c in codes.items() if c in SURVIVED | NO_TESTS)
    other = sorted(n for n, c in codes.items() if c not in KILLED | SURVIVED | NO_TESTS)
    return {"rule": rule, "killed": killed, "survived": survived, "other": other}


def report(result: dict) -> None:
    rule, killed, survived, other = (
        result["rule"],
        result["killed"],
        result["survived"],
        result["other"],
    )
    total = len(killed) + len(survived) + len(other)
    score = 100 * len(killed) / total if total else 0.0
    extra = f", {len(other)} other" if other else ""
    print(
        f"{rule.name}: {total} mutants, {len(killed)} killed, {len(survived)} survived{extra}"
        f" ({score:.0f} % before equivalents are left out)"
    )
    for name in survived + other:
        print(f"    survived: {name}   (cd var/mutate/{rule.name} && mutmut show {name})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rules", nargs="*", help=", ".join(RULES_BY_NAME))
    parser.add_argument("--list", action="store_true", help="show the rules and stop")
    parser.add_argument(
        "--survivors", action="store_true", help="run again only what survived the last run"
    )
    args = parser.parse_args()
    unknown = set(args.rules) - set(RULES_BY_NAME)
    if unknown:
        parser.error(f"unknown rule(s): {', '.join(sorted(unknown))}")
    chosen = [RULES_BY_NAME[name] for name in args.rules] or RULES
    if args.list:
        for rule in chosen:
            print(f"{rule.name}: {rule.title}")
            print(f"    files: {', '.join(rule.files)}")
            print(f"    in scope: {', '.join(rule.functions)}")
            print(f"    tests: {' '.join(rule.tests)}")
        return 0
    outcomes = [run_rule(rule, survivors_only=args.survivors) for rule in chosen]
    print("\n== Scores (equivalent mutants not yet left out: see docs/mutation.md)")
    for result in outcomes:
        report(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
