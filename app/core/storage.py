"""Where uploaded files live: a small interface, and the local-disk implementation.

Keys are opaque relative paths chosen by the app (never by the uploader). Another backend
(object storage) implements the same four methods and is returned by `get_storage()`.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Protocol

from flask import current_app


class Storage(Protocol):
    def save(self, key: str, data: bytes, content_type: str) -> None: ...
    def read(self, key: str) -> bytes | None: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under a root directory (default instance/uploads), written atomically."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"storage key escapes the root: {key!r}")
        return path

    def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, ValueError):
            return None

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except ValueError:
            return False

    def delete(self, key: str) -> None:
        with suppress(ValueError):
            self._path(key).unlink(missing_ok=True)


def get_storage() -> Storage:
    """The app's storage (one per app; UPLOAD_DIR decides where local files go)."""
    root = current_app.config["UPLOAD_DIR"]
    cached = current_app.extensions.get("storage")
    if cached is None or getattr(cached, "root", None) != Path(root).resolve():
        cached = current_app.extensions["storage"] = LocalStorage(root)
    return cached
