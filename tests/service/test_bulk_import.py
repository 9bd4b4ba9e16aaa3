"""Archive import (`gongkai import`): folders and zips through the real CLI, Redis and burst workers."""
import io
import json
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from build_docx import build_gongwen_docx
from build_pdf import build_pdf
from testenv import runtime_env
from sqlalchemy import func, select

from service import bulk_import, audit
from service.db import AuditEntry, Department, Document, transaction

DATA = Path(__file__).resolve().parents[1] / "data"
CORRUPT_PDF = DATA / "hostile" / "qpdf__bad1.pdf"


@pytest.fixture
def rt(make_runtime):
    return make_runtime(redis=True)


def gongkai_import(rt, *args: str, cwd: Path | None = None) -> tuple[int, dict, str]:
    done = subprocess.run([sys.executable, "-m", "service.cli", "import", *args, "--department", "xzf", "--json"],
                          env=runtime_env(rt), capture_output=True, text=True, timeout=600,
                          cwd=cwd or Path(__file__).resolve().parents[2], check=False)
    assert done.stdout.strip(), done.stderr[-3000:]
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def burst_worker(rt) -> None:
    done = subprocess.run([sys.executable, "-m", "service.cli", "worker", "--burst"], env=runtime_env(rt),
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def docs(rt) -> dict[str, Document]:
    with transaction(rt.sessions, readonly=True) as s:
        return {d.filename: d for d in s.execute(select(Document)).scalars()}


def doc_count(rt) -> int:
    with transaction(rt.sessions, readonly=True) as s:
        return s.execute(select(func.count()).select_from(Document)).scalar_one()


def txt(body: str) -> bytes:
    return f"关于{body}的通知\n各乡镇人民政府：\n现将{body}有关事项通知如下，请认真贯彻执行。\n".encode()


def make_folder(root: Path) -> Path:
    src = root / "src"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    build_pdf(src / "a" / "通知.pdf", [["关于开展防汛检查的通知", "各乡镇：", "请于本月底前完成防汛检查。"]])
    build_gongwen_docx(src / "a" / "公文.docx")
    (src / "b" / "说明.txt").write_bytes(txt("做好政务公开工作"))
    shutil.copy(src / "b" / "说明.txt", src / "b" / "说明（副本）.txt")  # a duplicate (sorted after)
    shutil.copy(CORRUPT_PDF, src / "bad.pdf")
    with zipfile.ZipFile(src / "old.zip", "w") as zf:  # an archive inside the folder: not expanded
        zf.writestr("x.txt", txt("旧档案"))
    return src


def make_zip(root: Path, folder: Path) -> Path:
    path = root / "archive.zip"
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("inner.txt", txt("内层文件"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("历史/通知.pdf", (folder / "a" / "通知.pdf").read_bytes())  # duplicate of the folder's
        zf.writestr("历史/新文件.txt", txt("规范行政执法"))
        zf.writestr("历史/新文件-副本.txt", txt("规范行政执法"))  # duplicate inside the zip
        zf.writestr("历史/截断.pdf", (folder / "a" / "通知.pdf").read_bytes()[:300])  # corrupt
        zf.writestr("历史/空目录/", b"")
        zf.writestr("../../evil.txt", b"zip-slip")
        zf.writestr("/etc/x.txt", b"absolute")
        zf.writestr("嵌套.zip", inner.getvalue())
        zf.writestr("bomb.txt", b"\0" * (40 * 1024 * 1024))  # ~40 KB compressed
    return path


def test_import_folder_and_zip_then_again(rt, tmp_path):
    folder = make_folder(tmp_path)
    manifest = tmp_path / "清单.csv"
    manifest.write_bytes("path,category,date,doc_number,status\n"
                         "b/说明.txt,工作动态,2019-05-06,X政办〔2019〕3号,confirmed\n".encode("gbk"))

    rc, summary, stderr = gongkai_import(rt, str(folder), "--manifest", str(manifest), "--progress")
    assert rc == 1, stderr  # the nested archive failed
    assert summary["scanned"] == 6 and summary["imported"] == 4 and summary["duplicates"] == 1
    assert summary["failed"] == {"nested_archive": 1}
    assert summary["queued"] == 4 and summary["jobs"] == 1
    assert "导入文件" in stderr and "6/6" in stderr  # the progress bar (forced: stderr is a pipe here)

    burst_worker(rt)
    by_name = docs(rt)
    assert by_name["bad.pdf"].status == "failed" and by_name["bad.pdf"].error_code
    assert by_name["通知.pdf"].status == "pending_review"
    note = by_name["说明.txt"]
    assert note.status == "approved" and note.category == "工作动态"
    assert note.gongwen["manifest"] == {"category": "工作动态", "date": "2019-05-06",
                                        "doc_number": "X政办〔2019〕3号", "status": "confirmed"}
    with transaction(rt.sessions, readonly=True) as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.document_id == note.id)).scalars().all()
        assert any(e.actor == "import:manifest" and e.detail.get("to") == "approved" for e in entries)
        assert any(e.action == "import.manifest" and e.actor == "import:cli" for e in entries)

    archive_zip = make_zip(tmp_path, folder)
    cwd = tmp_path / "work" / "here"
    cwd.mkdir(parents=True)
    rc, summary, stderr = gongkai_import(rt, str(archive_zip), cwd=cwd)
    assert rc == 1
    assert summary["imported"] == 2 and summary["duplicates"] == 2, summary
    assert summary["failed"] == {"nested_archive": 1, "resource_limit": 1, "unsafe_path": 2}, summary
    assert not list(tmp_path.rglob("evil.txt")) and not list(tmp_path.rglob("x.txt"))  # nothing extracted
    burst_worker(rt)
    by_name = docs(rt)
    assert by_name["截断.pdf"].status == "failed"
    assert by_name["新文件.txt"].status == "pending_review"
    before = doc_count(rt)
    assert before == 6

    # Again: nothing new, duplicates counted, only the failures retried.
    rc, summary, _ = gongkai_import(rt, str(folder), "--manifest", str(manifest))
    assert summary["imported"] == 0 and summary["duplicates"] == 5 and summary["retried"] == 1
    assert summary["queued"] == 1
    rc, summary, _ = gongkai_import(rt, str(archive_zip))
    assert summary["imported"] == 0 and summary["duplicates"] == 4 and summary["retried"] == 1
    burst_worker(rt)
    assert doc_count(rt) == before
    by_name = docs(rt)
    assert by_name["bad.pdf"].status == "failed" and by_name["说明.txt"].status == "approved"
    with transaction(rt.sessions, readonly=True) as s:
        retries = [e for e in s.execute(select(AuditEntry).where(AuditEntry.action == "status")).scalars()
                   if e.detail.get("reason") == "import_retry"]
        assert {e.document_id for e in retries} == {by_name["bad.pdf"].id, by_name["截断.pdf"].id}
        # The manifest was recorded once, not again on the re-run.
        assert s.execute(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action == "import.manifest")).scalar_one() == 1
        assert audit.verify(s).ok
    # Only digests under the storage root were written.
    originals = rt.storage.root
    assert {p.name for p in originals.rglob("*") if p.is_file()} == {d.sha256 for d in by_name.values()}


