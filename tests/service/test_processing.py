"""Ingest end to end in-process: storage → pipeline → analysis → database, on both databases."""
import io
from pathlib import Path

import pytest

from build_docx import build_gongwen_docx
from build_pdf import build_pdf
from service import audit
from service.db import Document, transaction
from service.processing import ingest
from service.receiving import receive

DATA = Path(__file__).resolve().parents[1] / "data"


def upload(rt, path: Path, filename: str | None = None) -> int:
    with open(path, "rb") as fh:
        return receive(rt.sessions, rt.storage, department_id=1, filename=filename or path.name, stream=fh,
                       uploaded_by="张三").document_id


def load(rt, doc_id) -> Document:
    with transaction(rt.sessions, readonly=True) as s:
        return s.get(Document, doc_id)


def test_a_public_notice_reaches_review_with_everything_filled_in(rt, tmp_path):
    lines = ["XX县人民政府办公室文件", "长政办发〔2024〕3号", "XX县人民政府办公室关于做好2024年",
             "政府信息公开工作的通知", "各乡镇人民政府，县政府各部门：",
             "为深入贯彻《中华人民共和国政府信息公开条例》，现将有关事项通知如下。",
             "一、加强主动公开。各单位要及时公开规范性文件、政策解读和重点领域信息。",
             "XX县人民政府办公室", "2024年3月1日"]
    doc_id = upload(rt, build_pdf(tmp_path / "通知.pdf", [lines]))
    assert ingest(rt, doc_id) == "pending_review"
    doc = load(rt, doc_id)
    assert doc.plugin == "pdf/1" and doc.pages == 1 and "主动公开" in doc.text
    assert doc.gongwen["doc_number"]["value"] == "长政办发〔2024〕3号"
    assert doc.title == "XX县人民政府办公室关于做好2024年政府信息公开工作的通知"
    assert doc.tokens["title"] and doc.tokens["body"]  # stored so reclassification never re-segments
    assert doc.model_version and doc.candidates and len(doc.candidates) >= 3
    assert doc.findings == [] and not doc.secrecy_blocked
    with transaction(rt.sessions, readonly=True) as s:
        assert audit.verify(s).ok


def test_a_foreign_language_file_reaches_review_unselected_with_the_reason(rt):
    doc_id = upload(rt, DATA / "docx" / "paragraphs_and_tables.docx")
    assert ingest(rt, doc_id) == "pending_review"
    doc = load(rt, doc_id)
    assert doc.needs_attention and doc.suggested_category is None
    assert doc.explanation["abstained"]["code"] == "mostly_not_chinese"


def test_ingest_is_idempotent(rt, tmp_path):
    doc_id = upload(rt, build_pdf(tmp_path / "a.pdf", [["关于开展安全生产大检查的通知", "各乡镇："]]))
    assert ingest(rt, doc_id) == "pending_review"
    attempts = load(rt, doc_id).attempts
    assert ingest(rt, doc_id) == "pending_review"
    assert load(rt, doc_id).attempts == attempts


def test_secret_document_with_pii_in_tracked_changes(rt, tmp_path):
    doc_id = upload(rt, build_gongwen_docx(tmp_path / "机密.docx"))
    assert ingest(rt, doc_id) == "pending_review"
    doc = load(rt, doc_id)
    assert doc.secrecy_blocked
    kinds = {f["kind"] for f in doc.findings}
    assert {"secrecy", "resident_id", "mobile"} <= kinds
    assert any(f["kind"] == "resident_id" and f["source"] == "insertion" for f in doc.findings)


def test_bad_file_ends_failed_with_a_code_and_the_original_kept(rt):
    doc_id = upload(rt, DATA / "hostile" / "pdf_renamed.docx")
    assert ingest(rt, doc_id) == "failed"
    doc = load(rt, doc_id)
    assert doc.error_code == "type_mismatch" and "PDF" in doc.error_message
    assert rt.storage.exists(doc.sha256)


def test_missing_original_is_an_infrastructure_error_not_a_final_state(rt):
    doc_id = receive(rt.sessions, rt.storage, department_id=1, filename="a.txt",
                     stream=io.BytesIO("关于的通知".encode()), uploaded_by="x").document_id
    rt.storage.local_path(load(rt, doc_id).sha256).unlink()
    with pytest.raises(FileNotFoundError):
        ingest(rt, doc_id)
    assert load(rt, doc_id).status == "processing"  # the sweeper will queue it again


