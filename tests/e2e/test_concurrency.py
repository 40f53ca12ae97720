"""CON-1 and CON-2 against ``emmettbase serve`` with several worker processes, on both databases.

Real concurrency needs several processes (each worker runs its statements one at a time), so the
requests go over HTTP from threads to a server started with ``--workers 4``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.server import serve_as_superuser

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EMAIL, PASSWORD = "root@example.com", "root-password-1"


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="pg", marks=pytest.mark.pg)]
)
def server(request, tmp_path):
    with serve_as_superuser(request, tmp_path, EMAIL, PASSWORD, workers=4) as served:
        yield served


def test_concurrent_increments_are_never_lost(server):
    """CON-1: 50 concurrent ``views+`` PATCHes on one record."""
    url, su = server
    collection = {"name": "counters", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
                  "fields": [{"name": "views", "type": "number"}]}  # fmt: skip
    assert httpx.post(url + "/api/collections", headers=su, json=collection).status_code == 200
    record = httpx.post(url + "/api/collections/counters/records", json={"views": 5}).json()

    def bump(_: int) -> int:
        with httpx.Client(timeout=30) as client:
            return client.patch(
                f"{url}/api/collections/counters/records/{record['id']}", json={"views+": 1}
            ).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(bump, range(50)))
    assert statuses == [200] * 50
    final = httpx.get(f"{url}/api/collections/counters/records/{record['id']}").json()
    assert final["views"] == 55


def test_concurrent_signups_with_one_email(server):
    """CON-2: 20 concurrent sign-ups with the same email: exactly one succeeds, the rest are 400."""
    url, _ = server

    def signup(_: int) -> httpx.Response:
        with httpx.Client(timeout=30) as client:
            return client.post(
                url + "/api/collections/users/records",
                json={
                    "email": "same@example.com",
                    "password": "pass-word-1",
                    "passwordConfirm": "pass-word-1",
                },
            )

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(signup, range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * 19, [r.text for r in responses if r.status_code not in (200, 400)]
    for response in responses:
        if response.status_code == 400:
            assert response.json()["data"]["email"]["code"] == "validation_not_unique"


@pytest.mark.timeout(300)
def test_a_thousand_concurrent_count_increments_lose_none(server):
    """A plain PATCH is last-writer-wins; ``field+`` is the atomic way (docs/decisions.md)."""
    url, su = server
    collection = {"name": "tally", "viewRule": "", "createRule": "", "updateRule": "",
                  "fields": [{"name": "count", "type": "number"}]}  # fmt: skip
    assert httpx.post(url + "/api/collections", headers=su, json=collection).status_code == 200
    record = httpx.post(url + "/api/collections/tally/records", json={"count": 0}).json()
    target = f"{url}/api/collections/tally/records/{record['id']}"
    increments = 1_000

    def bump(chunk: range) -> list[int]:
        with httpx.Client(timeout=30) as client:
            return [client.patch(target, json={"count+": 1}).status_code for _ in chunk]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = [s for part in pool.map(bump, [range(i, increments, 16) for i in range(16)]) for s in part]
    elapsed = time.monotonic() - started
    assert statuses == [200] * increments
    assert httpx.get(target).json()["count"] == increments, "no increment was lost"
    assert elapsed < 120, f"1,000 increments took {elapsed:.0f}s"
