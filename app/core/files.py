"""The ``FileStorage`` port: where the bytes of ``file`` fields live, declared by the core that uses it.

Keys are PocketBase's: ``<collectionId>/<recordId>/<filename>``, each part one path segment
(``file_key`` builds and checks them), so a record's files share the prefix
``<collectionId>/<recordId>/`` and a collection's ``<collectionId>/``. Implementations: a local
directory (``app.files.local``, ``emmettbase serve``); S3 comes with the files issue. The
composition root (``app.composition``) picks one from the settings.

Only what the files feature needs: write a whole object, read it, delete one or a prefix (record
and collection deletion), test existence, and a direct URL when the backend can give one (S3
presigned) - ``None`` means the API serves the bytes itself.
"""

from __future__ import annotations

from typing import Protocol

#: A segment is at most this long (PocketBase file names stay well below it; S3 keys allow 1024).
MAX_SEGMENT = 255


class FileMissing(LookupError):
    """No object is stored under the key."""


class FileStorage(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Store ``data`` under ``key``, replacing what was there; readers see all of it or nothing."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``FileMissing`` when there are none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove ``key``; deleting a missing key is not an error (cleanups may run twice)."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key under ``prefix`` (``<collectionId>/`` or ``<collectionId>/<recordId>/``);
        returns how many were removed."""
        ...

    def url(self, key: str, expires_in: int = 300) -> str | None:
        """A URL the client can fetch ``key`` from directly, or ``None`` when the API must serve it."""
        ...


def check_segment(segment: str) -> str:
    """``segment`` when it is a safe single path part, else ``ValueError`` (no traversal, no
    separators, no control characters, no hidden files)."""
    if (
        not segment
        or len(segment) > MAX_SEGMENT
        or segment.startswith(".")
        or any(c in segment for c in "/\\")
        or any(ord(c) < 32 or ord(c) == 127 for c in segment)
    ):
        raise ValueError(f"invalid storage key segment {segment!r}")
    return segment


def file_key(collection_id: str, record_id: str, filename: str) -> str:
    return "/".join(check_segment(part) for part in (collection_id, record_id, filename))


def check_key(key: str, prefix: bool = False) -> list[str]:
    """The segments of ``key`` (a full three-part key, or with ``prefix`` one or two parts ending
    in ``/``), each checked; ``ValueError`` otherwise."""
    if prefix:
        if not key.endswith("/"):
            raise ValueError(f"a storage prefix ends with '/': {key!r}")
        parts = key[:-1].split("/")
        if not 1 <= len(parts) <= 2:
            raise ValueError(f"invalid storage prefix {key!r}")
    else:
        parts = key.split("/")
        if len(parts) != 3:
            raise ValueError(f"a storage key is <collectionId>/<recordId>/<filename>: {key!r}")
    return [check_segment(part) for part in parts]
