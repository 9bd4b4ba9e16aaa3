"""`gongkai parse` run as a user runs it: a real process, real files."""
import json
import os
import subprocess
import sys
from pathlib import Path


from build_pdf import build_pdf

DATA = Path(__file__).resolve().parents[2] / "data"
# Every code a file may end with; anything else (or a traceback) is a failure.
KNOWN_CODES = {"empty_file", "file_too_large", "unsupported_type", "type_mismatch", "ambiguous_type",
               "legacy_office_format", "encrypted", "corrupt_file", "unsafe_content", "resource_limit",
               "unknown_encoding", "parser_failed", "converter_missing", "converter_failed"}
RECORD_KEYS = {"path", "sha256", "media_type", "plugin", "title", "text", "pages", "tables", "metadata",
               "hidden_text", "warnings"}

# Peak RSS from VmHWM: getrusage's ru_maxrss also counts what the forking test process had
# resident before exec, which says nothing about the command itself.
RUNNER = """
import re, sys
from service.cli import main
code = main(sys.argv[1:])
peak = re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)
sys.stderr.write("PEAK_RSS_KB=%s\\n" % peak)
sys.exit(code)
"""


def gongkai(*args: str, timeout: int = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def records(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_json_lines_for_a_parsed_file(tmp_path):
    pdf = build_pdf(tmp_path / "通知.pdf", [["关于做好防汛工作的通知", "各乡镇人民政府：", "现将有关事项通知如下。"]])
    result = gongkai("parse", "--json", str(pdf))
    assert result.returncode == 0, result.stderr
    (record,) = records(result.stdout)
    assert record.keys() >= RECORD_KEYS
    assert record["media_type"] == "application/pdf" and record["plugin"] == "pdf/1"
    assert "现将有关事项通知如下" in record["text"] and record["pages"] == 1
    assert len(record["sha256"]) == 64


def test_exit_status_one_when_any_file_fails_and_errors_are_coded(tmp_path, data_dir):
    good = tmp_path / "a.txt"
    good.write_text("关于开展安全生产检查的通知", encoding="utf-8")
    result = gongkai("parse", "--json", str(good), str(data_dir / "hostile" / "pdf_renamed.docx"),
                     str(tmp_path / "missing.pdf"))
    assert result.returncode == 1
    ok, mismatch, missing = records(result.stdout)
    assert "error" not in ok
    assert mismatch["error"]["code"] == "type_mismatch" and "PDF" in mismatch["error"]["message"]
    assert missing["error"]["code"] == "file_not_found"
    assert "Traceback" not in result.stdout + result.stderr


def test_doc_wps_and_rtf_parse_from_the_command_line(libreoffice):
    legacy = DATA / "legacy"
    files = [legacy / "030.doc", legacy / "030.wps", legacy / "030.rtf", legacy / "encrypted.doc"]
    result = gongkai("parse", "--json", *map(str, files))
    out = {Path(r["path"]).name: r for r in records(result.stdout)}
    for name in ("030.doc", "030.wps", "030.rtf"):
        assert out[name]["plugin"] == "legacy_word/1" and "临时救助" in out[name]["text"]
    assert out["030.rtf"]["media_type"] == "application/rtf"
    assert out["encrypted.doc"]["error"]["code"] == "encrypted"
    assert result.returncode == 1


def test_readable_summary_without_json(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text("关于开展安全生产检查的通知\n各乡镇人民政府：", encoding="gbk")
    result = gongkai("parse", str(good))
    assert result.returncode == 0
    assert result.stdout.startswith("✓") and "text/1" in result.stdout


def all_test_files() -> list[Path]:
    files = [p for sub in ("pdf", "docx", "hostile") for p in sorted((DATA / sub).glob("*"))
             if p.suffix in {".pdf", ".docx"}]
    assert len(files) > 100
    return files


def test_every_real_and_hostile_file_ends_parsed_or_coded_without_traceback():
    files = all_test_files()
    # Six of these files have scanned pages; OCR of the first one each is enough here (seconds per page).
    result = gongkai("parse", "--json", *map(str, files), env={"GONGKAI_PARSE_OCR_MAX_PAGES": "1"})
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr
    out = records(result.stdout)
    assert [r["path"] for r in out] == [str(f) for f in files]
    codes = {r["error"]["code"] for r in out if "error" in r}
    assert codes <= KNOWN_CODES
    by_name = {Path(r["path"]).name: r for r in out if "hostile" in r["path"]}
    assert by_name["polyglot_pdf_docx.pdf"]["error"]["code"] == "ambiguous_type"
    assert by_name["pdf_renamed.docx"]["error"]["code"] == "type_mismatch"
    assert by_name["ole2_header.docx"]["error"]["code"] == "corrupt_file"  # a bare OLE2 header
    assert by_name["pdfminer__rc4-40.pdf"]["error"]["code"] == "encrypted"
    assert by_name["zipbomb_300MB.docx"]["error"]["code"] == "resource_limit"
    assert by_name["xxe.docx"]["error"]["code"] == "unsafe_content"
    peak_kb = int(result.stderr.rsplit("PEAK_RSS_KB=", 1)[1].split()[0])
    assert peak_kb < 300 * 1024, f"parent peak RSS {peak_kb} KB; stderr: {result.stderr[-3000:]}"


def test_every_ofd_parses_or_is_coded_through_the_sandbox():
    files = sorted((DATA / "ofd").glob("*.ofd"))
    result = gongkai("parse", "--json", *map(str, files))
    assert "Traceback" not in result.stdout + result.stderr
    out = {Path(r["path"]).name: r for r in records(result.stdout)}
    assert len(out) == 47
    assert {r["error"]["code"] for r in out.values() if "error" in r} == {"empty_file"}  # the 0-byte one
    gongwen = out["converter-n.ofd"]
    assert gongwen["media_type"] == "application/ofd" and gongwen["plugin"] == "ofd/1"
    assert gongwen["title"] == "关于同意张阿三同志辞职的批复"
    assert gongwen["metadata"]["doc_number"]["value"] == "路卫发〔2011〕76号"
    # photos of a poster: OCR reads its few words, and the pages still ask for a person
    assert [w["code"] for w in out["converter-containsJPEG.ofd"]["warnings"]] == ["ocr_text", "no_text_layer"]
