from tests.conftest import sde_db


@sde_db
def test_search_api_finds_tritanium_first(client):
    response = client.get("/api/v1/items/search", {"q": "trit"})
    assert response.status_code == 200
    assert response.json()["results"][0]["type_id"] == 34
