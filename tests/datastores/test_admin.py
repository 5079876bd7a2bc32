"""Officers in the admin (issue 18.1, 18.2, 18.4): register a database by URL (stored encrypted,
shown masked), test the connection, bring a Fides dataset (refused, naming the missing column,
with nothing saved), edit it into a new version, see each system's part on the request page,
and dry-run a request before anything changes."""

import pytest

from datastores.models import ConnectedSystem, DatasetVersion, SystemPart
from datastores.services import system_url
from dsar.models import AuditEvent, RequestKind

from .shop import ALICE, customers, example_text, rows, shop_create
from .systems import alice, in_progress, sql_system

ADD = "/admin/datastores/connectedsystem/add/"


def _form(url: str, dataset: str, name: str = "Shop") -> dict:
    return {
        "name": name,
        "kind": "sql",
        "active": "on",
        "url": url,
        "dataset_text": dataset,
        "instructions": "",
        "team": "",
        "due_days": "7",
        "datasets-TOTAL_FORMS": "0",
        "datasets-INITIAL_FORMS": "0",
    }


@pytest.mark.django_db
def test_an_officer_connects_a_database_and_brings_its_dataset(officer_client, pg_url):
    shop_create(pg_url)
    secret_url = pg_url.replace("postgres@", "postgres:s3cret-pass@")

    missing = example_text().replace("- name: gift_message", "- name: gift_note")
    page = officer_client.post(ADD, _form(secret_url, missing)).content.decode()
    assert "The column “gift_note” does not exist in the table “order_items”." in page
    assert not ConnectedSystem.objects.exists()  # nothing saved

    response = officer_client.post(ADD, _form(secret_url, example_text()), follow=True)
    shown = response.content.decode()
    assert "Dataset version 1 in force." in shown
    assert "order_items: reads gift_message; erasure: delete the rows" in shown
    assert "orders: reads customer_id, ip_address, shipping_address; erasure: ip_address: hmac" in (
        shown
    )
    system = ConnectedSystem.objects.get()
    assert "s3cret-pass" not in system.url_encrypted  # encrypted at rest
    assert system_url(system) == secret_url
    assert "***" in system.url_masked and "s3cret" not in system.url_masked
    listing = officer_client.get("/admin/datastores/connectedsystem/").content.decode()
    assert system.url_masked.replace("***", "") in listing.replace("***", "")
    assert "s3cret-pass" not in listing
    change = officer_client.get(f"/admin/datastores/connectedsystem/{system.pk}/change/")
    assert "s3cret-pass" not in change.content.decode()  # the URL field is never filled in
    assert system.dataset.version == 1

    edited = example_text().replace('rewrite_value: "[erased]"', 'rewrite_value: "(gone)"')
    form = _form("", edited)  # empty URL: the stored one is kept
    form |= {
        "datasets-TOTAL_FORMS": "1",
        "datasets-INITIAL_FORMS": "1",
        "datasets-0-id": str(system.dataset.pk),
        "datasets-0-system": str(system.pk),
    }
    response = officer_client.post(f"/admin/datastores/connectedsystem/{system.pk}/change/", form)
    assert response.status_code == 302
    assert list(DatasetVersion.objects.filter(system=system).values_list("version", flat=True)) == [
        2,
        1,
    ]  # the history
    assert system_url(ConnectedSystem.objects.get()) == secret_url


@pytest.mark.django_db
def test_the_connection_test_says_whether_the_database_answers(officer_client, pg_url):
    shop_create(pg_url)
    system = sql_system(pg_url)
    action = {"action": "test_connection", "_selected_action": [system.pk]}
    page = officer_client.post("/admin/datastores/connectedsystem/", action, follow=True)
    assert "Shop: Connected." in page.content.decode()
    broken = sql_system(pg_url, name="Broken")
    from datastores.services import system_url_set

    system_url_set(system=broken, url=pg_url.rsplit("/", 1)[0] + "/no_such_database_here")
    broken.save()
    action = {"action": "test_connection", "_selected_action": [broken.pk]}
    page = officer_client.post("/admin/datastores/connectedsystem/", action, follow=True)
    assert "Broken: Could not connect: OperationalError" in page.content.decode()
    assert AuditEvent.objects.filter(action="datastore_connection_tested").count() == 2


@pytest.mark.django_db
def test_a_dry_run_shows_what_would_be_read_and_changed_and_changes_nothing(
    officer_client, sqlite_url
):
    shop_create(sqlite_url)
    sql_system(sqlite_url)
    request = in_progress(alice(), RequestKind.ERASURE)
    before = rows(sqlite_url, customers)
    action = {"action": "dry_run", "_selected_action": [request.pk]}
    page = officer_client.post("/admin/dsar/datasubjectrequest/", action).content.decode()
    assert request.reference in page
    for name, count in (("customers", 1), ("orders", 2), ("order_items", 3)):
        assert f'<th scope="row">{name}</th><td>{count}</td>' in page
    assert "ip_address: hmac" in page and "delete the rows" in page
    assert ALICE not in page  # counts and field names, not the person's data
    assert rows(sqlite_url, customers) == before
    assert not SystemPart.objects.exists()


@pytest.mark.django_db
def test_the_request_page_shows_each_systems_part(officer_client, sqlite_url):
    shop_create(sqlite_url)
    system = sql_system(sqlite_url)
    request = in_progress(alice(), RequestKind.ERASURE)
    SystemPart.objects.create(
        request=request,
        system=system,
        kind="erasure",
        state="failed",
        attempts=2,
        last_error="OperationalError: timeout",
    )
    page = officer_client.get(f"/admin/dsar/datasubjectrequest/{request.pk}/change/")
    text = page.content.decode()
    assert "Connected systems" in text and "OperationalError: timeout" in text
