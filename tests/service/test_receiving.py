import io
import threading

from sqlalchemy import func, select

from service import audit
from service.db import Department, Document, transaction
from service.receiving import clean_filename, receive
from service.storage import LocalStorage


def department(sessions, code="mzj") -> int:
    with transaction(sessions) as s:
        d = Department(code=code, name=f"{code} 部门")
        s.add(d)
        s.flush()
        return d.id


def test_original_stored_then_row_created(sessions, tmp_path):
    store = LocalStorage(tmp_path / "originals")
    dept = department(sessions)
    got = receive(sessions, store, department_id=dept, filename="C:\\公文\\关于防汛的通知.pdf",
                  stream=io.BytesIO(b"%PDF-1.7 body"), uploaded_by="张三")
    assert got.created and got.status == "received"
    with transaction(sessions) as s:
        doc = s.get(Document, got.document_id)
        assert doc.filename == "关于防汛的通知.pdf" and doc.size == 13
        assert store.exists(doc.sha256)
        assert audit.verify(s).entries == 1


def test_same_bytes_same_department_is_idempotent_other_department_is_new(sessions, tmp_path):
    store = LocalStorage(tmp_path / "originals")
    a, b = department(sessions, "a"), department(sessions, "b")
    first = receive(sessions, store, department_id=a, filename="x.pdf", stream=io.BytesIO(b"same"), uploaded_by="u")
    again = receive(sessions, store, department_id=a, filename="y.pdf", stream=io.BytesIO(b"same"), uploaded_by="u")
    other = receive(sessions, store, department_id=b, filename="x.pdf", stream=io.BytesIO(b"same"), uploaded_by="v")
    assert first.document_id == again.document_id and not again.created
    assert other.created and other.document_id != first.document_id


def test_concurrent_identical_uploads_make_one_document(sessions, tmp_path):
    store = LocalStorage(tmp_path / "originals")
    dept = department(sessions)
    results, errors = [], []

    def upload():
        try:
            results.append(receive(sessions, store, department_id=dept, filename="x.pdf",
                                   stream=io.BytesIO(b"%PDF concurrent"), uploaded_by="u"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r.document_id for r in results}) == 1
    with transaction(sessions) as s:
        assert s.execute(select(func.count()).select_from(Document)).scalar() == 1


def test_filenames_lose_directories_and_control_characters():
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("a\x00b\n.pdf") == "ab.pdf"
    assert clean_filename("") == "未命名文件"


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_filenames_lose_bidi_overrides_and_isolates():
    assert clean_filename("报告\u202excod.exe") == "报告xcod.exe"       # shown as 报告exe.docx otherwise
    for ch in BIDI:
        assert clean_filename(f"通知{ch}.pdf") == "通知.pdf", hex(ord(ch))
    assert clean_filename(BIDI) == "未命名文件"
    assert clean_filename("Ünïcode 文件（第2版）.pdf") == "Ünïcode 文件（第2版）.pdf"   # nothing else is touched


def test_a_name_stored_before_is_shown_without_them():
    from service.receiving import display_filename

    assert display_filename("旧\u202efdp.exe") == "旧fdp.exe" and display_filename(None) == "未命名文件"

