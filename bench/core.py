"""What every benchmark shares: the measurement, the raw-SQL connection, and the bench data.

A benchmark module defines `NAME`, `TITLE`, `TARGET` (the ratio to the baseline it must stay
under), `SIZES` (named sizes: small, large, smoke) and `run(size) -> list[Measurement]`, which
prepares its data, measures the Django path and the raw-SQL baseline on the same data, and
cleans up after itself.

Bench rows are recognisable: users are `bench_NNNNNNN` with `@bench.invalid` addresses, so they
never mix with what `seed_demo` made, and `users_ensure` adds them with one INSERT … SELECT.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

BENCH_DOMAIN = "bench.invalid"
# One bench database per checkout (like the test database), so two clones or worktrees can
# measure at the same time without dropping each other's data.
_CHECKOUT = hashlib.sha256(os.path.dirname(os.path.dirname(os.path.abspath(__file__))).encode())
DEFAULT_DATABASE_URL = (
    f"postgres://postgres@127.0.0.1:5432/workpex_bench_{_CHECKOUT.hexdigest()[:8]}"
)


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)


@dataclass
class Measurement:
    """One timed run of one path at one size."""

    benchmark: str
    path: str  # "django" or "baseline"
    size: str
    rows: int
    seconds: float = 0.0
    queries: int = 0
    peak_rss_mb: float = 0.0
    rss_growth_mb: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _rss_bytes() -> int:
    """Resident set size now (Linux: /proc/self/statm), in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _RssSampler(threading.Thread):
    """Samples RSS every few milliseconds: ru_maxrss is the peak of the whole process and
    cannot be reset, so each measurement keeps its own peak."""

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.start_rss = _rss_bytes()
        self.peak = self.start_rss
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, _rss_bytes())
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, _rss_bytes())


@contextmanager
def measure(m: Measurement, *, queries: Callable[[], int] | None = None) -> Iterator[Measurement]:
    """Time the block, sample its RSS; `queries` (called after the block) gives its query count.

    For the Django path use `django_queries()`, for the baseline `RawDB.statements`.
    """
    import gc

    gc.collect()
    profiler = _profiler(m)
    sampler = _RssSampler()
    sampler.start()
    started = time.perf_counter()
    try:
        yield m
    finally:
        m.seconds = time.perf_counter() - started
        if profiler is not None:
            _profile_write(profiler, m)
        sampler.stop()
        m.peak_rss_mb = sampler.peak / 2**20
        m.rss_growth_mb = (sampler.peak - sampler.start_rss) / 2**20
        if queries is not None:
            m.queries = queries()


def _profiler(m: Measurement):
    """With BENCH_PROFILE=DIR, a pyinstrument profile of each Django measurement is written to
    DIR/<benchmark>-<size>.txt (and .html). It slows the path down: not for the figures."""
    if not os.environ.get("BENCH_PROFILE") or m.path != "django":
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    return profiler


def _profile_write(profiler, m: Measurement) -> None:
    from pathlib import Path

    profiler.stop()
    out = Path(os.environ["BENCH_PROFILE"])
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{m.benchmark}-{m.size}"
    stem.with_suffix(".txt").write_text(profiler.output_text(show_all=False))
    stem.with_suffix(".html").write_text(profiler.output_html())


