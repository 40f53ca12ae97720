"""``emmettbase serve`` as users run it: a real process on Granian, answering on loopback."""

from __future__ import annotations

import httpx
import pytest

from tests.support.server import ServeProcess

pytestmark = pytest.mark.e2e


def test_serve_answers_health_and_prints_its_urls(tmp_path):
    with ServeProcess(tmp_path / "pb_data") as server:
        response = httpx.get(server.url + "/api/health")
        assert response.status_code == 200
        assert response.json() == {"message": "API is healthy.", "code": 200, "data": {}}
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        missing = httpx.get(server.url + "/api/nope")
        assert missing.status_code == 404
        assert missing.json()["status"] == 404
    output = server.output()
    assert f"{server.url}/api/" in output
    assert str(tmp_path / "pb_data") in output
    # AUTH-10: no superuser with a default password, a hint to create one instead
    assert "No superuser yet: create one with `" in output and " superuser create EMAIL PASSWORD" in output
    login = {"identity": "admin@example.com", "password": "admin"}
    with ServeProcess(tmp_path / "pb_data") as again:
        refused = httpx.post(again.url + "/api/collections/_superusers/auth-with-password", json=login)
        assert refused.status_code == 400


def test_health_answers_the_same_on_its_fast_path_and_through_the_api(tmp_path):
    """Anonymous GET /api/health skips the framework; HEAD, CORS and authorized requests do not.
    Both ways must answer the same bytes and headers."""
    with ServeProcess(tmp_path / "pb_data") as server:
        fast = httpx.get(server.url + "/api/health")
        routed = httpx.get(server.url + "/api/health", headers={"Authorization": "x"})
        with_origin = httpx.get(server.url + "/api/health", headers={"Origin": "https://app.example"})
    assert fast.content == routed.content == b'{"message":"API is healthy.","code":200,"data":{}}'
    skip = {"date"}
    assert {k: v for k, v in fast.headers.items() if k not in skip} == {
        k: v for k, v in routed.headers.items() if k not in skip
    }
    assert with_origin.headers["access-control-allow-origin"] == "*"


def test_serve_with_two_workers(tmp_path):
    with ServeProcess(tmp_path / "pb_data", args=["--workers", "2"]) as server:
        for _ in range(20):
            assert httpx.get(server.url + "/api/health").status_code == 200
