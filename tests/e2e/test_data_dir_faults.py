"""Faults of the SQLite data directory under a real ``emmettbase serve`` process.

The storage is made read-only with ``chattr +i`` (immutable files and folder): as root a ``chmod``
blocks nothing, and a read-only remount is refused while the server holds files open for writing.
Immutable files refuse writes to everyone, including writes through an existing memory mapping,
which is exactly what crashed the server: the next write into the mapped WAL index (``-shm``) was a
SIGBUS. The tests skip where ``chattr`` is not available (not root, or a file system without it).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServeProcess, upsert_superuser

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EMAIL, PASSWORD = "faults@example.com", "faults-password-1"


def _chattr(flag: str, *paths: Path) -> bool:
    result = subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True, timeout=10)
    return result.returncode == 0


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    probe = tmp_path / "probe"
    probe.write_text("x")
    if shutil.which("chattr") is None or not _chattr("+i", probe):
        pytest.skip("chattr +i is not available here (needs root and a file system that supports it)")
    _chattr("-i", probe)
    folder = tmp_path / "pb_data"
    upsert_superuser(folder, EMAIL, PASSWORD)
    yield folder
    with contextlib.suppress(Exception):
        _read_write(folder)


def _files(folder: Path) -> list[Path]:
    return [folder, *folder.iterdir()] if folder.exists() else []


def _read_only(folder: Path) -> None:
    assert _chattr("+i", *_files(folder))


def _read_write(folder: Path) -> None:
    _chattr("-i", *_files(folder))


def _prepare(server: ServeProcess) -> None:
    token = httpx.post(
        server.url + "/api/collections/_superusers/auth-with-password",
        json={"identity": EMAIL, "password": PASSWORD},
    ).json()["token"]
    created = httpx.post(
        server.url + "/api/collections",
        headers={"Authorization": token},
        json={"name": "notes", "listRule": "", "createRule": "", "fields": [{"name": "t", "type": "text"}]},
    )
    assert created.status_code == 200, created.text
    assert _create(server, "before").status_code == 200


def _create(server: ServeProcess, text: str) -> httpx.Response:
    return httpx.post(server.url + "/api/collections/notes/records", json={"t": text}, timeout=15)


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers.get("retry-after"), "a 503 says when to retry"
    assert set(response.json()) == {"data", "message", "status"}


def test_storage_turning_read_only_while_serving_answers_503_and_recovers(data_dir):
    with ServeProcess(data_dir) as server:
        _prepare(server)
        _read_only(data_dir)
        try:
            for _ in range(3):
                _assert_unavailable(_create(server, "during"))
                listed = httpx.get(server.url + "/api/collections/notes/records", timeout=15)
                assert listed.status_code in (200, 503), listed.text
                assert httpx.get(server.url + "/api/health", timeout=15).status_code == 200
            assert server.process is not None and server.process.poll() is None, "the server survived"
        finally:
            _read_write(data_dir)
        assert _create(server, "after").status_code == 200, "writes work again once the fault clears"
        texts = [r["t"] for r in httpx.get(server.url + "/api/collections/notes/records").json()["items"]]
        assert texts == ["before", "after"]


def test_starting_on_read_only_storage_is_refused_then_works_once_fixed(data_dir):
    _read_only(data_dir)
    try:
        with pytest.raises(RuntimeError) as refused:
            ServeProcess(data_dir).start()
        assert "not writable" in str(refused.value)
    finally:
        _read_write(data_dir)
    with ServeProcess(data_dir) as server:
        _prepare(server)
        assert _create(server, "fixed").status_code == 200


def test_data_dir_deleted_under_a_running_server_refuses_writes(data_dir):
    with ServeProcess(data_dir) as server:
        _prepare(server)
        shutil.rmtree(data_dir)
        _assert_unavailable(_create(server, "lost"))
        # Reads still answer from the open (unlinked) file; nothing claims to be saved.
        listed = httpx.get(server.url + "/api/collections/notes/records", timeout=15)
        assert listed.status_code == 200, listed.text
        assert [r["t"] for r in listed.json()["items"]] == ["before"]
