"""Durable storage of original uploads, addressed by the sha256 of their bytes.

A ``Storage`` backend stores and returns bytes by digest. ``LocalStorage`` (the default)
keeps them under ``<root>/<aa>/<bb>/<sha256>``: an upload is streamed to a temporary file
in the same directory tree while it is hashed, fsynced, then atomically renamed into
place (and the directory fsynced), so a crash leaves either nothing or a complete file —
never a partial original under its final name. Writing the same bytes twice is a no-op.
An S3-compatible backend implements the same five methods.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from service.errors import GongkaiError

CHUNK = 1024 * 1024


class UploadTooLarge(GongkaiError):
    code = "file_too_large"
    message_zh = "文件超过大小上限（{limit}），请压缩或拆分后再上传。"
    message_en = "The file exceeds the size limit ({limit})."


class EmptyUpload(GongkaiError):
    code = "empty_file"
    message_zh = "文件是空的（0 字节），请检查后重新上传。"
    message_en = "The file is empty."


class OriginalMissing(GongkaiError):
    code = "original_missing"
    message_zh = "原件在存储中找不到，请联系管理员。"
    message_en = "The original file is missing from storage."


@dataclass(frozen=True, slots=True)
class Stored:
    sha256: str
    size: int
    created: bool  # False when the same bytes were already stored


class Storage(Protocol):
    def put(self, stream: BinaryIO, max_bytes: int | None = None) -> Stored: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def exists(self, sha256: str) -> bool: ...
    def local_path(self, sha256: str) -> Path: ...
    def iter_digests(self) -> Iterator[str]: ...


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def digest_of_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


class LocalStorage:
    """Originals on a local (or shared, e.g. NFS) file system."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def local_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO, max_bytes: int | None = None) -> Stored:
        """Stream to a temp file while hashing; fsync; rename into place. Idempotent."""
        h = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="upload-")
        tmp_path = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: stream.read(CHUNK), b""):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise UploadTooLarge(f"> {max_bytes} bytes", limit=f"{max_bytes // (1024 * 1024)} MB")
                    h.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise EmptyUpload()
            digest = h.hexdigest()
            final = self.local_path(digest)
            if final.exists() and final.stat().st_size == size:
                return Stored(sha256=digest, size=size, created=False)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path, final)
            _fsync_dir(final.parent)
            return Stored(sha256=digest, size=size, created=True)
        finally:
            tmp_path.unlink(missing_ok=True)

    def open(self, sha256: str) -> BinaryIO:
        try:
            return open(self.local_path(sha256), "rb")
        except FileNotFoundError as exc:
            raise OriginalMissing(sha256) from exc

    def exists(self, sha256: str) -> bool:
        return self.local_path(sha256).is_file()

    def iter_digests(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*"):
            if path.is_file() and len(path.name) == 64:
                yield path.name