def test_a_chunk_settles_each_document_and_claims_the_next_in_one_transaction(rt, tmp_path, monkeypatch):
    """ingest_chain: n documents in n + 1 write transactions, every transition audited, and one
    document's trouble (parse error, missing original, a failing write) never costs the others."""
    from sqlalchemy import select

    from service import processing as ingest_module
    from service.db import AuditEntry
    from service.processing import ingest_chain

    def text_doc(i):
        body = f"关于做好第{i}批政府信息公开工作的通知\n各乡镇人民政府：\n现将第{i}项有关事项通知如下。".encode()
        return receive(rt.sessions, rt.storage, department_id=1, filename=f"{i}.txt", stream=io.BytesIO(body),
                       uploaded_by="x").document_id

    ids = [text_doc(i) for i in range(6)]
    bad = upload(rt, DATA / "hostile" / "pdf_renamed.docx")
    lost = text_doc(99)
    rt.storage.local_path(load(rt, lost).sha256).unlink()
    done = text_doc(100)
    assert ingest(rt, done) == "pending_review"
    chunk = [ids[0], bad, ids[1], lost, ids[2], done, ids[3], ids[4], ids[5]]

    writes = []
    real_write = ingest_module._write

    def counting_write(rt_, steps):
        writes.append(1)
        if len(writes) == 6:  # one combined write fails: both documents are written on their own
            raise RuntimeError("connection lost")
        return real_write(rt_, steps)

    monkeypatch.setattr(ingest_module, "_write", counting_write)
    settled = []
    outcomes = ingest_chain(rt, chunk, settled=lambda doc_id, status: settled.append(doc_id))
    assert outcomes == {**{i: "pending_review" for i in ids}, bad: "failed", lost: "error", done: "pending_review"}
    assert lost not in settled and set(settled) == set(chunk) - {lost}
    assert len(writes) <= len(chunk) + 1 + 3  # + the failed combined write, its two retries, and the claim after `lost`
    assert load(rt, lost).status == "processing"  # the sweeper queues it again
    with transaction(rt.sessions, readonly=True) as s:
        assert audit.verify(s).ok
        moves = s.execute(select(AuditEntry.document_id, AuditEntry.detail).where(AuditEntry.action == "status")
                          .order_by(AuditEntry.seq)).all()
    for doc_id in ids + [bad]:
        steps = [(d["from"], d["to"]) for i, d in moves if i == doc_id]
        assert steps == [("received", "processing"), ("processing", "failed" if doc_id == bad else "pending_review")]
    assert [(d["from"], d["to"]) for i, d in moves if i == done] == [("received", "processing"),
                                                                     ("processing", "pending_review")]


def test_ingest_commits_without_waiting_for_the_disk_only_in_its_own_transactions(rt, tmp_path, monkeypatch):
    """Ingest's writes (re-derivable from the original) do not wait for an fsync per commit:
    PostgreSQL synchronous_commit=off by SET LOCAL, so the pooled connection goes back to
    synchronous commits for uploads and reviews; SQLite's WAL with synchronous=NORMAL."""
    from sqlalchemy import text

    import service.processing as I

    postgres = rt.engine.dialect.name == "postgresql"
    setting = text("SHOW synchronous_commit" if postgres else "PRAGMA synchronous")
    seen = []
    settle = I._settle

    def watching(conn, *args):
        seen.append(conn.execute(setting).scalar())
        return settle(conn, *args)

    monkeypatch.setattr(I, "_settle", watching)
    doc_id = upload(rt, build_pdf(tmp_path / "a.pdf",
                                  [["关于开展安全生产检查的通知", "各单位：请于本月底前完成自查。"]]))
    assert ingest(rt, doc_id) == "pending_review"
    assert seen == (["off"] if postgres else [1])  # SQLite: 1 = NORMAL
    with rt.engine.begin() as conn:  # the same pool, the next transaction: the database's default again
        assert conn.execute(setting).scalar() == ("on" if postgres else 1)
