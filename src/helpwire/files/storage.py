"""Where file bytes live. The local directory is the default; the protocol is what an
object-store backend has to provide."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import anyio

CHUNK = 1024 * 1024


class TooLarge(Exception):
    """The stream went past the size limit; nothing was kept."""


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    sha256: str


class Measure:
    """Size and SHA-256 of bytes as they pass, a chunk at a time: every backend's save
    counts and hashes what it stores the same way, and refuses it past the limit."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._digest = hashlib.sha256()

    def add(self, chunk: bytes) -> None:
        """Count and hash ``chunk``; TooLarge once the total passes ``max_bytes``."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise TooLarge
        self._digest.update(chunk)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def blob(self, key: str) -> StoredBlob:
        return StoredBlob(key=key, size=self.size, sha256=self.sha256)


class FileStorage(Protocol):
    async def save(self, *, key: str, source: BinaryIO, max_bytes: int) -> StoredBlob: ...

    def open_chunks(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under one directory, fanned out by the first characters of their key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:4] / key

    async def save(self, *, key: str, source: BinaryIO, max_bytes: int) -> StoredBlob:
        return await anyio.to_thread.run_sync(self._save_sync, key, source, max_bytes)

    def _save_sync(self, key: str, source: BinaryIO, max_bytes: int) -> StoredBlob:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        measure = Measure(max_bytes)
        # Written under a temporary name and renamed: a crash never leaves half a file
        # under a real key.
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    measure.add(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, target)
            _fsync_directory(target.parent)  # the rename itself must survive a crash
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return measure.blob(key)

    async def open_chunks(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as handle:
            while chunk := await handle.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
