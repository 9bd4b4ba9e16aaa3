"""OCR of scanned PDFs, on real scans (tests/data/scans, see its README), through the same
pipeline a worker runs. OCR costs seconds per page: a handful of pages in all."""
import json
import time
import unicodedata
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from service import config
from service.db import Department, Document, transaction
from service.processing import ingest
from service.receiving import receive
from service.analysis.normalize import to_simplified
from service.parsers import ParseContext
from service.pipeline import extract
from service.analysis.privacy import RESIDENT_ID
from service.runtime import Runtime

SCANS = Path(__file__).resolve().parents[1] / "data" / "scans"
TRUTH = {r["file"]: r for r in map(json.loads, (SCANS / "truth.jsonl").read_text(encoding="utf-8").splitlines())}


def comparable(text: str) -> str:
    return "".join(to_simplified(unicodedata.normalize("NFKC", text)).split())


def cer(got: str, want: str) -> float:
    a, b = comparable(want), comparable(got)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] / len(a)


@pytest.fixture(scope="module")
def gongwen_scan():
    """028: a 公文 scan, parsed once in the sandbox as the worker does."""
    return extract(SCANS / "028.pdf")


def test_a_scanned_page_gives_its_text_marked_as_ocr(gongwen_scan):
    extraction = gongwen_scan
    assert cer(extraction.text, TRUTH["028"]["text"]) < 0.03
    codes = [w.code for w in extraction.warnings]
    assert "ocr_text" in codes and "no_text_layer" not in codes
    message = next(w.message for w in extraction.warnings if w.code == "ocr_text")
    assert message.startswith("第 1 页为扫描件，文字由 OCR 识别（平均置信度 ") and "%）" in message


def test_ocr_lines_keep_page_box_and_confidence_across_the_sandbox(gongwen_scan):
    doc = gongwen_scan.document
    width, height = pdfium.PdfDocument(str(SCANS / "028.pdf"))[0].get_size()
    assert len(doc.ocr_lines) >= 10
    for line in doc.ocr_lines:
        x0, y0, x1, y1 = line.box
        assert line.page == 1 and line.text and 0.6 <= line.confidence <= 1
        assert 0 <= x0 < x1 <= width + 1 and 0 <= y0 < y1 <= height + 1  # PDF points from the top-left
    first = doc.ocr_lines[0]
    assert first.box[1] < height / 5  # the first line read is at the top of the page
    assert [b.page for b in doc.paragraphs] == [1] * len(doc.paragraphs)


def test_a_scanned_gongwen_gives_its_title_and_doc_number(gongwen_scan):
    extraction = gongwen_scan
    assert extraction.title == "晋城市人民政府办公室关于印发晋城市地质灾害应急预案的通知"
    assert extraction.metadata["doc_number"].value == "晋市政办〔2023〕33号"
    assert extraction.metadata["issuer"].value == "晋城市人民政府办公室"


@pytest.fixture
def rt(tmp_path):
    from service.db import make_engine
    from service.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'gongkai.db'}"
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()
    runtime = Runtime.from_settings(config.load({"database_url": url, "data_dir": str(tmp_path / "data")}))
    with transaction(runtime.sessions) as s:
        s.add(Department(code="xzf", name="城关镇人民政府"))
    yield runtime
    runtime.close()


def ingest_scan(rt, name: str) -> Document:
    with open(SCANS / name, "rb") as fh:
        doc_id = receive(rt.sessions, rt.storage, department_id=1, filename=name, stream=fh,
                         uploaded_by="张三").document_id
    assert ingest(rt, doc_id) == "pending_review"
    with transaction(rt.sessions, readonly=True) as s:
        return s.get(Document, doc_id)


def test_a_secret_scan_is_blocked_by_the_secrecy_check(rt):
    doc = ingest_scan(rt, "031.pdf")
    assert doc.secrecy_blocked
    assert any(f["blocking"] for f in doc.findings)
    assert doc.gongwen["secrecy"]["value"] == "秘密"
    assert "ocr_text" in [w["code"] for w in doc.warnings]


def test_the_id_numbers_on_a_scanned_notice_are_found_and_the_lines_stored(rt):
    doc = ingest_scan(rt, "030.pdf")
    ids = {"410522197002140036", "410522198111201568", "410522196605033016"}
    found = {f["value"] for f in doc.findings if f["kind"] == RESIDENT_ID}
    assert len(found & ids) >= 2, doc.findings  # OCR may misread a digit of one; two of three at least
    assert doc.ocr_lines and {"page", "text", "box", "confidence"} <= set(doc.ocr_lines[0])
    assert any("410522" in line["text"] for line in doc.ocr_lines)  # where to black it out later


