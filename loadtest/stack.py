"""The portal's production shape on loopback: gunicorn (its own process tree), a Celery worker
and beat, started with `workpex_portal.settings.loadtest`, plus an RSS sampler of their processes.

Used by the load test (loadtest/run.py) and by the unsubscribe throughput benchmark
(bench/unsubscribe_load.py). Every process is started here and stopped here, by its own id.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "workpex_portal.settings.loadtest"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_env(
    *, database_url: str, broker_url: str, secret_key: str, payment_key: str, extra=None
) -> dict[str, str]:
    """The environment of every process of the stack (and of the runner's own Django)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CACHE_URL": broker_url,
        "SECRET_KEY": secret_key,
        "PAYMENT_TOKEN_KEYS": payment_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "http://127.0.0.1",
        "STATIC_ROOT": str(ROOT / "var" / "loadtest-static"),
        # Production's object storage, though the load touches no stored file: a bucket behind a
        # port where nothing listens, so a file access would fail at once, reaching nowhere.
        "STORAGE_BUCKET": "workpex-loadtest",
        "STORAGE_ENDPOINT_URL": "http://127.0.0.1:9",
        "STORAGE_ACCESS_KEY_ID": "loadtest",
        "STORAGE_SECRET_ACCESS_KEY": "loadtest",
        "STORAGE_REGION": "us-east-1",
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra or {})
    return env


def static_stale(static_root: str | Path) -> bool:
    """Whether a static source file (found by this process's finders: the same apps and
    folders in every settings module) is newer than the manifest of the last collection."""
    from django.contrib.staticfiles.finders import get_finders

    manifest = Path(static_root) / "staticfiles.json"
    if not manifest.exists():
        return True
    newest = max(
        (
            os.stat(storage.path(path)).st_mtime
            for finder in get_finders()
            for path, storage in finder.list([])
        ),
        default=0.0,
    )
    return newest >= manifest.stat().st_mtime


def static_collect_if_stale() -> None:
    """collectstatic (production's compressed manifest storage: ~45 s on a busy 2-core machine)
    only when needed. Runs inside a process set up with the load-test settings."""
    from django.conf import settings
    from django.core.management import call_command

    if static_stale(settings.STATIC_ROOT):
        call_command("collectstatic", interactive=False, verbosity=0)


def static_collect(env: dict[str, str]) -> None:
    """static_collect_if_stale() for callers whose own Django runs with other settings (the
    benchmarks): a process of its own with `env`, started only when something is stale."""
    if not static_stale(env["STATIC_ROOT"]):
        return
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from loadtest.stack import static_collect_if_stale; static_collect_if_stale()",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE / 2**20
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None


def children(pid: int) -> list[int]:
    """Direct children of `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command name may hold spaces and parentheses: the ppid follows the last ")".
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return sorted(found)


@dataclass
class Series:
    """RSS samples of one process: (seconds since the sampler started, MB)."""

    role: str
    pid: int
    samples: list[tuple[float, float]] = field(default_factory=list)


class RssSampler(threading.Thread):
    """Samples the RSS of the gunicorn workers (children of the master) and of the Celery worker
    (its main process and its pool) every `interval` seconds."""

    def __init__(self, roots: dict[str, int], interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.roots = roots  # role -> pid; "gunicorn" samples the master's children
        self.interval = interval
        self.series: dict[int, Series] = {}
        self.started = time.monotonic()
        self._stop_event = threading.Event()

    def _targets(self) -> list[tuple[str, int]]:
        targets = []
        for role, pid in self.roots.items():
            if role == "gunicorn":
                targets += [("gunicorn worker", child) for child in children(pid)]
            else:
                targets.append((role, pid))
                targets += [(f"{role} pool", child) for child in children(pid)]
        return targets

    def sample(self) -> None:
        now = time.monotonic() - self.started
        for role, pid in self._targets():
            rss = _rss_mb(pid)
            if rss is not None:
                self.series.setdefault(pid, Series(role, pid)).samples.append((now, rss))

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class MemoryVerdict:
    role: str
    pid: int
    first_mb: float
    last_mb: float
    samples: int

    @property
    def growth_mb(self) -> float:
        return self.last_mb - self.first_mb


def memory_verdicts(
    series: list[Series], *, start: float, end: float, warmup: float = 0.2, window: float = 0.2
) -> list[MemoryVerdict]:
    """For each process, the median RSS of the first window after warm-up (from `warmup` to
    `warmup + window` of the run between `start` and `end`) and of the last window (the final
    `window` of it). A process without samples in both windows (one that was born late or died
    early) is reported with what it has, so a replaced worker shows up."""
    span = end - start
    first_lo, first_hi = start + warmup * span, start + (warmup + window) * span
    last_lo = end - window * span
    verdicts = []
    for s in series:
        first = [mb for t, mb in s.samples if first_lo <= t <= first_hi]
        last = [mb for t, mb in s.samples if last_lo <= t <= end]
        if not first or not last:
            continue
        verdicts.append(
            MemoryVerdict(
                s.role, s.pid, statistics.median(first), statistics.median(last), len(s.samples)
            )
        )
    return verdicts


class Stack:
    """gunicorn with `workers` sync workers serving `app` (the portal, or the unsubscribe
    benchmark's baseline); optionally a Celery worker (prefork, 2) and beat."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        workers: int = 2,
        celery: bool = True,
        log_dir: Path,
        app: str = "workpex_portal.wsgi",
    ) -> None:
        self.env = env
        self.app = app
        self.workers = workers
        self.celery = celery
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs = []

    def _start(self, role: str, args: list[str]) -> None:
        log = open(self.log_dir / f"{role}.log", "w")  # noqa: SIM115 (closed in stop())
        self._logs.append(log)
        self.processes[role] = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self, *, timeout: float = 60.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._start(
            "gunicorn",
            [
                "gunicorn",
                self.app,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
        )
        if self.celery:
            hostname = f"loadtest-{self.port}@%h"
            self._start(
                "celery worker",
                [
                    "celery",
                    "-A",
                    "workpex_portal",
                    "worker",
                    "--loglevel=WARNING",
                    "--concurrency=2",
                    "--without-mingle",
                    "--without-gossip",
                    f"--hostname={hostname}",
                ],
            )
            self._start(
                "celery beat",
                ["celery", "-A", "workpex_portal", "beat", "--loglevel=WARNING", "--pidfile="],
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for role, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{role} exited at start; see {self.log_dir}/{role}.log")
            if self.status("/healthz") != 0 and len(children(self.pid("gunicorn"))) >= 1:
                return
            time.sleep(0.3)
        raise RuntimeError(f"the portal did not answer within {timeout:.0f} s")

    def pid(self, role: str) -> int:
        return self.processes[role].pid

    def gunicorn_workers(self) -> list[int]:
        return children(self.pid("gunicorn"))

    def status(self, path: str) -> int:
        """HTTP status of a GET (0 when nothing answered)."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    def wait_for_status(self, path: str, status: int, *, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        got = self.status(path)
        while got != status and time.monotonic() < deadline:
            time.sleep(1)
            got = self.status(path)
        return got

    def sampler(self, interval: float = 0.5) -> RssSampler:
        roots = {"gunicorn": self.pid("gunicorn")}
        if self.celery:
            roots["celery worker"] = self.pid("celery worker")
        return RssSampler(roots, interval)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for role, process in self.processes.items():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print(f"{role} did not stop on SIGTERM: killing it", file=sys.stderr)
                process.kill()
                process.wait()
        for log in self._logs:
            log.close()

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
