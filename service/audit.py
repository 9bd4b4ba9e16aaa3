"""The append-only, hash-chained audit log.

Each entry's hash is ``sha256(prev_hash + canonical JSON of the entry)``, so changing,
removing or reordering any entry breaks every hash after it. Appending locks the single
``audit_head`` row (SELECT … FOR UPDATE on PostgreSQL; SQLite serializes writers), so two
writers can never chain onto the same predecessor. An entry is written in the same
transaction as the change it records: both commit or neither does. Entries are written
with Core statements (no ORM unit of work), in an ORM session or on a plain connection;
``append_many`` writes several under one head lock.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service.db import AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64


def _utc_text(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def canonical(seq: int, at: datetime, actor: str, action: str, document_id: int | None, detail: dict[str, Any]) -> str:
    return json.dumps({"seq": seq, "at": _utc_text(at), "actor": actor, "action": action,
                       "document_id": document_id, "detail": detail},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


ACTOR_LENGTH = AuditEntry.__table__.c.actor.type.length


def kind_of(action: str) -> str:
    """The kind of an action: its first part ("user" for "user.create", "login" for "login")."""
    return action.split(".", 1)[0]


def clip_actor(actor: str) -> str:
    """An actor as the column holds it: a name typed at the login form may be any length,
    and recording a failed login must never fail (PostgreSQL refuses an over-long value)."""
    return actor if len(actor) <= ACTOR_LENGTH else actor[:ACTOR_LENGTH - 1] + "…"


def append(session: Session | Connection, actor: str, action: str, document_id: int | None = None,
           **detail: Any) -> AuditEntry:
    """Append one entry inside the caller's transaction (an ORM session or a Core connection)."""
    return append_many(session, [(actor, action, document_id, detail)])[0]


def append_many(session: Session | Connection,
                entries: list[tuple[str, str, int | None, dict[str, Any]]]) -> list[AuditEntry]:
    """Append ``(actor, action, document_id, detail)`` entries, in order, inside the caller's transaction.

    The head row is locked once for all of them; the entries are written with one
    multi-row insert and the head moved once. With an ORM session, pending changes are
    flushed first (the change an entry records reaches the database before the entry).
    Returns the entries (not attached to the session).
    """
    if not entries:
        return []
    orm = isinstance(session, Session)
    if orm:
        session.flush()
    last_seq, last_hash = session.execute(_LOCK_HEAD).one()
    rows = []
    for actor, action, document_id, detail in entries:
        actor = clip_actor(actor)
        last_seq += 1
        at = utcnow()
        detail = json.loads(json.dumps(detail, ensure_ascii=False, default=str))  # what the JSON column will return
        entry_hash = chain_hash(last_hash, canonical(last_seq, at, actor, action, document_id, detail))
        rows.append({"seq": last_seq, "at": at, "actor": actor, "action": action, "kind": kind_of(action),
                     "document_id": document_id, "detail": detail, "prev_hash": last_hash, "hash": entry_hash})
        last_hash = entry_hash
    session.execute(_INSERT, rows)
    session.execute(_MOVE_HEAD, {"new_seq": last_seq, "new_hash": last_hash})
    if orm:  # an AuditHead this session loaded earlier must not go stale
        head = session.identity_map.get(Session.identity_key(AuditHead, 1))
        if head is not None:
            set_committed_value(head, "last_seq", last_seq)
            set_committed_value(head, "last_hash", last_hash)
    return [AuditEntry(**row) for row in rows]


_HEAD = AuditHead.__table__
# Built once: statement construction cost more than executing them.
_LOCK_HEAD = select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
_INSERT = insert(AuditEntry.__table__)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""


def last_change(session: Session) -> tuple[int, str]:
    """The newest entry's sequence number and hash: every change anyone made is recorded, so
    what is computed from the data (a page, a report) is unchanged while this is. The hash also
    tells two databases apart."""
    row = session.execute(select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1)).first()
    return (int(row[0]), str(row[1])) if row else (0, "")


def verify(session: Session, batch: int = 5000,
           progress: Callable[[int, int], None] | None = None) -> Verification:
    """Recompute the whole chain; report the first entry that does not hold.

    ``progress``, when given, receives ``(entries checked, entries in the log)`` after each
    batch of entries."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    last_seq = 0
    if progress is not None:
        # A column query, not session.get: the head object read at the end must be fresh.
        expected_total = session.execute(select(AuditHead.last_seq).where(AuditHead.id == 1)).scalar() or 0
        progress(0, expected_total)
    while True:
        # Plain rows, not ORM objects: the session's identity map would keep every entry read.
        rows = session.execute(select(AuditEntry.seq, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
                                      AuditEntry.kind, AuditEntry.document_id, AuditEntry.detail,
                                      AuditEntry.prev_hash, AuditEntry.hash).where(AuditEntry.seq > last_seq)
                               .order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                return Verification(False, count, e.seq, f"entry {expected_seq} is missing")
            if e.prev_hash != prev_hash:
                return Verification(False, count, e.seq, "previous-hash link broken")
            if chain_hash(prev_hash, canonical(e.seq, e.at, e.actor, e.action, e.document_id, e.detail)) != e.hash:
                return Verification(False, count, e.seq, "entry content does not match its hash")
            if e.kind != kind_of(e.action):   # not hashed, but it decides what a kind filter shows
                return Verification(False, count, e.seq, "entry kind does not match its action")
            prev_hash, expected_seq, count, last_seq = e.hash, e.seq + 1, count + 1, e.seq
        if progress is not None:
            progress(count, max(expected_total, count))
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != count or head.last_hash != prev_hash):
        return Verification(False, count, head.last_seq, "entries after the last one were removed")
    return Verification(True, count)