def test_import_wait_publishes_through_the_gates(rt, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "公开.txt").write_bytes(txt("公布年度政务公开工作要点"))
    build_gongwen_docx(src / "密件.docx")  # carries a 密级 mark and personal information
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps([
        {"path": "公开.txt", "category": "工作动态", "status": "published"},
        {"path": "密件.docx", "category": "规划计划", "status": "published"},
        {"path": "不存在.pdf", "status": "confirmed"},
    ], ensure_ascii=False), encoding="utf-8")
    worker = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], env=runtime_env(rt),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rc, summary, stderr = gongkai_import(rt, str(src), "--manifest", str(manifest), "--wait",
                                             "--timeout", "300", "--progress")
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert rc == 0, (summary, stderr)
    assert "处理文件" in stderr
    assert summary["states"] == {"published": 1, "approved": 1}, summary
    assert summary["manifest"] == {"published": 1, "publish_refused": 1}
    assert summary["manifest_unmatched"] == ["不存在.pdf"]
    by_name = docs(rt)
    assert by_name["公开.txt"].status == "published" and by_name["公开.txt"].index_number
    secret = by_name["密件.docx"]
    assert secret.status == "approved" and secret.category == "规划计划"
    assert [r["document_id"] for r in summary["publish_refused"]] == [secret.id]


