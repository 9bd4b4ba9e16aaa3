"""Archive import: a folder or a .zip of historical files becomes documents.

``gongkai import PATH`` (``service/cli/import_files.py``) walks the source, streams every
file through :func:`service.receiving.receive` (the same durable, per-department
idempotent intake as an upload) and queues the new documents for the same ingest
pipeline, many ids per rq job (:func:`ingest_many`, ``service.jobs.ingest_many_job``).

Decisions:

- **Sources.** A folder is walked recursively in sorted order; symbolic links are not
  followed (a link is a failed item, ``unsafe_path``). A .zip is read with
  :mod:`zipfile` and never extracted to disk by entry name: each entry is streamed
  through a bounded reader straight into ``storage.put``. Only ``PATH`` itself is
  expanded: an archive found *inside* the source (a .zip in the folder or in the zip)
  is a failed item with code ``nested_archive`` (unpack it and import it on its own) —
  so one import can never recurse into a bomb of archives.
- **Zip limits** (the same as an upload): at most ``MAX_ENTRIES`` entries; an entry
  declaring more than ``max_upload_bytes`` → ``file_too_large``; an entry larger than
  ``RATIO_MIN_SIZE`` inflating more than ``MAX_RATIO`` : 1 → ``resource_limit`` (zip
  bomb); reads are bounded and count the bytes actually produced (a lying size field
  ends in ``resource_limit``/``corrupt_file``), and the sum of bytes read is capped by
  ``MAX_TOTAL_BYTES``. Absolute names, drive letters and ``..`` → ``unsafe_path``
  (zip-slip); encrypted entries → ``encrypted``; damaged entries → ``corrupt_file``.
  Names without the zip UTF-8 flag are decoded as GBK when that works (Windows zips).
- **Resumable.** The same bytes from the same department are the same document, so a
  second run stores nothing new and counts duplicates. A duplicate whose document is
  ``failed`` is moved failed → received (audited) and queued again: a re-run retries
  only the failures. Documents left in received/processing (an interrupted run) are
  queued again too; ingest is idempotent.
- **Manifest** (CSV in UTF-8 or GBK with a header row, or JSON): keyed by ``path``, the
  file's path relative to the folder or its name inside the zip; optional ``category``,
  ``date``, ``doc_number`` (文号) and ``status`` (``confirmed``/``approved``/``published``).
  At import time the entry is written to the audit log as ``import.manifest`` for the
  document (durable, no schema change, and an audited record of what the archive
  claimed). The chunk job, right after ingesting a document, reads the newest such
  entry: the given fields are kept under ``gongwen["manifest"]``; a document the manifest
  marks confirmed is moved pending_review → approved with that category (actor
  ``import:manifest``); one marked published is then published through
  :func:`service.review.publish`, so the 密级 and PII gates still apply, and only a
  document the automatic checks fully cleared (no findings, every page read by the
  machine) is published — its 保密审查 is recorded automatically; anything a person must
  judge is refused with ``secrecy_review_required`` (先审查、后公开). When a gate refuses,
  the document stays approved and the refusal is audited
  (``import.manifest_applied`` with ``outcome: publish_refused``) and reported.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import posixpath
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select

from service import audit, review
from service.db import AuditEntry, Document, transaction
from service.errors import GongkaiError
from service.processing import ingest_chain
from service.receiving import receive
from service.runtime import Runtime
from service.states import transition
from service.storage import EmptyUpload, UploadTooLarge
from service.index_numbers import Scheme
from service.taxonomy import from_settings

log = logging.getLogger(__name__)

MANIFEST_ACTOR = "import:manifest"
#: Most entries a zip may hold.
MAX_ENTRIES = 100_000
#: Most bytes read out of one zip in total.
MAX_TOTAL_BYTES = 50 * 1024 * 1024 * 1024
#: Largest inflate ratio for entries above RATIO_MIN_SIZE (real documents stay far below).
MAX_RATIO = 200
RATIO_MIN_SIZE = 1024 * 1024
ARCHIVE_EXTENSIONS = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zipx")
_CHUNK = 1024 * 1024

CODE_NAMES_ZH = {
    "unsafe_path": "不安全的路径", "nested_archive": "压缩包内的压缩包", "resource_limit": "超出处理限制",
    "file_too_large": "文件过大", "empty_file": "空文件", "corrupt_file": "文件损坏", "encrypted": "已加密",
    "unsupported_type": "不支持的格式", "type_mismatch": "内容与扩展名不符", "ambiguous_type": "多重格式",
    "legacy_office_format": "旧版 Word/WPS 格式", "unsafe_content": "不安全的内容",
    "converter_missing": "缺少格式转换程序", "converter_failed": "格式转换失败",
    "unknown_encoding": "无法识别编码", "parser_failed": "解析程序出错", "read_error": "读取失败",
}


class ArchiveError(GongkaiError):
    code = "archive_error"
    message_zh = "无法读取导入源：{what}"
    message_en = "Cannot read the import source: {what}"


class ManifestError(GongkaiError):
    code = "manifest_error"
    message_zh = "清单文件有误：{what}"
    message_en = "Manifest error: {what}"


class ItemFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------


@dataclass
class Item:
    """One file of the source: its relative path and how to open it (or why it cannot be)."""

    path: str
    open: Callable[[], BinaryIO] | None = None
    error: tuple[str, str] | None = None


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_EXTENSIONS)


def _nested(path: str) -> Item:
    return Item(path, error=("nested_archive", "压缩包内含压缩包（或文件夹中含压缩包），请解压后单独导入。"))


def iter_folder(root: Path) -> Iterator[Item]:
    """Every file under ``root``, sorted, without following symbolic links."""
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        links = [d for d in dirnames if (base / d).is_symlink()]
        for name in sorted(filenames + links):
            full = base / name
            rel = full.relative_to(root).as_posix()
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                yield Item(rel, error=("unsafe_path", "符号链接，不予导入。"))
            elif not stat.S_ISREG(st.st_mode):
                yield Item(rel, error=("unsafe_path", "不是普通文件，不予导入。"))
            elif is_archive_name(name):
                yield _nested(rel)
            else:
                yield Item(rel, open=lambda full=full: open(full, "rb"))  # noqa: SIM115 - a factory: the caller closes it


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its writer meant it: GBK for Windows zips without the UTF-8 flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("gbk")
    return name


_DRIVE = re.compile(r"^[A-Za-z]:")


def safe_member_path(name: str) -> str | None:
    """A normalised relative path, or None for an absolute path, a drive letter or ``..``."""
    name = name.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name) or "\x00" in name:
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


class BoundedReader(io.RawIOBase):
    """Reads from ``raw`` but never more than ``limit`` bytes in all; counts what it produced."""

    def __init__(self, raw: BinaryIO, limit: int, budget: ZipBudget) -> None:
        self.raw, self.limit, self.budget, self.count = raw, limit, budget, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = _CHUNK if size is None or size < 0 else min(size, _CHUNK)
        try:
            data = self.raw.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ItemFailed("corrupt_file", "压缩包中的文件已损坏，无法读取。") from exc
        except NotImplementedError as exc:  # an unsupported compression method
            raise ItemFailed("unsupported_type", "压缩包使用了不支持的压缩方式。") from exc
        self.count += len(data)
        self.budget.used += len(data)
        if self.count > self.limit:
            raise ItemFailed("resource_limit", "解压后的大小超过声明或上限（疑似压缩炸弹）。")
        if self.budget.used > MAX_TOTAL_BYTES:
            raise ItemFailed("resource_limit", "压缩包解压总量超过上限。")
        return data

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            super().close()

    def readinto(self, b) -> int:  # pragma: no cover - storage reads with read()
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)


@dataclass
class ZipBudget:
    used: int = 0


def iter_zip(zf: zipfile.ZipFile, max_entry_bytes: int) -> Iterator[Item]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ArchiveError(f"{len(infos)} entries", what=f"压缩包有 {len(infos)} 个条目，超过上限 {MAX_ENTRIES}")
    budget = ZipBudget()
    for info in infos:
        raw_name = entry_name(info)
        if info.is_dir() or raw_name.endswith(("/", "\\")):
            continue
        name = safe_member_path(raw_name)
        if name is None:
            yield Item(raw_name, error=("unsafe_path", "压缩包条目的路径不安全（绝对路径或含“..”），已拒绝。"))
            continue
        if name.startswith("__MACOSX/"):
            continue
        if is_archive_name(name):
            yield _nested(name)
        elif info.flag_bits & 0x1:
            yield Item(name, error=("encrypted", "压缩包中的文件已加密，请解密后再导入。"))
        elif info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            yield Item(name, error=("resource_limit", "压缩比异常（疑似压缩炸弹），已拒绝。"))
        elif info.file_size > max_entry_bytes:
            yield Item(name, error=("file_too_large", "文件超过大小上限。"))
        else:
            # Bounded by the declared size (zipfile stops there and checks the CRC) and the upload cap.
            limit = min(info.file_size, max_entry_bytes)
            yield Item(name, open=lambda info=info, limit=limit: BoundedReader(zf.open(info), limit, budget))


# ---------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------

_ALIASES = {
    "path": ("path", "file", "filename", "路径", "文件", "文件名"),
    "category": ("category", "分类", "类别", "公开类别"),
    "date": ("date", "日期", "成文日期"),
    "doc_number": ("doc_number", "文号", "发文字号"),
    "status": ("status", "状态", "公开状态"),
}
_STATUS = {
    "": None, "pending": None, "pending_review": None, "待审核": None,
    "confirmed": "confirmed", "approved": "confirmed", "已确认": "confirmed", "已审核": "confirmed",
    "published": "published", "已发布": "published", "已公开": "published",
}


def _norm_key(path: str) -> str:
    return safe_member_path(path.strip()) or path.strip()


def _entry(raw: dict[str, Any], where: str) -> tuple[str, dict[str, str]]:
    lowered = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
    out: dict[str, str] = {}
    for key, names in _ALIASES.items():
        for n in names:
            v = lowered.get(n.lower())
            if v not in (None, ""):
                out[key] = str(v).strip()
                break
    if not out.get("path"):
        raise ManifestError(where, what=f"{where}缺少 path（文件路径）")
    status = out.get("status", "").lower()
    if status not in _STATUS:
        raise ManifestError(where, what=f"{where}状态「{out['status']}」无法识别（可用 confirmed、published）")
    if _STATUS[status]:
        out["status"] = _STATUS[status]
    else:
        out.pop("status", None)
    return _norm_key(out.pop("path")), out


def load_manifest(path: Path, taxonomy=None) -> dict[str, dict[str, str]]:
    """``{relative path: {category?, date?, doc_number?, status?}}`` from a CSV or JSON file."""
    data = Path(path).read_bytes()
    rows: list[dict[str, Any]]
    if Path(path).suffix.lower() == ".json" or data.lstrip()[:1] in (b"[", b"{"):
        try:
            parsed = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(str(exc), what=f"JSON 无法解析（{exc}）") from exc
        if isinstance(parsed, dict):
            parsed = [dict(v, path=k) if isinstance(v, dict) else None for k, v in parsed.items()]
        if not isinstance(parsed, list) or not all(isinstance(r, dict) for r in parsed):
            raise ManifestError("shape", what="JSON 应为对象列表")
        rows = parsed
    else:
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ManifestError("encoding", what="CSV 编码无法识别（请用 UTF-8 或 GBK）")
        rows = list(csv.DictReader(io.StringIO(text)))
    out: dict[str, dict[str, str]] = {}
    for i, row in enumerate(rows, start=1):
        key, entry = _entry(row, f"第 {i} 行")
        cat = entry.get("category")
        if cat and taxonomy is not None:
            if cat not in taxonomy:
                raise ManifestError(cat, what=f"第 {i} 行分类「{cat}」不在当前分类体系中")
            entry["category"] = taxonomy.category(cat).name
        out[key] = entry
    return out


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


@dataclass
class ImportResult:
    scanned: int = 0
    imported: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    to_queue: list[int] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    manifest: dict[int, dict[str, str]] = field(default_factory=dict)
    manifest_unmatched: list[str] = field(default_factory=list)
    #: The audit log's last entry when the import began: an ``import.manifest_applied`` entry
    #: up to it is an earlier import's outcome, not this one's.
    audit_seq: int = 0


def _resume(rt: Runtime, document_id: int, actor: str) -> str:
    """A duplicate: failed → received (retry); return the status it is in now."""
    with transaction(rt.sessions) as s:
        doc = s.get(Document, document_id, with_for_update=True)
        if doc.status == "failed":
            transition(s, doc, "received", actor=actor, reason="import_retry", previous_error=doc.error_code)
            doc.error_code = doc.error_message = None
            return "retried"
        return doc.status


def latest_manifest(s, document_id: int) -> AuditEntry | None:
    return s.execute(select(AuditEntry).where(AuditEntry.document_id == document_id,
                                              AuditEntry.action == "import.manifest")
                     .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()


def _record_manifest(rt: Runtime, document_id: int, path: str, entry: dict[str, str], actor: str) -> None:
    with transaction(rt.sessions) as s:
        last = latest_manifest(s, document_id)
        if last is not None and last.detail.get("entry") == entry:
            return  # a re-run with the same manifest: nothing new to record
        audit.append(s, actor, "import.manifest", document_id=document_id, path=path, entry=entry)


def import_items(rt: Runtime, items: Iterator[Item], *, department_id: int, uploaded_by: str,
                 manifest: dict[str, dict[str, str]] | None = None,
                 progress: Callable[[Item], None] | None = None,
                 queue: Callable[[int], None] | None = None) -> ImportResult:
    """Store every item (or record why not); decide what to queue.

    Nothing is enqueued here: ``queue(document_id)``, when given, is called once per
    document as soon as it is known to need processing, so the caller can hand chunks to
    the workers while the rest is still being stored (``result.to_queue`` lists them all).
    """
    manifest = manifest or {}
    with transaction(rt.sessions, readonly=True) as s:
        result = ImportResult(audit_seq=s.execute(select(func.max(AuditEntry.seq))).scalar() or 0)
    seen_paths: set[str] = set()
    queued: set[int] = set()

    def to_queue(document_id: int) -> None:
        if document_id not in queued:
            queued.add(document_id)
            result.to_queue.append(document_id)
            if queue is not None:
                queue(document_id)

    for item in items:
        result.scanned += 1
        seen_paths.add(item.path)
        try:
            if item.error is not None:
                raise ItemFailed(*item.error)
            with item.open() as stream:
                got = receive(rt.sessions, rt.storage, department_id=department_id,
                              filename=posixpath.basename(item.path), stream=stream, uploaded_by=uploaded_by,
                              max_bytes=rt.settings.max_upload_bytes)
        except ItemFailed as exc:
            result.failures.append({"path": item.path, "code": exc.code, "message": exc.message})
        except (UploadTooLarge, EmptyUpload) as exc:
            result.failures.append({"path": item.path, "code": exc.code, "message": exc.message})
        except OSError as exc:
            result.failures.append({"path": item.path, "code": "read_error", "message": f"读取失败：{exc}"})
        else:
            entry = manifest.get(item.path)
            if entry:
                _record_manifest(rt, got.document_id, item.path, entry, uploaded_by)
                result.manifest[got.document_id] = entry
            if got.created:
                result.imported.append(got.document_id)
                to_queue(got.document_id)
            else:
                result.duplicates.append(got.document_id)
                now = _resume(rt, got.document_id, uploaded_by)
                if now == "retried":
                    result.retried.append(got.document_id)
                if now in ("retried", "received", "processing") or (entry and now == "pending_review"):
                    to_queue(got.document_id)
        if progress is not None:
            progress(item)
    result.manifest_unmatched = sorted(set(manifest) - seen_paths)
    return result


# ---------------------------------------------------------------------------
# The chunk job's work
# ---------------------------------------------------------------------------


def apply_manifest(rt: Runtime, document_id: int, taxonomy=None) -> str | None:
    """After ingest: confirm/publish what the manifest says. Returns the outcome, or None."""
    with transaction(rt.sessions) as s:
        entry_row = latest_manifest(s, document_id)
        if entry_row is None:
            return None
        entry = entry_row.detail.get("entry") or {}
        doc = s.get(Document, document_id, with_for_update=True)
        if doc is None or doc.status != "pending_review":
            return None
        doc.gongwen = {**(doc.gongwen or {}), "manifest": entry}
        wish = entry.get("status")
        if not wish:
            return None
        if taxonomy is None:

            taxonomy = from_settings(rt.settings)
        try:
            review.confirm(s, doc, MANIFEST_ACTOR, taxonomy, entry.get("category"))
        except review.ReviewError as exc:
            audit.append(s, MANIFEST_ACTOR, "import.manifest_applied", document_id=document_id,
                         outcome="not_confirmed", code=exc.code)
            return "not_confirmed"
    if wish != "published":
        _outcome(rt, document_id, "approved")
        return "approved"
    scheme = Scheme.of(rt.settings.index_number_template, taxonomy or from_settings(rt.settings))
    try:
        with transaction(rt.sessions) as s:
            doc = s.get(Document, document_id, with_for_update=True)
            review.publish(s, doc, MANIFEST_ACTOR, two_person=rt.settings.publish_two_person, automatic_only=True,
                           scheme=scheme)
    except (review.SecrecyBlocked, review.PiiNotAcknowledged, review.SecrecyReviewRequired,
            review.TwoPersonRequired, review.CreditCodeMissing, review.NotActiveDisclosure,
            review.SignOffRequired) as exc:
        _outcome(rt, document_id, "publish_refused", code=exc.code)
        return "publish_refused"
    _outcome(rt, document_id, "published")
    return "published"


def _outcome(rt: Runtime, document_id: int, outcome: str, **detail: Any) -> None:
    with transaction(rt.sessions) as s:
        audit.append(s, MANIFEST_ACTOR, "import.manifest_applied", document_id=document_id, outcome=outcome,
                     **detail)


def ingest_many(rt: Runtime, document_ids: list[int]) -> dict[str, str]:
    """Ingest each document, then apply its manifest entry. One document's trouble never stops the rest.

    Parse errors are final states already; an infrastructure exception on one document is
    logged and the document is left in received/processing, where the stuck-document
    sweeper finds it again. Documents are written through ``ingest_chain``: settling one
    and claiming the next share a transaction (each transition still its own audit entry).
    """

    ids = [int(i) for i in document_ids]
    with transaction(rt.sessions, readonly=True) as s:  # one look for the chunk, not a write per document
        with_manifest = set(s.execute(select(AuditEntry.document_id).where(
            AuditEntry.document_id.in_(ids), AuditEntry.action == "import.manifest")).scalars()) if ids else set()
    applied: dict[int, str] = {}

    def settled(doc_id: int, status: str) -> None:
        if status == "pending_review" and doc_id in with_manifest:
            outcome = apply_manifest(rt, doc_id)
            if outcome:
                applied[doc_id] = outcome

    outcomes = ingest_chain(rt, ids, settled=settled)
    return {str(doc_id): applied.get(doc_id) or status for doc_id, status in outcomes.items()}


def manifest_outcomes(rt: Runtime, ids: list[int], after_seq: int = 0) -> dict[int, dict[str, Any]]:
    """The newest ``import.manifest_applied`` entry for each document that has one (after ``after_seq``)."""
    out: dict[int, dict[str, Any]] = {}
    with transaction(rt.sessions, readonly=True) as s:
        for i in range(0, len(ids), 500):
            rows = s.execute(select(AuditEntry).where(AuditEntry.document_id.in_(ids[i:i + 500]),
                                                      AuditEntry.action == "import.manifest_applied",
                                                      AuditEntry.seq > after_seq)
                             .order_by(AuditEntry.seq)).scalars()
            for e in rows:
                out[e.document_id] = dict(e.detail, seq=e.seq)
    return out


def manifest_wishes(rt: Runtime, ids: list[int]) -> set[int]:
    """The documents whose latest recorded manifest entry asks for a status: the chunk job
    applies it (``apply_manifest``), whichever import recorded it."""
    latest: dict[int, dict[str, Any]] = {}
    with transaction(rt.sessions, readonly=True) as s:
        for i in range(0, len(ids), 500):
            for e in s.execute(select(AuditEntry).where(AuditEntry.document_id.in_(ids[i:i + 500]),
                                                        AuditEntry.action == "import.manifest")
                               .order_by(AuditEntry.seq)).scalars():
                latest[e.document_id] = e.detail.get("entry") or {}
    return {doc_id for doc_id, entry in latest.items() if entry.get("status")}
