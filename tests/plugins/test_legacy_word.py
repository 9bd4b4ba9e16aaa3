"""Legacy Word (.doc, .wps, .rtf) through a warm LibreOffice, on real files (no mocks).

tests/data/legacy/: NNN.docx/.doc/.wps from /work/shared/scans (the .doc is LibreOffice's
Word 97 save of the .docx; the .wps the same binary under WPS's name) with their
truth.jsonl lines; 030.rtf is 030.docx saved as RTF by LibreOffice; tracked.doc is
tests/support/build_docx.py's 公文 (tracked insertion and deletion, a comment, a hidden run, a
text box, a footnote) saved as .doc by ``soffice --convert-to doc``; encrypted.doc is
000.docx stored through UNO with ``FilterName="MS Word 97", Password="secret"`` (the FIB's
fEncrypted is set; ``--convert-to``'s JSON options wrote an unencrypted file in 7.4).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plugins.converter import Converter, converter, sweep_stale, work_dir
from plugins.legacy_word import LegacyWordParser
from plugins.word import WordParser
from service.parsers import ConverterFailed, ConverterMissing, ParseContext
from service.pipeline import extract

TESTS = Path(__file__).resolve().parents[1]
from build_docx import build_long_docx  # noqa: E402
from build_ole2 import build_ole2  # noqa: E402
from text_recall import char_recall  # noqa: E402

LEGACY = TESTS / "data" / "legacy"
MSWORD, RTF = "application/msword", "application/rtf"
TRUTH = {row["file"]: row for row in map(json.loads, (LEGACY / "truth.jsonl").read_text("utf-8").splitlines())}

pytestmark = pytest.mark.usefixtures("libreoffice")


def parse(path: Path, media_type: str = MSWORD):
    return LegacyWordParser().parse(path, ParseContext(media_type=media_type, filename=path.name))


@pytest.mark.parametrize("name", ["000.doc", "000.wps", "030.doc", "030.wps", "031.doc", "030.rtf"])
def test_doc_wps_and_rtf_read_like_the_docx_they_were_saved_from(name):
    path = LEGACY / name
    doc = parse(path, RTF if name.endswith(".rtf") else MSWORD)
    stem = path.stem
    assert char_recall(TRUTH[stem]["text"], doc.body_text()) >= 0.98
    docx = WordParser().parse(LEGACY / f"{stem}.docx", ParseContext(media_type="docx"))
    assert doc.body_text() == docx.body_text()
    assert doc.properties["converted_from"] == ("rtf" if name.endswith(".rtf") else "msword")


def test_rtf_is_text_not_markup():
    text = parse(LEGACY / "030.rtf", RTF).body_text()
    assert "{\\rtf" not in text and "\\par" not in text


def test_tracked_changes_comments_and_hidden_text_of_a_doc_reach_hidden():
    doc = parse(LEGACY / "tracked.doc")
    hidden = {(h.kind, h.text) for h in doc.hidden}
    assert ("insertion", "11010519491231002X") in hidden
    assert ("deletion", "13812345678") in hidden
    assert ("comment", "请核对身份证号") in hidden
    assert ("hidden_run", "（内部备注：经办人住址为XX县XX路1号）") in hidden
    assert ("textbox", "内部审核意见：同意印发，注意隐去个人信息") in hidden
    assert any(h.kind == "footnote" for h in doc.hidden)
    assert "hidden_text_present" in {w.code for w in doc.warnings}
    assert "13812345678" not in doc.body_text()  # deleted: not in the final view


def test_through_the_sandbox_the_parse_server_owns_the_converter(tmp_path):
    # extract() runs the plugin in a limited child of the parse server; prepare() has
    # started the warm converter in the server, outside the child's limits.
    result = extract(LEGACY / "030.wps", filename="救助公示.wps")
    assert result.media_type == MSWORD and result.plugin == "legacy_word/1"
    assert char_recall(TRUTH["030"]["text"], result.text) >= 0.98
    from service.parsing import parse_server

    server = parse_server._client.proc.pid
    bridges = [pid for pid in _pids_with(f"bridge-{server}.sock") if _pids_with("soffice_bridge.py", [pid])]
    assert len(bridges) == 1
    assert _ppid(bridges[0]) == server  # a sibling of the parse children, not one's helper


@pytest.mark.parametrize("name,code", [("encrypted.doc", "encrypted"), ("truncated.doc", "corrupt_file"),
                                       ("excel.doc", "type_mismatch"), ("powerpoint.doc", "type_mismatch")])
def test_encrypted_truncated_and_renamed_files_end_coded(tmp_path, name, code):
    path = LEGACY / name
    if name == "truncated.doc":
        path = tmp_path / name
        path.write_bytes((LEGACY / "030.doc").read_bytes()[:7000])
    elif name in ("excel.doc", "powerpoint.doc"):  # an .xls / .ppt renamed .doc
        stream = "Workbook" if name == "excel.doc" else "PowerPoint Document"
        path = build_ole2(tmp_path / name, {stream: b"", "SummaryInformation": b""})
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        extract(path)
    assert getattr(info.value, "code", None) == code
    assert time.monotonic() - started < 10


def test_a_missing_converter_is_converter_missing(tmp_path):
    missing = Converter(soffice="/nonexistent/soffice", name="-missing")
    with pytest.raises(ConverterMissing) as info:
        missing.to_docx(LEGACY / "000.doc", tmp_path, ".doc")
    assert "管理员" in info.value.message


def _pids_with(argument: str, among: list[int] | None = None) -> list[int]:
    """Processes with ``argument`` in their command line (as a substring of one argument)."""
    found = []
    for pid in among if among is not None else [int(e) for e in os.listdir("/proc") if e.isdigit()]:
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(argument.encode() in arg for arg in args):
            found.append(pid)
    return found


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _soffice_of(conv: Converter) -> list[int]:
    """Pids of the soffice processes started for ``conv`` (their command line names its profile)."""
    found, marker = [], f"-env:UserInstallation=file://{conv.profile}".encode()
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if entry.isdigit() and marker in cmdline.split(b"\0"):
            found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def long_doc(tmp_path_factory):
    """A 300-page .doc (~0.5 s to convert warm), made with the warm converter from
    tests/support/build_docx.py's long .docx."""
    folder = tmp_path_factory.mktemp("long")
    docx = build_long_docx(folder / "long.docx", pages=300)
    converter().convert(docx, folder / "long.doc", "MS Word 97")
    return folder / "long.doc"


