"""The dataset graph run set-based against real second databases (PostgreSQL, SQLite, MariaDB):
what access reads, what the dry run counts, and every erasure strategy's effect (issue 18.3,
18.4, 18.6)."""

import sqlalchemy as sa

from datastores.engine import (
    access_rows,
    anchors_capture,
    engine_open,
    erase_order,
    erasure_step,
    keyed_hash,
    plan_build,
    plan_counts,
    schema_problems,
)
from datastores.fides import dataset_parse

from .shop import ALICE, customers, example_text, order_items, orders, rows

KEY = b"test-key"


def _plan(url, identities, anchors=None):
    engine = engine_open(url)
    graph = dataset_parse(example_text())
    return engine, plan_build(graph=graph, identities=identities, anchors=anchors)


def _erase(url, identities):
    engine, plan = _plan(url, identities)
    with engine.connect() as conn:
        anchors = anchors_capture(conn, plan)
    engine, plan = _plan(url, identities, anchors)
    counts = {}
    for name in erase_order(plan):
        with engine.begin() as conn:
            counts[name] = erasure_step(conn, plan, name, hmac_key=KEY)
    return counts


def test_the_example_dataset_matches_the_example_database(shop_url):
    assert schema_problems(engine_open(shop_url), dataset_parse(example_text())) == []


def test_access_reads_the_persons_rows_through_the_references_and_only_personal_fields(shop_url):
    engine, plan = _plan(shop_url, {"email": [ALICE]})
    assert plan.order == ["customers", "orders", "order_items"]
    with engine.connect() as conn:
        assert plan_counts(conn, plan) == {"customers": 1, "orders": 2, "order_items": 3}
        people = list(access_rows(conn, plan, "customers"))
        items = list(access_rows(conn, plan, "order_items"))
    assert people == [
        {"id": 1, "email": ALICE, "name": "Alice Liddell", "phone": "+441234567"}
    ]  # created_at is system data: not read
    assert [i["gift_message"] for i in items] == ["Happy unbirthday", None, "For the Hatter"]
    assert all(set(i) == {"id", "gift_message"} for i in items)  # product: not personal


def test_an_unknown_person_reaches_nothing(shop_url):
    engine, plan = _plan(shop_url, {"email": ["nobody@example.com"]})
    with engine.connect() as conn:
        assert plan_counts(conn, plan) == {"customers": 0, "orders": 0, "order_items": 0}


def test_erasure_applies_every_strategy_and_leaves_others_and_keys_alone(shop_url):
    counts = _erase(shop_url, {"email": [ALICE]})
    assert counts == {"order_items": 3, "orders": 2, "customers": 1}
    people = rows(shop_url, customers)
    assert people[1]["email"] is None  # null_rewrite (the identity itself)
    assert people[1]["phone"] is None
    assert people[1]["name"] == "[erased]"  # string_rewrite
    assert people[1]["id"] == 1  # keys are never masked
    assert people[2] == {**people[2], "email": "bob@example.com", "name": "Bob Builder"}
    placed = rows(shop_url, orders)
    assert placed[10]["ip_address"] == keyed_hash("10.0.0.1", KEY)  # hmac
    assert placed[11]["ip_address"] == keyed_hash("10.0.0.2", KEY)
    assert placed[10]["shipping_address"] is None
    assert placed[10]["customer_id"] == 1 and placed[10]["total_cents"] == 1200
    assert placed[20]["ip_address"] == "10.0.0.9"  # Bob's
    assert placed[20]["shipping_address"] == "2 Site Road, Leeds"
    assert sorted(rows(shop_url, order_items)) == [200]  # delete: only Bob's item is left


def test_a_second_erasure_finds_nothing_and_changes_nothing(shop_url):
    _erase(shop_url, {"email": [ALICE]})
    before = [rows(shop_url, t) for t in (customers, orders, order_items)]
    assert _erase(shop_url, {"email": [ALICE]}) == {"order_items": 0, "orders": 0, "customers": 0}
    assert [rows(shop_url, t) for t in (customers, orders, order_items)] == before


def test_the_schema_check_names_a_missing_column_and_a_missing_table(sqlite_url):
    from .shop import shop_create

    shop_create(sqlite_url)
    engine = engine_open(sqlite_url)
    text = example_text().replace("- name: gift_message", "- name: gift_note")
    text = text.replace("- name: order_items", "- name: order_lines")
    problems = schema_problems(engine, dataset_parse(text))
    assert problems == ["The table “order_lines” does not exist in the database."]
    text = example_text().replace("- name: gift_message", "- name: gift_note")
    assert schema_problems(engine, dataset_parse(text)) == [
        "The column “gift_note” does not exist in the table “order_items”."
    ]


def test_the_schema_check_refuses_null_into_a_column_that_takes_none(sqlite_url):
    from .shop import shop_create

    shop_create(sqlite_url)
    text = example_text().replace("strategy: string_rewrite", "strategy: null_rewrite")
    assert schema_problems(engine_open(sqlite_url), dataset_parse(text)) == [
        "“customers.name” takes no NULL: give it another masking strategy (string_rewrite or hmac)."
    ]


def test_one_statement_per_collection_and_step(pg_url):
    """Counted on the database: the erasure sends one statement per collection (plus the
    distinct read of a hashed column and the capture of the anchors), whatever the rows."""
    from .shop import shop_create

    shop_create(pg_url)
    engine = engine_open(pg_url)
    with engine.begin() as conn:  # many more of Alice's orders: the statements stay the same
        conn.execute(
            orders.insert(),
            [
                {"id": 1000 + i, "customer_id": 1, "ip_address": "10.0.0.1", "total_cents": 1}
                for i in range(500)
            ],
        )
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        _erase(pg_url, {"email": [ALICE]})
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    changes = [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "DELETE"))]
    assert len(changes) == 4  # order_items DELETE, orders UPDATE + hashed UPDATE, customers UPDATE
