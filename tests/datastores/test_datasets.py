"""Fides datasets: validated with fideslang's models, refused with a message naming the place
(issue 18.2), and the example file in the repository is the one the tests use."""

import pytest

from datastores.fides import HMAC, NULL_REWRITE, STRING_REWRITE, DatasetError, dataset_parse

from .shop import example_text


def test_the_example_dataset_is_a_graph_of_three_collections():
    graph = dataset_parse(example_text())
    assert sorted(graph.collections) == ["customers", "order_items", "orders"]
    assert graph.collections["customers"].identities == {"email": "email"}
    assert [(e.parent, e.child) for e in graph.edges] == [
        ("orders", "order_items"),
        ("customers", "orders"),
    ]
    strategies = {
        (c.name, s.name): s.strategy for c in graph.collections.values() for s in c.masked
    }
    assert strategies == {
        ("customers", "email"): NULL_REWRITE,
        ("customers", "name"): STRING_REWRITE,
        ("customers", "phone"): NULL_REWRITE,
        ("orders", "ip_address"): HMAC,
        ("orders", "shipping_address"): NULL_REWRITE,
        ("order_items", "gift_message"): NULL_REWRITE,
    }  # customers.id and orders.customer_id are keys: never masked
    assert graph.collections["order_items"].delete_rows


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("fides_key: shop", "fides_key: shop\n    nonsense: [1"), "not valid YAML"),
        (("fides_key: shop", "name_only: shop"), "Not a valid Fides dataset: fides_key"),
        (
            (
                "- dataset: shop\n                  field: customers.id",
                "- dataset: crm\n                  field: customers.id",
            ),
            "refers to another dataset",
        ),
        (("field: customers.id", "field: clients.id"), "“clients.id”, which the dataset"),
        (("strategy: hmac", "strategy: scramble"), "unknown masking strategy “scramble”"),
        (
            ('                configuration:\n                  rewrite_value: "[erased]"\n', ""),
            "string_rewrite needs configuration.rewrite_value",
        ),
    ],
)
def test_a_dataset_the_engine_cannot_run_is_refused_with_the_reason(change, message):
    old, new = change
    text = example_text()
    assert old in text
    with pytest.raises(DatasetError, match=message):
        dataset_parse(text.replace(old, new, 1))


def test_a_key_with_a_masking_strategy_is_refused():
    text = example_text().replace(
        "            fides_meta:\n              primary_key: true\n          - name: email",
        "            fides_meta:\n              primary_key: true\n"
        "              masking_strategy_override:\n                strategy: hmac\n"
        "          - name: email",
        1,
    )
    with pytest.raises(DatasetError, match="customers.id is a key"):
        dataset_parse(text)


def test_erase_after_must_name_a_collection_of_the_dataset():
    text = example_text().replace(
        "      - name: order_items\n        fides_meta:\n",
        "      - name: order_items\n        fides_meta:\n          erase_after: [shop.invoices]\n",
    )
    with pytest.raises(DatasetError, match="erase_after names “invoices”"):
        dataset_parse(text)