def test_bad_manifest_and_unknown_department_are_usage_errors(rt, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(txt("测试"))
    bad = tmp_path / "m.csv"
    bad.write_text("path,category\na.txt,不存在的分类\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "service.cli", "import", str(src), "--manifest", str(bad),
                           "--department", "xzf"],
                          env=runtime_env(rt), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "不存在的分类" in done.stderr
    done = subprocess.run([sys.executable, "-m", "service.cli", "import", str(src), "--department", "nope"],
                          env=runtime_env(rt), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "没有部门" in done.stderr
    assert doc_count(rt) == 0


@pytest.mark.parametrize("name,expected", [
    ("a/b.txt", "a/b.txt"), ("./a//b.txt", "a/b.txt"), ("a\\b.txt", "a/b.txt"),
    ("../evil.txt", None), ("a/../../evil.txt", None), ("/etc/passwd", None), ("C:/x.txt", None),
    ("\\\\server\\share\\x.txt", None),
])
def test_safe_member_path(name, expected):
    assert bulk_import.safe_member_path(name) == expected


def test_gbk_entry_names_are_decoded():
    info = zipfile.ZipInfo("通知.txt".encode("gbk").decode("cp437"))
    assert bulk_import.entry_name(info) == "通知.txt"


def test_large_entry_is_streamed_with_bounded_memory(tmp_path, monkeypatch):
    """With the ratio check off, a 64 MB run of zeros streams into storage without being held in memory."""
    from service.storage import LocalStorage

    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros.txt", "w") as out:
        for _ in range(64):
            out.write(b"\0" * (1024 * 1024))
    monkeypatch.setattr(bulk_import, "MAX_RATIO", 10 ** 9)
    storage = LocalStorage(tmp_path / "originals")
    with zipfile.ZipFile(path) as zf:
        (item,) = list(bulk_import.iter_zip(zf, max_entry_bytes=128 * 1024 * 1024))
        tracemalloc.start()
        with item.open() as stream:
            stored = storage.put(stream, max_bytes=128 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert stored.size == 64 * 1024 * 1024
    assert peak < 16 * 1024 * 1024, peak
    # And a declared size over the upload cap is refused without reading.
    with zipfile.ZipFile(path) as zf:
        (item,) = list(bulk_import.iter_zip(zf, max_entry_bytes=1024 * 1024))
    assert item.error[0] == "file_too_large"


def test_a_lying_size_field_ends_as_a_failure(tmp_path):
    """An entry whose header claims fewer bytes than it inflates to: zipfile stops at the claim, the CRC fails."""
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", b"A" * 100_000)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
    size = info.file_size.to_bytes(4, "little")
    small = (1000).to_bytes(4, "little")
    data = data.replace(size, small)  # local header and central directory
    path.write_bytes(bytes(data))
    from service.storage import LocalStorage

    storage = LocalStorage(tmp_path / "originals")
    with zipfile.ZipFile(path) as zf:
        (item,) = list(bulk_import.iter_zip(zf, max_entry_bytes=10 ** 6))
        with pytest.raises(bulk_import.ItemFailed) as exc, item.open() as stream:
            storage.put(stream)
    assert exc.value.code in {"corrupt_file", "resource_limit"}
    assert not list(storage.iter_digests())


def test_wait_settles_a_manifest_document_only_once_its_outcome_is_recorded(rt, tmp_path):
    """Between the manifest's confirm (→ approved) and its publish, a waiting import must not
    count the document as settled: it did, under load, and reported 'approved'."""
    from service import review
    from service.cli.import_files import _settled
    from service.processing import ingest
    from service.taxonomy import from_settings

    src = tmp_path / "src"
    src.mkdir()
    (src / "公开.txt").write_bytes(txt("公布年度政务公开工作要点"))
    wish = {"category": "工作动态", "status": "published"}
    with transaction(rt.sessions, readonly=True) as s:
        dept = s.execute(select(Department.id)).scalar_one()
    result = bulk_import.import_items(rt, bulk_import.iter_folder(src), department_id=dept, uploaded_by="import:test",
                                  manifest={"公开.txt": wish})
    (doc_id,) = result.to_queue
    assert ingest(rt, doc_id) == "pending_review"
    assert _settled(rt, result, [doc_id]) == {}          # the manifest has yet to be applied
    with transaction(rt.sessions) as s:                  # the chunk job's first step: confirm
        review.confirm(s, s.get(Document, doc_id), bulk_import.MANIFEST_ACTOR, from_settings(rt.settings), "工作动态")
    assert _settled(rt, result, [doc_id]) == {}          # approved, but publishing is still to come
    with transaction(rt.sessions) as s:                  # second step: publish, then the outcome entry
        review.publish(s, s.get(Document, doc_id), bulk_import.MANIFEST_ACTOR, automatic_only=True)
    bulk_import._outcome(rt, doc_id, "published")
    assert _settled(rt, result, [doc_id]) == {doc_id: "published"}


def _one_wished_document(rt, tmp_path, wish: dict) -> tuple[bulk_import.ImportResult, int]:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "公开.txt").write_bytes(txt("公布年度政务公开工作要点"))
    with transaction(rt.sessions, readonly=True) as s:
        dept = s.execute(select(Department.id)).scalar_one()
    result = bulk_import.import_items(rt, bulk_import.iter_folder(src), department_id=dept, uploaded_by="import:test",
                                  manifest={"公开.txt": wish})
    return result, result.to_queue[0]


def test_wait_reads_outcomes_before_states_so_a_job_finishing_between_them_counts_as_published(rt, tmp_path,
                                                                                                 monkeypatch):
    """`gongkai import --wait` said 4,722 published of 4,730: it read a document's state ('approved',
    between the manifest's confirm and publish), then the outcomes, which the job wrote meanwhile."""
    from service import review
    from service.cli import import_files as command
    from service.processing import ingest
    from service.taxonomy import from_settings

    result, doc_id = _one_wished_document(rt, tmp_path, {"category": "工作动态", "status": "published"})
    assert ingest(rt, doc_id) == "pending_review"
    with transaction(rt.sessions) as s:                  # the chunk job's first step: confirm (→ approved)
        review.confirm(s, s.get(Document, doc_id), bulk_import.MANIFEST_ACTOR, from_settings(rt.settings), "工作动态")
    real = bulk_import.manifest_outcomes

    def job_finishes_now(rt_, ids, *args, **kwargs):     # ... and it publishes while the import reads
        if doc_id in ids and not real(rt_, [doc_id]):
            with transaction(rt.sessions) as s:
                review.publish(s, s.get(Document, doc_id), bulk_import.MANIFEST_ACTOR, automatic_only=True)
            bulk_import._outcome(rt, doc_id, "published")
        return real(rt_, ids, *args, **kwargs)

    monkeypatch.setattr(bulk_import, "manifest_outcomes", job_finishes_now)
    assert command._settled(rt, result, [doc_id]) == {doc_id: "published"}


def test_an_earlier_imports_outcome_does_not_settle_this_ones_document(rt, tmp_path):
    from service.cli import import_files as command
    from service.processing import ingest

    first, doc_id = _one_wished_document(rt, tmp_path, {"category": "不存在的分类", "status": "published"})
    assert ingest(rt, doc_id) == "pending_review"
    assert bulk_import.apply_manifest(rt, doc_id) == "not_confirmed"        # the first import's outcome
    again, same = _one_wished_document(rt, tmp_path, {"category": "工作动态", "status": "published"})
    assert same == doc_id and again.to_queue == [doc_id]              # pending_review with a wish: queued again
    assert command._settled(rt, again, [doc_id]) == {}                # its new job has not run yet
    assert bulk_import.apply_manifest(rt, doc_id) == "published"
    assert command._settled(rt, again, [doc_id]) == {doc_id: "published"}


def test_the_summary_counts_states_as_they_are_at_the_end(rt, tmp_path):
    from service.cli import import_files as command

    result, doc_id = _one_wished_document(rt, tmp_path, {"category": "工作动态", "status": "published"})
    with transaction(rt.sessions) as s:
        s.get(Document, doc_id).status = "published"
    summary = command._summary(rt, result, {doc_id: "approved"}, [])   # seen settled while still moving
    assert summary["states"] == {"published": 1}


def test_a_real_import_wait_reports_what_the_database_holds(rt, tmp_path):
    """30 files, all to be published by the manifest, two workers: the summary matches the documents."""
    src = tmp_path / "src"
    src.mkdir()
    entries = []
    for n in range(30):
        (src / f"通知{n:02d}.txt").write_bytes(txt(f"第{n}次防汛检查工作安排"))
        entries.append({"path": f"通知{n:02d}.txt", "category": "工作动态", "status": "published"})
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    workers = [subprocess.Popen([sys.executable, "-m", "service.cli", "worker"], env=runtime_env(rt),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        rc, summary, stderr = gongkai_import(rt, str(src), "--manifest", str(manifest), "--wait", "--timeout", "300",
                                             "--chunk-size", "2")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    assert rc == 0, (summary, stderr)
    with transaction(rt.sessions, readonly=True) as s:
        held = dict(s.execute(select(Document.status, func.count()).group_by(Document.status)).all())
    assert held == {"published": 30} and summary["states"] == held and summary["unfinished"] == 0, summary
    assert summary["manifest"] == {"published": 30}


def test_the_manifest_publishes_only_what_the_automatic_checks_cleared(rt, tmp_path):
    """先审查、后公开: a scan (pages nobody has read) and a file with personal information are for a
    person to judge; the import refuses to publish them with secrecy_review_required and leaves them
    approved. A file with nothing to judge is published, its 保密审查 recorded automatically."""
    from build_pdf import build_scanned_pdf
    from service import secrecy_review
    from service.processing import ingest

    src = tmp_path / "src"
    src.mkdir()
    (src / "公开.txt").write_bytes(txt("公布年度政务公开工作要点"))
    (src / "名单.txt").write_bytes(txt("公示名单") + "联系人：王五，联系电话：13912345678。\n".encode())
    build_scanned_pdf(src / "扫描件.pdf", 2)
    with transaction(rt.sessions, readonly=True) as s:
        dept = s.execute(select(Department.id)).scalar_one()
    wish = {"category": "工作动态", "status": "published"}
    result = bulk_import.import_items(rt, bulk_import.iter_folder(src), department_id=dept, uploaded_by="import:test",
                                  manifest={name: wish for name in ("公开.txt", "名单.txt", "扫描件.pdf")})
    outcomes = {}
    for doc_id in result.to_queue:
        assert ingest(rt, doc_id) == "pending_review"
        outcomes[doc_id] = bulk_import.apply_manifest(rt, doc_id)
    by_name = docs(rt)
    assert {name: outcomes[d.id] for name, d in by_name.items()} == {
        "公开.txt": "published", "名单.txt": "publish_refused", "扫描件.pdf": "publish_refused"}
    recorded = bulk_import.manifest_outcomes(rt, list(outcomes))
    for name in ("名单.txt", "扫描件.pdf"):
        assert by_name[name].status == "approved"
        assert recorded[by_name[name].id]["code"] == "secrecy_review_required", recorded
    with transaction(rt.sessions, readonly=True) as s:
        (auto,) = secrecy_review.reviews_of(s, by_name["公开.txt"].id)
        assert (auto.reviewer, auto.automatic, auto.result) == (bulk_import.MANIFEST_ACTOR, True, "cleared")
        assert secrecy_review.reviews_of(s, by_name["扫描件.pdf"].id) == []
