"""Run a command with PostgreSQL and Redis reachable, starting them for the run if needed.

Usage: python scripts/with_services.py -- COMMAND [ARG...]

PostgreSQL (exported to the command as DATABASE_URL):
  1. DATABASE_URL set: a sqlite URL is left alone; any other URL must answer on its host:port.
  2. Something answers on 127.0.0.1:5432: use postgres://postgres@127.0.0.1:5432/workpex.
  3. A packaged Debian cluster (/etc/postgresql/<ver>/main) exists: start it with
     pg_ctlcluster for the run and stop it afterwards.
  4. initdb is installed: create a throwaway trust-auth cluster in a temporary folder on a
     free port (as the `postgres` OS user when running as root), remove it afterwards.

Redis (exported as CELERY_BROKER_URL): CELERY_BROKER_URL if set (non-redis URLs such as
filesystem:// are left alone), else 127.0.0.1:6379, else a redis-server started for the run.
Started services use database 15 (redis://127.0.0.1:<port>/15).

SIGINT and SIGTERM are forwarded to the command, whose exit status becomes this script's.
Whatever was started is stopped afterwards by PID or pg_ctl, never by process name.
Exit status 2 means a service could not be provided; the message says what to install.

Test hooks: WITH_SERVICES_PG_PORT / WITH_SERVICES_REDIS_PORT choose the local port probed
(default 5432 / 6379), WITH_SERVICES_NO_PACKAGED=1 skips the packaged-cluster step.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

LOCALHOST = "127.0.0.1"
PG_DATABASE = "workpex"
PG_USER = "postgres"
REDIS_DB = 15
START_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0

PG_MISSING = (
    "PostgreSQL is not installed: run `apt-get install postgresql` (Debian/Ubuntu) "
    "or set DATABASE_URL"
)
REDIS_MISSING = (
    "Redis is not installed: run `apt-get install redis-server` or set CELERY_BROKER_URL"
)


class ServiceError(Exception):
    """A service cannot be provided; the message tells the user what to do."""


class Interrupted(Exception):
    """SIGINT/SIGTERM arrived while services were being set up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# --------------------------------------------------------------------------- signals


class Signals:
    """SIGINT/SIGTERM: end the set-up between two steps, go to the command, ignored at clean-up.

    A signal during the set-up is only recorded and acted upon between steps (see check()):
    killing a helper such as `runuser pg_ctl start` half-way would orphan its children.
    """

    def __init__(self) -> None:
        self.pending: int | None = None
        self.child: subprocess.Popen | None = None
        self.cleaning_up = False

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.handle)

    def handle(self, signum: int, _frame: object) -> None:
        if self.cleaning_up:
            return
        if self.child is None:
            self.pending = signum
        else:
            self.forward(signum)

    def check(self) -> None:
        """Raise Interrupted if a signal arrived during the set-up."""
        if self.pending is not None:
            raise Interrupted(self.pending)

    def forward(self, signum: int) -> None:
        if signum == signal.SIGINT and terminal_signalled_our_group():
            return  # Ctrl-C already reached the command: it shares our process group.
        with contextlib.suppress(ProcessLookupError):
            self.child.send_signal(signum)

    def run(self, command: list[str], env: dict[str, str]) -> int:
        """Run the command to completion; its exit status (128 + N if killed by signal N)."""
        try:
            self.child = subprocess.Popen(command, env=env)
        except OSError as exc:
            say(f"with_services: cannot run {command[0]}: {exc.strerror}")
            return 127
        if self.pending is not None:  # arrived between the last check() and Popen
            self.forward(self.pending)
        returncode = self.child.wait()
        return 128 - returncode if returncode < 0 else returncode


SIGNALS = Signals()


def terminal_signalled_our_group() -> bool:
    """True if we are in the terminal's foreground process group (so Ctrl-C hit us all)."""
    try:
        tty = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(tty) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(tty)


