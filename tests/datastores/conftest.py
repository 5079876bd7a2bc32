"""Real second databases for the connected-data-store tests: a PostgreSQL database besides the
portal's own (created on 127.0.0.1:5432, dropped after), a SQLite file, and MariaDB where it
answers on 127.0.0.1:3306 (skipped otherwise, with how to install it)."""

import os
import uuid

import pytest
import sqlalchemy as sa

from datastores.engine import engine_open

from .shop import shop_create

PG_SERVER = os.environ.get("DATASTORES_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MARIADB_SERVER = os.environ.get("DATASTORES_TEST_MARIADB", "mariadb://root@127.0.0.1:3306/")
MARIADB_HOWTO = (
    "MariaDB does not answer on 127.0.0.1:3306 (root, no password): install it "
    "(apt-get install mariadb-server; service mariadb start) or point "
    "DATASTORES_TEST_MARIADB at a server to run these tests."
)


def _server(url: str):
    return sa.create_engine(
        str(engine_open(url).url.render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )


@pytest.fixture
def pg_url():
    name = f"stores_{uuid.uuid4().hex[:12]}"
    server = _server(PG_SERVER)
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = engine_open(PG_SERVER).url.set(database=name).render_as_string(hide_password=False)
    yield url
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'shop.sqlite3'}"


@pytest.fixture
def mariadb_url():
    name = f"stores_{uuid.uuid4().hex[:12]}"
    try:
        server = _server(MARIADB_SERVER)
        with server.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    except sa.exc.OperationalError:
        pytest.skip(MARIADB_HOWTO)
    url = engine_open(MARIADB_SERVER).url.set(database=name).render_as_string(hide_password=False)
    yield url
    with server.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))


@pytest.fixture(params=["postgresql", "sqlite", "mariadb"])
def shop_url(request):
    """The example shop in each kind of second database."""
    url = request.getfixturevalue(
        {"postgresql": "pg_url", "sqlite": "sqlite_url", "mariadb": "mariadb_url"}[request.param]
    )
    shop_create(url)
    return url
