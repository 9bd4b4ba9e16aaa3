"""The database: tables, engine and sessions (SQLAlchemy 2).

SQLite by default (a file in the data directory, WAL mode, writers serialized with
BEGIN IMMEDIATE); PostgreSQL through ``GONGKAI_DATABASE_URL``. The schema is created
and changed only by Alembic migrations (``service/migrations``, ``gongkai db upgrade``).
Times are stored in UTC.
"""
from __future__ import annotations

import json
import time

from collections.abc import Iterator

from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    false,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


# Roles and document states are plain strings in the database; the allowed values live here.
#: signer (签发人): sees what reviewers see and 签发 (publishes, withdraws) what others approved; no 初审.
ROLES = ("uploader", "reviewer", "signer", "admin")
STATES = ("received", "processing", "pending_review", "approved", "published", "withdrawn", "rejected", "failed")


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: 统一社会信用代码 (GB 32100; ``service.index_numbers``), for 索引号 schemes that use it.
    credit_code: Mapped[str | None] = mapped_column(String(18), nullable=True, unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Consecutive failed logins; reaching the limit locks the account until ``locked_until``.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The password was set by someone else (an admin, the operator, the first start): the user
    #: must choose their own before doing anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: When the password was last set (by anyone): ``password_max_age_days`` counts from here.
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                                 default=utcnow)

    department: Mapped[Department | None] = relationship()


class ApiToken(Base):
    """A department's token for systems that upload. Only the token's sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    department: Mapped[Department] = relationship()


class Document(Base):
    """One uploaded original and everything intake, classification and review produced."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("department_id", "sha256", name="uq_documents_department_sha256"),
                      # the catalogue's count, years and pages from the index alone (migration 0018)
                      Index("ix_documents_listing", "status", "published_at", "id", "category"),
                      Index("ix_documents_status_category", "status", "category"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    uploaded_by: Mapped[str] = mapped_column(String(100), default="")
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)

    # intake
    media_type: Mapped[str | None] = mapped_column(String(120), nullable=True)
    plugin: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tables: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    gongwen: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    hidden_text: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    warnings: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    #: Lines read by OCR: [{"page", "text", "box": [x0, y0, x1, y1], "confidence"}] (migration 0010).
    ocr_lines: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    tokens: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    # classification
    suggested_category: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    candidates: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    explanation: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)

    # privacy and secrecy
    findings: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    secrecy_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    pii_acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    pii_acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: A reviewer's masks for the public copy: {"added": [{"text", "by", "at"}], "exempt": [{"text",
    #: "reason", "by", "at"}]} (``service.analysis.masking``; migration 0012).
    masks: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: The stored public PDF (service.public_copy): key, sha256, pages, covered, method, reason, made_at.
    public_copy: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    # review and publication
    #: 公开属性 (service.disclosure): active / on_request / not_disclosed, and the reason code.
    disclosure: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    disclosure_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: 有效性 (service.validity): effective / amended / repealed / expired, and its dates and source.
    validity_status: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    validity: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    index_number: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    department: Mapped[Department] = relationship()
    #: Its 保密审查 records, oldest first (``service.secrecy_review``).
    secrecy_reviews: Mapped[list[SecrecyReview]] = relationship(order_by="SecrecyReview.id", viewonly=True)