# --------------------------------------------------------------------------- small helpers


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True if a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_pongs(port: int) -> bool:
    """True if the Redis server on 127.0.0.1:port answers PING."""
    try:
        with socket.create_connection((LOCALHOST, port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((LOCALHOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float = START_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        SIGNALS.check()
        if check():
            return True
        time.sleep(0.2)
    return False


def probe_port(variable: str, default: int) -> int:
    """The local port to probe; overridable through a test-hook environment variable."""
    value = os.environ.get(variable, str(default))
    try:
        return int(value)
    except ValueError:
        raise ServiceError(f"{variable}={value!r} is not a port number") from None


def url_address(url: str, default_port: int) -> tuple[str, int] | None:
    """host and port of a URL, or None when it names no TCP host (e.g. a unix socket)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.hostname.startswith("%2f"):
        return None
    try:
        return parts.hostname, parts.port or default_port
    except ValueError:
        raise ServiceError(f"cannot read the port in {parts.scheme}:// URL") from None


def check_configured(variable: str, url: str, default_port: int) -> str:
    """Describe a service given by URL; raise ServiceError if its host:port does not answer."""
    address = url_address(url, default_port)
    if address is None:
        return f"using {variable} (not a TCP address, not checked)"
    host, port = address
    if not answers(host, port):
        raise ServiceError(f"{variable} points to {host}:{port}, which does not answer")
    return f"using {variable} ({host}:{port})"


def run_quietly(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run a helper command, capturing its output for error messages."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if not SIGNALS.cleaning_up:
        SIGNALS.check()  # a Ctrl-C may have failed the helper: report the interruption instead
    return result


def output_tail(result: subprocess.CompletedProcess[str], lines: int = 10) -> str:
    text = (result.stdout or "") + (result.stderr or "")
    return "\n".join(text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- PostgreSQL


def postgres_url(port: int) -> str:
    return f"postgres://{PG_USER}@{LOCALHOST}:{port}/{PG_DATABASE}"


def ensure_postgres(stack: contextlib.ExitStack) -> dict[str, str]:
    """Make PostgreSQL reachable; return the environment the command needs for it."""
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("sqlite"):
            say("PostgreSQL: not needed (DATABASE_URL is sqlite)")
        else:
            say(f"PostgreSQL: {check_configured('DATABASE_URL', url, 5432)}")
        return {}

    port = probe_port("WITH_SERVICES_PG_PORT", 5432)
    if answers(LOCALHOST, port):
        say(f"PostgreSQL: using {LOCALHOST}:{port} (already running)")
        return {"DATABASE_URL": postgres_url(port)}

    if os.environ.get("WITH_SERVICES_NO_PACKAGED") != "1" and start_packaged(stack, port):
        return {"DATABASE_URL": postgres_url(port)}

    initdb = find_initdb()
    if initdb is None:
        raise ServiceError(PG_MISSING)
    pg_port = start_throwaway_cluster(stack, initdb)
    return {"DATABASE_URL": postgres_url(pg_port)}


def packaged_cluster_version() -> str | None:
    """The newest Debian cluster version having a `main` cluster, if pg_ctlcluster exists."""
    if shutil.which("pg_ctlcluster") is None:
        return None
    versions = [path.parent.name for path in Path("/etc/postgresql").glob("*/main")]
    return max(versions, key=version_key, default=None)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def pg_ctlcluster(version: str, action: str) -> subprocess.CompletedProcess[str]:
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    return run_quietly(command)


def start_packaged(stack: contextlib.ExitStack, port: int) -> bool:
    """Start the packaged cluster for the run; False if there is none or it is unusable."""
    version = packaged_cluster_version()
    if version is None:
        return False
    status = pg_ctlcluster(version, "status").returncode
    if status != 3:  # 3 = "not running"; never touch a cluster we did not start.
        state = "runs, but not on this port" if status == 0 else "has an unknown state"
        say(f"PostgreSQL: cluster {version}/main {state}; not using it")
        return False

    stack.callback(pg_ctlcluster, version, "stop")
    result = pg_ctlcluster(version, "start")
    if result.returncode != 0:
        say(f"PostgreSQL: could not start cluster {version}/main:\n{output_tail(result)}")
        return False
    if not wait_until(lambda: answers(LOCALHOST, port)):
        say(f"PostgreSQL: cluster {version}/main does not answer on port {port}; stopping it")
        pg_ctlcluster(version, "stop")
        return False
    say(f"PostgreSQL: started packaged cluster {version}/main on {LOCALHOST}:{port}")
    return True


def find_initdb() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve()
    candidates = Path("/usr/lib/postgresql").glob("*/bin/initdb")
    return max(candidates, key=lambda path: version_key(path.parents[1].name), default=None)


def as_postgres_user() -> list[str]:
    """Command prefix running a program as the `postgres` OS user when we are root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise ServiceError("running as root, but `runuser` (util-linux) is not installed")
    return ["runuser", "-u", PG_USER, "--"]


def make_cluster_folder() -> Path:
    """A temporary folder owned by whoever will run the server."""
    folder = Path(tempfile.mkdtemp(prefix="with-services-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(PG_USER)
        except KeyError:
            shutil.rmtree(folder)
            raise ServiceError(
                f"running as root, but there is no `{PG_USER}` OS user to run PostgreSQL as"
            ) from None
        os.chown(folder, account.pw_uid, account.pw_gid)
    return folder


def start_throwaway_cluster(stack: contextlib.ExitStack, initdb: Path) -> int:
    """initdb + pg_ctl start a disposable cluster; return its port."""
    bin_dir = initdb.parent
    folder = make_cluster_folder()
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    data = folder / "data"
    prefix = as_postgres_user()

    init = [str(initdb), "--auth=trust", "-U", PG_USER, "-D", str(data)]
    init += ["--encoding=UTF8", "--locale=C", "--no-sync"]
    result = run_quietly(prefix + init, cwd=folder)
    if result.returncode != 0:
        raise ServiceError(f"initdb failed:\n{output_tail(result)}")

    port = free_port()
    configure_cluster(data, folder, port)
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    stack.callback(stop_throwaway_cluster, pg_ctl, data, folder)
    start = [*pg_ctl, "start", "-w", "-t", str(int(START_TIMEOUT))]
    result = run_quietly([*start, "-l", str(folder / "postgres.log")], cwd=folder)
    if result.returncode != 0 or not wait_until(lambda: answers(LOCALHOST, port)):
        raise ServiceError(f"the throwaway cluster did not start:\n{log_tail(folder)}")

    create = [str(bin_dir / "createdb"), "-h", LOCALHOST, "-p", str(port), "-U", PG_USER]
    result = run_quietly([*create, PG_DATABASE])
    if result.returncode != 0:
        raise ServiceError(f"createdb {PG_DATABASE} failed:\n{output_tail(result)}")
    say(f"PostgreSQL: started a throwaway cluster on port {port} (in {folder})")
    return port


def configure_cluster(data: Path, folder: Path, port: int) -> None:
    """Listen on 127.0.0.1:port only, socket in our folder; durability is not needed."""
    settings = {
        "port": str(port),
        "listen_addresses": f"'{LOCALHOST}'",
        "unix_socket_directories": f"'{folder}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    lines = "".join(f"{name} = {value}\n" for name, value in settings.items())
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# with_services.py\n" + lines)


def log_tail(folder: Path, lines: int = 10) -> str:
    try:
        text = (folder / "postgres.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.strip().splitlines()[-lines:])


def stop_throwaway_cluster(pg_ctl: list[str], data: Path, folder: Path) -> None:
    if not (data / "postmaster.pid").exists():
        return
    result = run_quietly([*pg_ctl, "stop", "-m", "fast", "-t", str(int(STOP_TIMEOUT))], cwd=folder)
    if result.returncode != 0:
        say(f"PostgreSQL: could not stop the throwaway cluster:\n{output_tail(result)}")


# --------------------------------------------------------------------------- Redis


def ensure_redis(stack: contextlib.ExitStack) -> dict[str, str]:
    """Make Redis reachable; return the environment the command needs for it."""
    url = os.environ.get("CELERY_BROKER_URL")
    if url:
        if urlsplit(url).scheme in ("redis", "rediss"):
            say(f"Redis: {check_configured('CELERY_BROKER_URL', url, 6379)}")
        else:
            say(f"Redis: not needed (CELERY_BROKER_URL is {urlsplit(url).scheme}://)")
        return {}

    port = probe_port("WITH_SERVICES_REDIS_PORT", 6379)
    if answers(LOCALHOST, port):
        say(f"Redis: using {LOCALHOST}:{port} (already running)")
    else:
        port = start_redis(stack, port if port_is_free(port) else free_port())
    return {"CELERY_BROKER_URL": f"redis://{LOCALHOST}:{port}/{REDIS_DB}"}


def start_redis(stack: contextlib.ExitStack, port: int) -> int:
    """Start a redis-server without persistence on port for the run; return the port."""
    server = shutil.which("redis-server")
    if server is None:
        raise ServiceError(REDIS_MISSING)
    folder = Path(tempfile.mkdtemp(prefix="with-services-redis-"))
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    command = [server, "--bind", LOCALHOST, "--port", str(port), "--save", ""]
    command += ["--appendonly", "no", "--daemonize", "no", "--dir", str(folder)]

    log_path = folder / "redis.log"
    with log_path.open("wb") as log:
        # Own session: a Ctrl-C in the terminal must not kill it before we stop it ourselves.
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    stack.callback(stop_process, process)

    wait_until(lambda: process.poll() is not None or redis_pongs(port))
    if process.poll() is not None or not redis_pongs(port):
        log = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        raise ServiceError("redis-server did not start:\n" + "\n".join(log[-10:]))
    say(f"Redis: started redis-server on port {port} (pid {process.pid})")
    return port


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if command[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if not command:
        say(__doc__)
        return 2

    SIGNALS.install()
    stack = contextlib.ExitStack()
    try:
        env = dict(os.environ)
        env.update(ensure_postgres(stack))
        env.update(ensure_redis(stack))
        SIGNALS.check()
        return SIGNALS.run(command, env)
    except ServiceError as exc:
        say(f"with_services: {exc}")
        return 2
    except Interrupted as exc:
        return 128 + exc.signum
    finally:
        SIGNALS.cleaning_up = True
        stack.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
