"""One contract for every ``FileStorage`` (``app.core.files``): the local directory today, S3 with
the files issue (add it to ``STORAGES``).

Keys are PocketBase's ``<collectionId>/<recordId>/<filename>``: a round trip keeps the bytes, a
write replaces, a missing key is ``FileMissing``, deletes are idempotent, a prefix delete removes a
record's (or a collection's) files and nothing else, and no key can reach outside the storage.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.core.files import FileMissing, FileStorage, file_key
from app.files.local import LocalFileStorage


def local(tmp_path: Any) -> FileStorage:
    return LocalFileStorage(str(tmp_path / "storage"))


STORAGES: dict[str, Callable[[Any], FileStorage]] = {"local": local}


@pytest.fixture(params=sorted(STORAGES))
def storage(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[FileStorage]:
    yield STORAGES[request.param](tmp_path)


KEY = "pbc_3142635823/r1a2b3c4d5e6f7g/photo_x9k2m1p0qz.png"


def test_a_round_trip_keeps_every_byte(storage: FileStorage):
    data = bytes(range(256)) * 1000
    storage.put(KEY, data, "image/png")
    assert storage.exists(KEY)
    assert storage.get(KEY) == data


def test_a_write_replaces_the_previous_bytes(storage: FileStorage):
    storage.put(KEY, b"first version, longer than the second")
    storage.put(KEY, b"second")
    assert storage.get(KEY) == b"second"


def test_an_empty_file_is_a_file(storage: FileStorage):
    storage.put(KEY, b"")
    assert storage.exists(KEY) and storage.get(KEY) == b""


def test_a_missing_key_is_file_missing(storage: FileStorage):
    assert not storage.exists(KEY)
    with pytest.raises(FileMissing):
        storage.get(KEY)


def test_delete_is_idempotent(storage: FileStorage):
    storage.put(KEY, b"x")
    storage.delete(KEY)
    storage.delete(KEY)
    assert not storage.exists(KEY)
    with pytest.raises(FileMissing):
        storage.get(KEY)


def test_a_prefix_delete_removes_one_record_or_one_collection_only(storage: FileStorage):
    keys = [file_key(c, r, f) for c in ("colA", "colB") for r in ("rec1", "rec2") for f in ("a.txt", "b.txt")]
    for key in keys:
        storage.put(key, key.encode())
    assert storage.delete_prefix("colA/rec1/") == 2
    assert [k for k in keys if storage.exists(k)] == keys[2:]
    assert storage.delete_prefix("colB/") == 4
    assert [k for k in keys if storage.exists(k)] == keys[2:4]
    assert storage.delete_prefix("colB/") == 0
    assert storage.get("colA/rec2/a.txt") == b"colA/rec2/a.txt"


def test_unicode_file_names_are_kept(storage: FileStorage):
    key = file_key("col", "rec", "résumé_ünïcode_名前.pdf")
    storage.put(key, b"%PDF")
    assert storage.get(key) == b"%PDF"


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "col/rec/../../../escape.txt",
        "col/../rec/file.txt",
        "/abs/rec/file.txt",
        "col/rec/sub/file.txt",
        "col/rec/",
        "col//file.txt",
        "col/rec/.hidden",
        "col/rec/file\x00.txt",
        "col/rec/back\\slash.txt",
        "col/rec/" + "x" * 300,
        "col/rec",
    ],
)
def test_no_key_outside_the_scheme_is_accepted(storage: FileStorage, tmp_path: Any, key: str):
    for call in (
        lambda: storage.put(key, b"owned"),
        lambda: storage.get(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.url(key),
    ):
        with pytest.raises(ValueError):
            call()
    written = [os.path.join(d, n) for d, _, names in os.walk(tmp_path) for n in names]
    assert written == [], f"a refused key wrote {written}"


@pytest.mark.parametrize("prefix", ["", "/", "../", "col/rec/file.txt/", "col", "a/b/c/"])
def test_no_prefix_outside_the_scheme_is_accepted(storage: FileStorage, prefix: str):
    storage.put(KEY, b"kept")
    with pytest.raises(ValueError):
        storage.delete_prefix(prefix)
    assert storage.get(KEY) == b"kept"


def test_readers_never_see_half_a_write(storage: FileStorage):
    """Writers alternate two large payloads while a reader reads: every read is one of them whole."""
    big_a, big_b = b"a" * 2_000_000, b"b" * 3_000_000
    storage.put(KEY, big_a)
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            storage.put(KEY, big_b)
            storage.put(KEY, big_a)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(50):
            assert storage.get(KEY) in (big_a, big_b)
    finally:
        stop.set()
        writer.join()


def test_url_is_none_or_a_link(storage: FileStorage):
    storage.put(KEY, b"x")
    url = storage.url(KEY, 60)
    assert url is None or url.startswith("https://")