class SecrecyReview(Base):
    """A 保密审查 of one document (``service.secrecy_review``): who checked, when, on what basis
    (the findings and unreadable pages they were shown, the pages they read by eye, a note)
    and the result. Publishing needs a cleared one (``service.review.publish``); the review a
    publication relied on is marked with that publication's time and serves no other
    (一事一审: a republication after withdrawal is reviewed again)."""

    __tablename__ = "secrecy_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: ``cleared`` or ``not_cleared``.
    result: Mapped[str] = mapped_column(String(20))
    pages_read: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: What the reviewer was shown: ``findings`` (kind, label, location), ``pages`` needing reading with why.
    basis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    #: Recorded by ``publish`` itself: the automatic checks left nothing for a person to judge.
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When a publication relied on this review (None: not used yet).
    used_for_publish_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IndexCounter(Base):
    """The last 索引号 sequence used per department and year (``service.review.next_index_number``).

    Only ever incremented, in the publishing transaction: numbers survive gaps, withdrawals
    and concurrent publishes, and are never handed out twice."""

    __tablename__ = "index_counters"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class BrowserSession(Base):
    """A signed-in browser (``service.browser_sessions``). The cookie carries a random id; only
    its sha256 is stored. A session ends at logout, after ``session_idle_minutes`` without an
    action, 12 hours after sign-in in any case, or when its user's password changes."""

    __tablename__ = "browser_sessions"
    __table_args__ = (Index("ix_browser_sessions_user_ended", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    #: logout / idle / expired / password / deactivated
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginFailure(Base):
    """Failed logins for a name that is no account: counted and locked like an account's, so
    the answers to a name do not tell whether it exists (``service.accounts.attempt_login``)."""

    __tablename__ = "login_failures"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class AuditHead(Base):
    """One row: the newest audit entry's id and hash. Locked while appending, so the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """Append-only, hash-chained: ``hash = sha256(prev_hash + canonical JSON of the entry)``."""

    __tablename__ = "audit_log"
    # The 操作日志 page's filters, newest first (service/audit_query.py; bench/bench_auditlog.py).
    __table_args__ = (Index("ix_audit_log_actor_seq", "actor", "seq"),
                      Index("ix_audit_log_kind_action_seq", "kind", "action", "seq"),
                      Index("ix_audit_log_at", "at"))

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    # The action's first part ("user" for user.create), for filtering by kind with an index;
    # derived from the action, so not hashed — verify checks that it still matches.
    kind: Mapped[str] = mapped_column(String(64), default="", server_default="")
    document_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# ---------------------------------------------------------------------------
# Engine and sessions
# ---------------------------------------------------------------------------


def _json_text(value: Any) -> str:
    """JSON columns hold Chinese as UTF-8, not \\u escapes: stored tokens are ~40% smaller and
    decode ~35% faster (batch reclassification reads 100,000 of them)."""
    return json.dumps(value, ensure_ascii=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_serializer", _json_text)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below decide
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            # Writers take the write lock up front, so a read-then-write transaction never
            # fails on a stale snapshot; read-only transactions stay concurrent (WAL).
            readonly = conn.get_execution_options().get("gongkai_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


#: A pooled connection idle at least this long is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Like ``pool_pre_ping``, but only for connections that sat in the pool for a while.

    A worker checks a connection out two or three times per document, milliseconds apart;
    pinging each time cost a round trip and ~0.2 ms of CPU. A connection that went away
    between two such checkouts (the server restarted within that second) fails its
    statement, SQLAlchemy invalidates the pool, and the error is an infrastructure error
    like any other (retried). After a pause, a dead connection is replaced before use,
    as with ``pool_pre_ping``.
    """
    from sqlalchemy.exc import DisconnectionError

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record):  # pragma: no cover - trivial
        record.info["gongkai_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        since = record.info.pop("gongkai_idle_since", None)
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            ok = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means the connection is unusable
            raise DisconnectionError(str(exc)) from exc
        if ok is False:
            raise DisconnectionError("ping failed")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def dialect_insert(session: Session):
    """The ``insert`` construct of the session's database, which has ``on_conflict_do_…`` (upserts)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


@contextmanager
def transaction(factory: sessionmaker[Session], readonly: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    ``readonly=True`` for transactions that only read: on SQLite they do not take the
    write lock, so they run alongside a writer.
    """
    session = factory()
    try:
        with session.begin():
            if readonly:
                session.connection(execution_options={"gongkai_readonly": True})
            yield session
    finally:
        session.close()


class ReclassBatch(Base):
    """A batch reclassification (``service/reclassify.py``): one model run over selected documents."""

    __tablename__ = "reclass_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(64))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: computing / ready / applied / rolled_back / cancelled
    status: Mapped[str] = mapped_column(String(20), default="computing", index=True)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rolled_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ReclassShard(Base):
    """An id range of a batch computed by one rq job (``service/reclassify.py``, migration 0004).

    ``status`` is ``pending`` until every document of the range has an item, then ``done``.
    """

    __tablename__ = "reclass_shards"
    __table_args__ = (UniqueConstraint("batch_id", "seq", name="uq_reclass_shards_batch_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("reclass_batches.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    first_id: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ReclassItem(Base):
    """One document in a batch: its suggestion before, the new model's answer, the reviewer's decision."""

    __tablename__ = "reclass_items"
    __table_args__ = (UniqueConstraint("batch_id", "document_id", name="uq_reclass_items_batch_document"),
                      Index("ix_reclass_items_batch_kind", "batch_id", "kind"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("reclass_batches.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    #: change / same / disagreement / no_tokens
    kind: Mapped[str] = mapped_column(String(16))
    # the document's suggestion when the batch was computed (restored exactly by a rollback)
    old_suggested_category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    old_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    old_candidates: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    old_explanation: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    old_needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    old_model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the new model's answer
    new_category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    new_top_category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    new_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    new_candidates: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    new_explanation: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    new_needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    new_model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: the reviewer-confirmed or published category, if any (never changed by a batch)
    confirmed_category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: pending / accepted / rejected
    decision: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: set by apply/rollback: applied / skipped_confirmed / skipped_changed / rolled_back / rollback_skipped
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)


class AnnualReportEntry(Base):
    """One year's 政府信息公开工作年度报告 (``service.annual_report``, migration 0017): the figures
    entered for it, the clerk's texts, and once final the frozen report.

    ``revision`` counts saves (a form carries the one it was read at: two clerks do not overwrite
    each other); ``final_sha256`` is the stored .docx of the final report and ``final_snapshot``
    everything it was made from, so a final report reads the same whatever happens later.
    """

    __tablename__ = "annual_reports"
    __table_args__ = (UniqueConstraint("year", name="uq_annual_reports_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: draft / final
    status: Mapped[str] = mapped_column(String(10), default="draft")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finalized_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    final_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    final_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