@contextmanager
def django_queries() -> Iterator[Callable[[], int]]:
    """Count the Django connection's queries (CaptureQueriesContext); yields a getter.

    The captured log is a bounded deque, so the count is read from the wrapper's own counter,
    not from the length of the log.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counter = {"n": 0}

    def count(execute, sql, params, many, context):
        counter["n"] += 1
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection), connection.execute_wrapper(count):
        yield lambda: counter["n"]


class RawDB:
    """A plain psycopg 3 connection for the baselines, counting every statement it sends."""

    def __init__(self) -> None:
        import psycopg
        from django.conf import settings

        # The same session settings as the portal's connections (e.g. `-c jit=off`).
        options = settings.DATABASES["default"].get("OPTIONS", {}).get("options", "")
        self.conn = psycopg.connect(database_url(), autocommit=True, options=options)
        self.statements = 0

    def execute(self, sql: str, params=None) -> int:
        self.statements += 1
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def execute_past_triggers(self, sql: str, params=None) -> int:
        """Clean-up of the bench's own rows in a table the database keeps append-only (the
        audit log's trigger refuses DELETE): one statement with triggers off (PostgreSQL's
        replica role; the bench connects as a superuser). Never measured."""
        self.execute("SET session_replication_role = replica")
        try:
            return self.execute(sql, params)
        finally:
            self.execute("SET session_replication_role = DEFAULT")

    def fetchall(self, sql: str, params=None) -> list[tuple]:
        self.statements += 1
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def copy_out(self, sql: str, out) -> int:
        """COPY (…) TO STDOUT into a binary file; returns bytes written."""
        self.statements += 1
        written = 0
        with self.conn.cursor() as cursor, cursor.copy(sql) as copy:
            for block in copy:
                out.write(block)
                written += len(block)
        return written

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.statements += 2  # BEGIN and COMMIT
        with self.conn.transaction():
            yield

    def reset(self) -> None:
        self.statements = 0

    def close(self) -> None:
        self.conn.close()


def raw() -> RawDB:
    return RawDB()


# --- Bench data -----------------------------------------------------------------------------------


def user_ids(db: RawDB, count: int) -> tuple[int, int]:
    """(lowest, highest) id of bench users 1..count (users_ensure made them)."""
    lo, hi = db.fetchall(
        "SELECT min(id), max(id) FROM accounts_user WHERE username BETWEEN %s AND %s",
        ["bench_0000001", f"bench_{count:07d}"],
    )[0]
    return lo, hi


def subscribers_ensure(db: RawDB, count: int) -> tuple[int, list[int]]:
    """Bench users 1..count, each with the newsletter granted a day ago and nothing else of it:
    the newsletter's id, and the users' ids in order (they have gaps: ON CONFLICT DO NOTHING
    uses up ids). `subscribers_forget` takes their rows of it away again."""
    users_ensure(db, count)
    lo, hi = user_ids(db, count)
    newsletter = purpose_id(db, "newsletter")
    subscribers_forget(db, newsletter, lo, hi)
    db.execute(
        "INSERT INTO consent_consentevent (email, action, method, at, ip_hash, reason, "
        "user_id, policy_version_id, purpose_id) "
        "SELECT '', 'granted', 'signup', now() - interval '1 day', 'x', '', u.id, "
        "(SELECT id FROM consent_policyversion WHERE published_at IS NOT NULL "
        "AND effective_at <= now() ORDER BY effective_at DESC, id DESC LIMIT 1), %s "
        "FROM accounts_user u WHERE u.id BETWEEN %s AND %s",
        [newsletter, lo, hi],
    )
    ids = db.fetchall(
        "SELECT id FROM accounts_user WHERE id BETWEEN %s AND %s "
        "AND username LIKE 'bench\\_%%' ORDER BY id",
        [lo, hi],
    )
    return newsletter, [row[0] for row in ids]


def subscribers_forget(db: RawDB, newsletter: int, lo: int, hi: int) -> None:
    """Every newsletter row of the users lo..hi."""
    db.execute(
        "DELETE FROM consent_consentevent WHERE purpose_id = %s AND user_id BETWEEN %s AND %s",
        [newsletter, lo, hi],
    )


def users_ensure(db: RawDB, count: int, *, minors_every: int = 0) -> None:
    """Bench users 1..count (missing ones added in one INSERT … SELECT), each with a verified
    primary address. Every `minors_every`-th new user is 12 years old (for the under-16 sweep);
    everyone else is an adult."""
    minor = f"(n %% {minors_every} = 0)" if minors_every else "false"
    added = db.execute(
        "INSERT INTO accounts_user (password, is_superuser, username, is_staff, is_active, "
        "date_joined, full_name, email, phone, company_name, country, date_of_birth, photo, "
        "time_zone, language, security_question, security_answer_hash, region) "
        "SELECT '!', false, 'bench_' || lpad(n::text, 7, '0'), false, true, now(), "
        "'Bench Person ' || n, 'bench_' || lpad(n::text, 7, '0') || '@" + BENCH_DOMAIN + "', "
        "'', 'Bench Ltd', 'IE', "
        f"CASE WHEN {minor} THEN current_date - interval '12 years' "
        "ELSE date '1980-01-01' + (n %% 9000) END, '', '', 'en', '', '', '' "
        "FROM generate_series(1, %s) AS n ON CONFLICT (username) DO NOTHING",
        [count],
    )
    db.execute(
        'INSERT INTO account_emailaddress (email, verified, "primary", user_id) '
        "SELECT u.email, true, true, u.id FROM accounts_user u "
        "WHERE u.username LIKE 'bench\\_%%' AND NOT EXISTS "
        "(SELECT 1 FROM account_emailaddress e WHERE e.user_id = u.id)"
    )
    if added:
        # Whoever reads fresh rows first pays for setting their hint bits (1M users: the first
        # run's Django path measured 2.8x, the next runs 1.1-1.6x): vacuum them for both paths.
        db.execute("VACUUM ANALYZE accounts_user")
        db.execute("VACUUM ANALYZE account_emailaddress")


def purpose_id(db: RawDB, code: str) -> int:
    return db.fetchall("SELECT id FROM consent_purpose WHERE code = %s", [code])[0][0]


def policy_id(db: RawDB) -> int:
    return db.fetchall(
        "SELECT id FROM consent_policyversion WHERE published_at IS NOT NULL "
        "AND effective_at <= now() ORDER BY effective_at DESC, id DESC LIMIT 1"
    )[0][0]


def consent_events_add(
    db: RawDB, *, lo: int, hi: int, purpose: int, per_user: int = 1, users: str = ""
) -> int:
    """Ledger rows for users with ids lo..hi (and matching `users`, a condition on
    accounts_user u): `per_user` rows each, alternating granted/withdrawn over time, so that
    the latest decides (about 2 in 3 users end granted)."""
    return db.execute(
        "INSERT INTO consent_consentevent (email, action, method, at, ip_hash, reason, user_id, "
        "policy_version_id, purpose_id) "
        "SELECT '', CASE WHEN (u.id + k) %% 3 = 0 THEN 'withdrawn' ELSE 'granted' END, "
        "'signup', now() - interval '1 day' * (k + 1), 'x', '', u.id, %s, %s "
        "FROM accounts_user u, generate_series(1, %s) AS k WHERE u.id BETWEEN %s AND %s "
        f"AND ({users or 'TRUE'})",
        [policy_id(db), purpose, per_user, lo, hi],
    )


def subject_rows_add(db: RawDB, *, user_id: int, email: str, rows: int) -> dict[str, int]:
    """A heavy subject: `rows` rows across the consent ledger (40 %), form submissions (40 %) and
    the audit log (20 %, with a free-text reason that erasure blanks)."""
    events, forms = rows * 2 // 5, rows * 2 // 5
    audit = rows - events - forms
    newsletter = purpose_id(db, "newsletter")
    db.execute(
        "INSERT INTO consent_consentevent (email, action, method, at, ip_hash, reason, user_id, "
        "policy_version_id, purpose_id) "
        "SELECT '', CASE WHEN k %% 2 = 0 THEN 'withdrawn' ELSE 'granted' END, 'preference_centre', "
        "now() - interval '1 minute' * k, 'x', '', %s, %s, %s FROM generate_series(1, %s) AS k",
        [user_id, policy_id(db), newsletter, events],
    )
    db.execute(
        "INSERT INTO consent_formsubmission (kind, email, name, company_name, message, details, "
        "purpose, source, created_at, retain_until, user_id, from_child) "
        "SELECT 'survey_response', %s, 'Heavy Subject', 'Bench Ltd', "
        "'Survey answer number ' || k || ': the product is fine, thanks.', "
        "jsonb_build_object('q1', k, 'q2', 'yes'), 'To improve the product.', '/forms/survey/', "
        "now() - interval '1 minute' * k, now() + interval '365 days', %s, false "
        "FROM generate_series(1, %s) AS k",
        [email, user_id, forms],
    )
    db.execute(
        "INSERT INTO dsar_auditevent (at, actor_kind, action, subject_ref, object_type, "
        "object_id, reason, detail) "
        "SELECT now() - interval '1 minute' * k, 'staff', 'profile_viewed', %s, 'accounts.user', "
        "%s, 'Ticket SUP-' || k || ': customer asked about their invoice', '{}'::jsonb "
        "FROM generate_series(1, %s) AS k",
        [f"user:{user_id}", str(user_id), audit],
    )
    return {
        "consent.ConsentEvent": events,
        "consent.FormSubmission": forms,
        "dsar.AuditEvent": audit,
    }


def bench_users_delete(db: RawDB, *, where: str = "TRUE", params=None) -> None:
    """Remove bench users matching `where` (over accounts_user u) and every row pointing at
    them, set-based. Setup and clean-up only: never measured."""
    db.execute("DROP TABLE IF EXISTS bench_gone")
    db.execute(
        "CREATE TEMP TABLE bench_gone AS SELECT id, lower(email) AS email FROM accounts_user u "
        f"WHERE u.username LIKE 'bench\\_%%' AND ({where})",
        params,
    )
    for table, column in user_foreign_keys(db):
        db.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM bench_gone)")
    db.execute("DELETE FROM consent_formsubmission WHERE email IN (SELECT email FROM bench_gone)")
    db.execute_past_triggers(
        "DELETE FROM dsar_auditevent WHERE subject_ref IN (SELECT 'user:' || id FROM bench_gone)"
    )
    db.execute("DELETE FROM accounts_user WHERE id IN (SELECT id FROM bench_gone)")
    db.execute("DROP TABLE bench_gone")


_FK_CACHE: list[tuple[str, str]] | None = None


def user_foreign_keys(db: RawDB) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to accounts_user, from the catalogue; tables that
    others point at (a workspace's records) come after those others are emptied by the caller."""
    global _FK_CACHE
    if _FK_CACHE is None:
        rows = db.fetchall(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.contype = 'f' AND c.confrelid = 'accounts_user'::regclass "
            "ORDER BY 1, 2"
        )
        # Rows of tables that point at workspaces must go before the workspaces.
        _FK_CACHE = sorted(rows, key=lambda r: (r[0] == "accounts_workspace", r))
    return _FK_CACHE


