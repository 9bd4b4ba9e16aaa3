"""Receiving an upload: the original is stored durably before the row that names it.

Order matters: stream to storage (hashed, fsynced, renamed) → insert the document row →
commit. If the process dies between the two, the original is an orphan (reported by
``gongkai check``), never a row pointing at nothing. The same bytes from the same
department return the existing document; a failed attempt leaves nothing that blocks a
retry.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service import audit
from service.db import Document, transaction
from service.storage import Storage

MAX_FILENAME = 255


@dataclass(frozen=True)
class Received:
    document_id: int
    created: bool
    status: str


def clean_filename(name: str) -> str:
    """The base name a browser or system sent, without directories or control characters."""
    base = PurePath(name.replace("\\", "/")).name
    base = "".join(ch for ch in base if ch >= " " and ch != "\x7f").strip()
    return (base or "未命名文件")[-MAX_FILENAME:]


def _existing(session: Session, department_id: int, sha256: str) -> Document | None:
    return session.execute(select(Document).where(Document.department_id == department_id,
                                                  Document.sha256 == sha256)).scalar_one_or_none()


def receive(sessions: sessionmaker[Session], storage: Storage, *, department_id: int, filename: str,
            stream: BinaryIO, uploaded_by: str, max_bytes: int | None = None) -> Received:
    """Store the original, then create (or find) its document row. Idempotent per department."""
    stored = storage.put(stream, max_bytes=max_bytes)
    name = clean_filename(filename)
    try:
        with transaction(sessions) as s:
            found = _existing(s, department_id, stored.sha256)
            if found is not None:
                return Received(found.id, False, found.status)
            doc = Document(department_id=department_id, filename=name, sha256=stored.sha256, size=stored.size,
                           uploaded_by=uploaded_by, status="received")
            s.add(doc)
            s.flush()
            audit.append(s, uploaded_by, "document.received", document_id=doc.id, filename=name,
                         sha256=stored.sha256, size=stored.size)
            return Received(doc.id, True, doc.status)
    except IntegrityError:
        # Another request stored the same bytes for the same department at the same moment.
        with transaction(sessions) as s:
            found = _existing(s, department_id, stored.sha256)
            if found is None:
                raise
            return Received(found.id, False, found.status)
