"""``FileStorage`` on a local directory (``<data dir>/storage``, as PocketBase's ``pb_data/storage``).

Each key maps to the same relative path under the root; every segment is checked
(``app.core.files.check_key``) so no key reaches outside the root. Writes go to a temporary file in
the target directory and are renamed over the key, so a reader never sees half a file. Nothing
is created until the first write (a Lambda init or a read-only start writes nothing).
"""

from __future__ import annotations

import contextlib
import os

from ..core.files import FileMissing, check_key


class LocalFileStorage:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *check_key(key))

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        import tempfile  # not at import: the module is loaded on every cold start

        fd, temp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def get(self, key: str) -> bytes:
        try:
            with open(self._path(key), "rb") as source:
                return source.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FileMissing(key) from None

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            os.unlink(self._path(key))

    def delete_prefix(self, prefix: str) -> int:
        directory = os.path.join(self.root, *check_key(prefix, prefix=True))
        if not os.path.isdir(directory):
            return 0
        count = sum(1 for _, _, names in os.walk(directory) for name in names if not name.startswith(".tmp-"))
        import shutil

        shutil.rmtree(directory, ignore_errors=True)
        return count

    def url(self, key: str, expires_in: int = 300) -> str | None:
        check_key(key)
        return None  # served by the API