def analyze(db: RawDB) -> None:
    db.execute("ANALYZE")


def user_ensure_one(db: RawDB, number: int) -> tuple[int, str]:
    """Bench user `number` alone (users_ensure makes 1..n), with a verified address;
    returns (id, email)."""
    username = f"bench_{number:07d}"
    db.execute(
        "INSERT INTO accounts_user (password, is_superuser, username, is_staff, is_active, "
        "date_joined, full_name, email, phone, company_name, country, date_of_birth, photo, "
        "time_zone, language, security_question, security_answer_hash, region) "
        "VALUES ('!', false, %(u)s, false, true, now(), 'Heavy Subject', %(e)s, '', 'Bench Ltd', "
        "'IE', '1980-01-01', '', '', 'en', '', '', '') ON CONFLICT (username) DO NOTHING",
        {"u": username, "e": f"{username}@{BENCH_DOMAIN}"},
    )
    db.execute(
        'INSERT INTO account_emailaddress (email, verified, "primary", user_id) '
        "SELECT email, true, true, id FROM accounts_user u WHERE username = %s AND NOT EXISTS "
        "(SELECT 1 FROM account_emailaddress e WHERE e.user_id = u.id)",
        [username],
    )
    user_id, email = db.fetchall(
        "SELECT id, lower(email) FROM accounts_user WHERE username = %s", [username]
    )[0]
    return user_id, email
