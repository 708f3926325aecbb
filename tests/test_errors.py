"""Bad input gets JSON naming what was wrong; never a 500, never a traceback."""

from __future__ import annotations

import pytest

from tests.conftest import Api, make_tenant


@pytest.fixture
async def admin(api: Api) -> dict[str, str]:
    await make_tenant(api.db, "acme", admin_email="admin@acme.example")
    return await api.login("acme", "admin@acme.example")


async def test_malformed_json_is_422_json(api: Api, admin: dict[str, str]) -> None:
    response = await api.client.post("/api/v1/queues", headers={**admin,
                                     "Content-Type": "application/json"}, content=b"{oops")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("body", [[], "text", 42, None, {"name": ""}, {"name": "x" * 201}])
async def test_wrong_shapes_are_422_not_500(api: Api, admin: dict[str, str],
                                            body: object) -> None:
    response = await api.client.post("/api/v1/queues", headers=admin, json=body)
    assert response.status_code == 422, response.text


async def test_an_unknown_id_format_is_422_naming_the_path_field(api: Api,
                                                                 admin: dict[str, str]) -> None:
    response = await api.client.get("/api/v1/queues/not-a-uuid", headers=admin)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "queue_id"


async def test_unknown_routes_and_methods_answer_json(api: Api) -> None:
    missing = await api.client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = await api.client.delete("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


async def test_a_duplicate_name_is_409_naming_the_field(api: Api, admin: dict[str, str]) -> None:
    await api.client.post("/api/v1/queues", headers=admin, json={"name": "support"})
    again = await api.client.post("/api/v1/queues", headers=admin, json={"name": "support"})
    assert again.status_code == 409
    assert again.json()["error"] == {"code": "conflict", "field": "name",
                                     "message": "queue 'support' exists already"}


async def test_health_ready_and_metrics(api: Api, admin: dict[str, str]) -> None:
    assert (await api.client.get("/healthz")).json()["status"] == "ok"
    assert (await api.client.get("/readyz")).json() == {"status": "ready"}
    await api.client.get("/api/v1/queues", headers=admin)
    metrics = await api.client.get("/metrics")
    assert 'omnidesk_http_requests_total{handler="list_queues",method="GET",status="200"}' \
        in metrics.text


async def test_openapi_document_is_served(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    assert document["info"]["title"] == "omnidesk"
    assert "/api/v1/channels/api/{channel_id}/messages" in document["paths"]
    assert (await api.client.get("/docs")).status_code == 200
