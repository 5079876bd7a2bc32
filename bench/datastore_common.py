"""What the two connected-data-store benchmarks share: the shape Fides was measured on (issue 18:
a `users` table and an `events` table referencing it) in a second PostgreSQL database beside
the bench database, one person with N events plus other people's rows, and the system and its
Fides dataset registered in the portal as an officer does."""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import urlsplit

from .core import database_url

PERSON = "subject@store.invalid"
OTHERS = 1_000  # other people, each with events of their own
DATASET = """
dataset:
  - fides_key: app
    name: App database
    collections:
      - name: users
        fields:
          - name: id
            data_categories: [user.unique_id]
            fides_meta: {primary_key: true}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
          - name: name
            data_categories: [user.name]
      - name: events
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: user_id
            data_categories: [user.unique_id]
            fides_meta:
              references: [{dataset: app, field: users.id, direction: from}]
          - name: ip_address
            data_categories: [user.device.ip_address]
          - name: payload
            data_categories: [user.behavior]
          - name: created_at
            data_categories: [system.operations]
"""


def store_url() -> str:
    parts = urlsplit(database_url())
    return parts._replace(path=parts.path + "_store").geturl()


def _connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def store_prepare(size: int) -> None:
    """A fresh second database: the person's `size` events and the others' (`size` in all)."""
    parts = urlsplit(store_url())
    name = parts.path.lstrip("/")
    with _connect(parts._replace(path="/postgres").geturl()) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with _connect(store_url()) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email varchar(254), name text)")
        conn.execute(
            "CREATE TABLE events (id bigserial PRIMARY KEY, "
            "user_id bigint NOT NULL REFERENCES users(id), ip_address varchar(45), "
            "payload text, created_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("CREATE INDEX events_user ON events (user_id)")
        conn.execute("CREATE INDEX users_email ON users (email)")
        conn.execute(
            "INSERT INTO users SELECT n, 'other' || n || '@store.invalid', 'Other ' || n "
            f"FROM generate_series(1, {OTHERS}) n"
        )
        conn.execute(f"INSERT INTO users VALUES (0, '{PERSON}', 'The Subject')")
        conn.execute(
            "INSERT INTO events (user_id, ip_address, payload) SELECT 0, '10.0.' || (k %% 250) || "
            "'.' || (k %% 200), 'clicked button ' || k FROM generate_series(1, %s) k",
            [size],
        )
        conn.execute(
            "INSERT INTO events (user_id, ip_address, payload) SELECT 1 + k %% %s, '10.1.0.1', "
            "'other event ' || k FROM generate_series(1, %s) k",
            [OTHERS, size],
        )
        conn.execute("VACUUM ANALYZE")


def store_drop() -> None:
    parts = urlsplit(store_url())
    with _connect(parts._replace(path="/postgres").geturl()) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def store():
    return _connect(store_url())


@contextmanager
def system_registered():
    """The store as a connected system with its dataset, removed afterwards with its parts."""
    from datastores import services
    from datastores.models import ConnectedSystem, DatasetVersion, SystemPart

    system = ConnectedSystem(name="Bench store", kind=ConnectedSystem.Kind.SQL)
    services.system_url_set(system=system, url=store_url())
    system.save()
    services.dataset_upload(system=system, text=DATASET, actor=None)
    try:
        yield system
    finally:
        SystemPart.objects.filter(system=system).delete()
        DatasetVersion.objects.filter(system=system).delete()
        system.delete()


def broker_warm() -> None:
    """Send one message before measuring, so the broker connection and its queue are set up
    as in a running process: the first message of a fresh process is not the job's cost."""
    from datastores.tasks import system_parts_sweep_task

    system_parts_sweep_task.delay()  # harmless: the sweep beat sends every few minutes


@contextmanager
def store_statements():
    """Count the statements SQLAlchemy sends to any database (the store); yields a getter."""
    import sqlalchemy as sa

    counter = {"n": 0}

    def count(*args):
        counter["n"] += 1

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        yield lambda: counter["n"]
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)


def subject_request(kind: str):
    """A bench person's request in progress (their account's address is the store's)."""
    from accounts.models import User
    from dsar.models import DataSubjectRequest

    user, _ = User.objects.get_or_create(
        username="bench_store_subject", defaults={"email": PERSON, "full_name": "The Subject"}
    )
    return DataSubjectRequest.objects.create(
        kind=kind, user=user, email=PERSON, state="in_progress"
    )


def subject_cleanup() -> None:
    from accounts.models import User
    from dsar.models import DataSubjectRequest

    DataSubjectRequest.objects.filter(email=PERSON).delete()
    User.objects.filter(username="bench_store_subject").delete()
