"""The example shop database (datastores/examples/shop.yml) in a real second database: the
tables, and two customers' rows (Alice, whose data is asked for, and Bob, left alone)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from datastores.engine import engine_open

EXAMPLE = Path(__file__).resolve().parents[2] / "datastores" / "examples" / "shop.yml"
ALICE = "alice@example.com"
BOB = "bob@example.com"


def example_text() -> str:
    return EXAMPLE.read_text()


metadata = sa.MetaData()
customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(40), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=True),
)
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("shipping_address", sa.Text, nullable=True),
    sa.Column("ip_address", sa.String(64), nullable=True),
    sa.Column("total_cents", sa.Integer, nullable=False),
)
order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("gift_message", sa.Text, nullable=True),
    sa.Column("product", sa.String(100), nullable=False),
)


def shop_create(url: str) -> None:
    engine = engine_open(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            customers.insert(),
            [
                {"id": 1, "email": ALICE, "name": "Alice Liddell", "phone": "+441234567"},
                {"id": 2, "email": BOB, "name": "Bob Builder", "phone": "+449876543"},
            ],
        )
        conn.execute(
            orders.insert(),
            [
                {
                    "id": 10,
                    "customer_id": 1,
                    "shipping_address": "1 Rabbit Hole, Oxford",
                    "ip_address": "10.0.0.1",
                    "total_cents": 1200,
                },
                {
                    "id": 11,
                    "customer_id": 1,
                    "shipping_address": "1 Rabbit Hole, Oxford",
                    "ip_address": "10.0.0.2",
                    "total_cents": 800,
                },
                {
                    "id": 20,
                    "customer_id": 2,
                    "shipping_address": "2 Site Road, Leeds",
                    "ip_address": "10.0.0.9",
                    "total_cents": 500,
                },
            ],
        )
        conn.execute(
            order_items.insert(),
            [
                {"id": 100, "order_id": 10, "gift_message": "Happy unbirthday", "product": "tea"},
                {"id": 101, "order_id": 10, "gift_message": None, "product": "cake"},
                {"id": 102, "order_id": 11, "gift_message": "For the Hatter", "product": "hat"},
                {"id": 200, "order_id": 20, "gift_message": "From Bob", "product": "brick"},
            ],
        )


def rows(url: str, table: sa.Table) -> dict:
    """Every row of a table by primary key, as dicts."""
    with engine_open(url).connect() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(sa.select(table))}
