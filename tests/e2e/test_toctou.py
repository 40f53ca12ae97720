"""CON-3: no time-of-check/time-of-use gap on update and delete (PostgreSQL, several workers).

``emmettbase serve --workers 4`` on PostgreSQL; threads race over HTTP:

* updates: a superuser keeps flipping a record's ``owner`` between userA and userB while userA's
  threads PATCH it under ``updateRule = "owner = @request.auth.id"``. Every write (flip or update)
  does ``views+: 1``, so the ``views`` a successful write returns is its position in the row's
  history. Replaying that history, each successful userA update must come right after a state
  owned by userA: a write applied to a row that userB owned at write time is the TOCTOU bug.
* deletes: for many records owned by userA, a superuser moves each to userB while userA deletes
  it. Both may not succeed: a successful move means the row existed, owned by userB, afterwards.

No request may answer 500, and the final state must agree with the history.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.support.server import ServeProcess, upsert_superuser

pytestmark = [pytest.mark.pg, pytest.mark.e2e]

EMAIL, PASSWORD = "root@example.com", "root-password-1"
USER_PASSWORD = "user-password-1"
FLIPS = 120
UPDATERS, UPDATES_EACH = 3, 60
DELETE_ROWS = 80
OWNER_RULE = "owner = @request.auth.id"


@pytest.fixture
def server(pg_database, tmp_path):
    pg_database.reset()
    env = {"EMMETTBASE_DATABASE_URL": pg_database.url}
    data_dir = tmp_path / "pb_data"
    upsert_superuser(data_dir, EMAIL, PASSWORD, env)
    with ServeProcess(data_dir, env=env, args=["--workers", "4"]) as process:
        yield process


def _login(client: httpx.Client, collection: str, email: str, password: str) -> dict[str, str]:
    response = client.post(
        f"/api/collections/{collection}/auth-with-password", json={"identity": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": response.json()["token"]}


def _setup(url: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=30) as client:
        su = _login(client, "_superusers", EMAIL, PASSWORD)
        users = {}
        for name in ("a", "b"):
            body = {
                "email": f"{name}@example.com",
                "password": USER_PASSWORD,
                "passwordConfirm": USER_PASSWORD,
            }
            response = client.post("/api/collections/users/records", json=body)
            assert response.status_code == 200, response.text
            users[name] = {
                "id": response.json()["id"],
                "headers": _login(client, "users", body["email"], USER_PASSWORD),
            }
        collection = {
            "name": "contested",
            "type": "base",
            "listRule": OWNER_RULE,
            "viewRule": OWNER_RULE,
            "createRule": OWNER_RULE,
            "updateRule": OWNER_RULE,
            "deleteRule": OWNER_RULE,
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
                {"name": "views", "type": "number"},
            ],
        }
        response = client.post("/api/collections", headers=su, json=collection)
        assert response.status_code == 200, response.text
        return {"su": su, "users": users}


def _record(client: httpx.Client, headers: dict[str, str], **values: Any) -> dict[str, Any]:
    response = client.post("/api/collections/contested/records", headers=headers, json=values)
    assert response.status_code == 200, response.text
    return response.json()


def test_updates_never_land_on_a_row_the_caller_no_longer_owns(server):
    world = _setup(server.url)
    su, a, b = world["su"], world["users"]["a"], world["users"]["b"]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        row = _record(client, a["headers"], title="start", owner=a["id"], views=0)
    url = f"/api/collections/contested/records/{row['id']}"
    flips: list[tuple[int, str]] = []  # (views after the flip, owner it set)
    updates: list[tuple[int, str]] = []  # (views after the update, owner in the response)
    unexpected: list[str] = []
    start = threading.Barrier(1 + UPDATERS)

    def flipper() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            start.wait()
            for i in range(FLIPS):
                target = b["id"] if i % 2 == 0 else a["id"]
                response = client.patch(url, headers=su, json={"owner": target, "views+": 1})
                if response.status_code != 200:
                    unexpected.append(f"flip {i}: {response.status_code} {response.text[:200]}")
                    continue
                body = response.json()
                flips.append((body["views"], body["owner"]))

    def updater(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            start.wait()
            for i in range(UPDATES_EACH):
                response = client.patch(url, headers=a["headers"], json={"title": f"A{n}-{i}", "views+": 1})
                if response.status_code == 200:
                    body = response.json()
                    updates.append((body["views"], body["owner"]))
                elif response.status_code != 404:
                    unexpected.append(f"update {n}/{i}: {response.status_code} {response.text[:200]}")

    with ThreadPoolExecutor(max_workers=1 + UPDATERS) as pool:
        futures = [pool.submit(flipper)] + [pool.submit(updater, n) for n in range(UPDATERS)]
        for future in futures:
            future.result()

    assert not unexpected, "\n".join(unexpected)
    assert len(flips) == FLIPS
    assert updates, "no update ever succeeded: the race was not exercised"
    assert len(updates) < UPDATERS * UPDATES_EACH, "no update was ever refused: the race was not exercised"
    versions = sorted([v for v, _ in flips] + [v for v, _ in updates])
    assert versions == list(range(1, len(versions) + 1)), "writes were lost or not serialized"

    # replay: the owner before each write is the owner set by the latest flip before it
    owner_at = {0: a["id"]}
    for version, owner in flips:
        owner_at[version] = owner
    current = a["id"]
    before: dict[int, str] = {}
    for version in versions:
        before[version] = current
        current = owner_at.get(version, current)
    stolen = [v for v, _ in updates if before[v] != a["id"]]
    assert not stolen, f"userA's updates at versions {stolen} were applied to a row owned by userB"
    assert all(owner == a["id"] for _, owner in updates)

    with httpx.Client(base_url=server.url, timeout=30) as client:
        final = client.get(url, headers=su).json()
    assert final["views"] == len(versions)
    assert final["owner"] == current


def test_deletes_never_remove_a_row_the_caller_no_longer_owns(server):
    world = _setup(server.url)
    su, a, b = world["su"], world["users"]["a"], world["users"]["b"]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        rows = [_record(client, a["headers"], title=f"r{i}", owner=a["id"])["id"] for i in range(DELETE_ROWS)]

    def move(record_id: str) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            return client.patch(
                f"/api/collections/contested/records/{record_id}", headers=su, json={"owner": b["id"]}
            ).status_code

    def delete(record_id: str) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            return client.delete(
                f"/api/collections/contested/records/{record_id}", headers=a["headers"]
            ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        # the move and the delete of one row are submitted together, so they run at the same time
        pairs = [(pool.submit(move, r), pool.submit(delete, r)) for r in rows]
        outcomes = [(m.result(), d.result()) for m, d in pairs]

    assert all(m in (200, 404) and d in (204, 404) for m, d in outcomes), outcomes
    both = [rows[i] for i, (m, d) in enumerate(outcomes) if (m, d) == (200, 204)]
    assert not both, f"rows moved to userB and then deleted by userA anyway: {both}"
    assert not [rows[i] for i, (m, d) in enumerate(outcomes) if (m, d) == (404, 404)], outcomes
    with httpx.Client(base_url=server.url, timeout=30) as client:
        left = client.get("/api/collections/contested/records", headers=su, params={"perPage": 1000}).json()
    moved = {rows[i] for i, (m, _) in enumerate(outcomes) if m == 200}
    assert {item["id"] for item in left["items"]} == moved
    assert all(item["owner"] == b["id"] for item in left["items"])