def _gone(conv: Converter, pids: list[int], seconds: float = 5.0) -> bool:
    """None of ``pids`` is among ``conv``'s soffice processes any more (a process killed
    with SIGKILL takes a moment to leave /proc)."""
    deadline = time.monotonic() + seconds
    while set(_soffice_of(conv)) & set(pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_conversion_past_its_deadline_is_killed_and_the_next_file_converts(tmp_path, long_doc):
    quick = Converter(timeout=0.05, name="-deadline")
    try:
        quick.start()
        before = _soffice_of(quick)
        started = time.monotonic()
        with pytest.raises(ConverterFailed) as info:
            quick.to_docx(long_doc, tmp_path, ".doc")
        assert info.value.code == "converter_failed" and "timeout" in info.value.detail
        assert "原件已保存" in info.value.message
        assert time.monotonic() - started < 10
        assert _gone(quick, before)  # killed
        quick.timeout = 30.0
        out = tmp_path / "again"
        out.mkdir()
        assert quick.to_docx(LEGACY / "000.doc", out, ".doc").is_file()  # a new soffice
    finally:
        quick.stop()
    assert not quick.socket.exists()


def test_a_stopped_soffice_is_replaced_before_the_next_file(tmp_path):
    # SIGSTOP: soffice no longer answers (as when it loops on a document); the bridge's
    # probe, itself under a deadline, notices and starts a new one.
    conv = Converter(timeout=30.0, name="-hang")
    try:
        conv.start()
        stopped = _soffice_of(conv)
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        assert conv.to_docx(LEGACY / "000.doc", tmp_path, ".doc").is_file()
        assert time.monotonic() - started < 20
        assert _soffice_of(conv) and _gone(conv, stopped)
    finally:
        conv.stop()


def test_a_crashed_soffice_is_restarted_for_the_next_file(tmp_path):
    conv = Converter(name="-crash")
    try:
        conv.start()
        pids = _soffice_of(conv)
        assert pids
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        out = tmp_path / "next"
        out.mkdir()
        assert conv.to_docx(LEGACY / "000.doc", out, ".doc").is_file()
        assert _soffice_of(conv) and _gone(conv, pids)
    finally:
        conv.stop()
    assert _gone(conv, pids + _soffice_of(conv)) and _soffice_of(conv) == []


def test_the_converter_goes_when_its_owner_goes():
    code = ("from pathlib import Path; from plugins.legacy_word import LegacyWordParser;"
            "from service.parsers import ParseContext;"
            f"LegacyWordParser().parse(Path({str(LEGACY / '000.doc')!r}), ParseContext(media_type={MSWORD!r}));"
            "import os; print(os.getpid())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    owner = int(done.stdout.strip())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (work_dir() / f"profile-{owner}").exists():
        time.sleep(0.2)
    assert not (work_dir() / f"profile-{owner}").exists()
    assert not (work_dir() / f"bridge-{owner}.sock").exists()


def test_what_a_dead_owner_left_is_swept(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / f"profile-{gone.pid}").mkdir()
    (tmp_path / f"bridge-{gone.pid}.sock").write_bytes(b"")
    (tmp_path / f"profile-{os.getpid()}").mkdir()
    sweep_stale(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"profile-{os.getpid()}"]


def test_a_soffice_orphaned_by_killed_owner_and_bridge_is_killed_by_the_next_owner():
    code = ("from pathlib import Path; from plugins.legacy_word import LegacyWordParser;"
            "from plugins.converter import converter; from service.parsers import ParseContext;"
            f"LegacyWordParser().parse(Path({str(LEGACY / '000.doc')!r}), ParseContext(media_type={MSWORD!r}));"
            "import os, time; print(os.getpid(), converter()._bridge.pid, flush=True); time.sleep(60)")
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    owner_pid, bridge_pid = map(int, owner.stdout.readline().split())
    orphan = Converter(name="")  # the same profile path as the owner's, for _soffice_of
    orphan.profile = work_dir() / f"profile-{owner_pid}"
    assert _soffice_of(orphan)
    os.kill(bridge_pid, signal.SIGKILL)  # as the OOM killer would
    owner.kill()
    owner.wait()
    assert _soffice_of(orphan)  # nobody left to stop it
    sweep_stale(work_dir())
    assert _gone(orphan, _soffice_of(orphan)) and not orphan.profile.exists()


def test_without_uno_a_cold_conversion_reads_the_same(tmp_path):
    cold = Converter(warm=False, name="-cold")
    assert not cold.warm
    docx = cold.to_docx(LEGACY / "030.doc", tmp_path, ".doc")
    text = WordParser().parse(docx, ParseContext(media_type="docx")).body_text()
    assert text == parse(LEGACY / "030.doc").body_text()
    assert _soffice_of(cold) == []  # nothing of it lingers
