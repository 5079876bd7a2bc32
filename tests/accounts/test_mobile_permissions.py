import pytest

from accounts.mobile import REQUIRED, mobile_permissions
from dsar import registry


def test_the_table_names_every_permission_consistently_with_the_registry():
    category, note, permissions = mobile_permissions()
    assert category == registry.SERVICE_DATA_CATEGORY
    assert category in registry.categories()
    assert [p.code for p in permissions] == list(REQUIRED)
    by_code = {p.code: p for p in permissions}
    assert by_code["location"].recipients == ("Our mapping provider only",)
    assert "mapping" in by_code["location"].used_for
    for permission in permissions:
        assert permission.used_for and permission.recipients
        assert permission.source in registry.Source.values
        if permission.code != "location":
            assert not any("mapping" in r for r in permission.recipients)


@pytest.mark.django_db
def test_the_dashboard_shows_the_table(user_client):
    page = user_client.get("/privacy/").content.decode()
    assert "Mobile app permissions" in page
    for name in ("Camera", "Microphone", "Call history", "Contacts", "Photos", "Files", "Location"):
        assert f"<td>{name}</td>" in page
    assert "Our mapping provider only" in page