def many_page_scan(path: Path, pages: int) -> Path:
    """The three scans in turn (identical pages would all be running headers to the cleaning step)."""
    sources = [pdfium.PdfDocument(str(SCANS / f"{name}.pdf")) for name in ("031", "030", "028")]
    out = pdfium.PdfDocument.new()
    for n in range(pages):
        out.import_pages(sources[n % 3], [0])
    out.save(str(path))
    return path


def test_a_500_page_scan_ends_within_the_ocr_budget(tmp_path):
    path = many_page_scan(tmp_path / "整本扫描.pdf", 500)
    settings = config.load({"parse_ocr_cpu_seconds": 2, "parse_child_reuse": 1, "max_upload_bytes": 200 * 2**20})
    started = time.monotonic()
    extraction = extract(path, settings=settings)
    assert time.monotonic() - started < 60
    codes = {w.code: w.message for w in extraction.warnings}
    assert "ocr_text" in codes and "ocr_incomplete" in codes and "partial_text_layer" in codes
    assert "500" in codes["ocr_incomplete"] or "…" in codes["ocr_incomplete"]
    assert extraction.document.page_count == 500
    assert 1 <= len({line.page for line in extraction.document.ocr_lines}) < 20


def test_a_blank_scan_stays_without_text(tmp_path):
    from PIL import Image

    path = tmp_path / "空白.pdf"
    Image.new("L", (1240, 1754), 250).save(path, "PDF", resolution=150)
    extraction = extract(path)
    codes = [w.code for w in extraction.warnings]
    assert "no_text_layer" in codes and "ocr_text" not in codes
    assert extraction.document.ocr_lines == ()


def test_the_cli_parses_a_scan(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "service.cli", "parse", "--json", str(SCANS / "031.pdf")],
                         capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout.splitlines()[0])
    assert "森林防火" in json.dumps(record, ensure_ascii=False)
    assert "ocr_text" in json.dumps(record, ensure_ascii=False)


def test_ocr_context_is_plain_data():
    # The limits OCR obeys travel to the child with the rest of the context.
    import pickle

    context = ParseContext(media_type="application/pdf")
    assert pickle.loads(pickle.dumps(context)).limits.max_ocr_pages == 50


def page_image(name: str, page: int = 0):
    from plugins import ocr

    pdf = pdfium.PdfDocument(str(SCANS / f"{name}.pdf"))
    try:
        found = pdf[page]
        scale = ocr.render_scale(*found.get_size())
        return found.render(scale=scale, grayscale=True).to_numpy(), 1 / scale
    finally:
        pdf.close()


def test_openvino_reads_the_same_lines_as_onnx_runtime():
    """The networks run by OpenVINO (32-bit floats) give RapidOCR's own ONNX Runtime result, line for
    line, box for box: only the CPU it costs differs (bench/bench_ocr.py)."""
    from plugins import ocr

    image, scale = page_image("028")
    kept = ocr.recognise(image, scale)
    onnx = ocr.recognise(image, scale, ocr.EngineSettings(runtime="onnxruntime"))
    assert [line.text for line in kept] == [line.text for line in onnx] and len(kept) >= 10
    assert [line.box for line in kept] == [line.box for line in onnx]
    assert max(abs(a.confidence - b.confidence) for a, b in zip(kept, onnx, strict=True)) < 1e-3
    assert type(ocr.engine(ocr.EngineSettings()).text_rec.session).__name__ == "OpenVinoModel"


def test_a_table_of_contents_gets_its_dot_leaders_and_page_numbers_from_the_page():
    """008's 目录: the detector finds the words and few of the dots or page numbers; the dots are
    counted from the page and the numbers read after them, so the text is the page's."""
    from plugins import ocr

    image, scale = page_image("008-toc")
    truth = TRUTH["008-toc"]["text"]
    counted = "\n".join(line.text for line in ocr.recognise(image, scale))
    plain = "\n".join(line.text for line in ocr.recognise(image, scale, ocr.EngineSettings(count_leaders=False)))
    assert cer(plain, truth) > 0.5                 # 1,154 characters, most of them dots the detector missed
    assert cer(counted, truth) < 0.05
    lines = counted.splitlines()
    first = next(line for line in lines if line.startswith("势"))
    assert first.rstrip("0123456789").endswith("." * 70) and first.endswith("1")   # the page shows 77 dots and 1
    assert any(line.startswith("路") and line.endswith(".2") for line in lines)
    assert not any("..." in line for line in lines if line.startswith("“十四五”"))   # the title has no leader
