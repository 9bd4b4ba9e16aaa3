"""Progress bars of the long commands (`service/cli/progress.py`): on stderr with a count, rate and
ETA when forced on (or when stderr is a terminal), never on stdout, which stays the same."""
from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from build_pdf import build_pdf

from service import config
from service.cli import main
from service.db import Department, transaction
from service.receiving import receive
from service.runtime import Runtime
from service.classifier.training_data import read_jsonl, write_jsonl

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data"
TRAINING = ROOT / "models" / "training" / "documents.jsonl"
FAST_CANDIDATES = ("linear_svc_c1", "logistic_regression_c30")
SMALL_PER_SPLIT = {"train": 12, "validation": 4, "test": 4}


def training_records(split: str) -> list[dict]:
    return [r for r in read_jsonl(TRAINING) if r["split"] == split]


def small_training_set(per_split: dict[str, int] = SMALL_PER_SPLIT) -> list[dict]:
    """The first N records of each (split, category), as tests/service/classifier_helpers.py takes them."""
    taken: dict[tuple[str, str], int] = {}
    out = []
    for r in read_jsonl(TRAINING):
        key = (r["split"], r["category"])
        if taken.get(key, 0) < per_split.get(r["split"], 0):
            taken[key] = taken.get(key, 0) + 1
            out.append(r)
    return out


def gongkai(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=env)


def final_count(stderr: str, desc: str) -> tuple[int, int]:
    """The last ``done/total`` tqdm drew for the bar named ``desc``, with rate and ETA beside it."""
    frames = re.findall(rf"{re.escape(desc)}: +\d+%\|[^|]*\| (\d+)/(\d+) \[\d\d:\d\d<\d\d:\d\d, +[\d.?]+\S*/s\]",
                        stderr)
    assert frames, f"no {desc} bar with a count, rate and ETA on stderr: {stderr[-1500:]!r}"
    done, total = frames[-1]
    return int(done), int(total)


def same_stdout_with_and_without_bar(*args: str, env: dict | None = None, no_progress: bool = False) -> tuple[str, str]:
    """Run with ``--progress`` and without (stderr is a pipe, so the default shows none) — and
    with ``--no-progress`` when asked; the stdouts must be identical. Returns (stdout, stderr
    of the forced run)."""
    runs = [gongkai(*args, "--progress", env=env), gongkai(*args, env=env)]
    if no_progress:
        runs.append(gongkai(*args, "--no-progress", env=env))
    forced = runs[0]
    assert {r.returncode for r in runs} == {forced.returncode}
    assert all(r.stdout == forced.stdout for r in runs) and forced.stdout
    assert all("|" not in r.stderr for r in runs[1:])  # no bar unless asked or on a terminal
    return forced.stdout, forced.stderr


# -- parse and classify: one step per file ------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[str]:
    tmp = tmp_path_factory.mktemp("files")
    pdf = build_pdf(tmp / "通知.pdf", [["关于做好防汛工作的通知", "各乡镇人民政府：", "现将有关事项通知如下。"]])
    return [str(pdf), str(DATA / "docx" / "libreoffice_conversion.docx"), str(DATA / "hostile" / "pdf_renamed.docx")]


def test_parse_progress_on_stderr_json_lines_unchanged(files):
    out, err = same_stdout_with_and_without_bar("parse", "--json", *files, no_progress=True)
    assert final_count(err, "解析文件") == (3, 3)
    assert [json.loads(line)["path"] for line in out.splitlines()] == files


def test_parse_bar_shows_by_itself_on_a_terminal(files):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a 120-column terminal
    try:
        done = subprocess.run([sys.executable, "-m", "service.cli", "parse", "--json", *files], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=follower, timeout=300)
        os.close(follower)
        follower = -1
        err = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    assert final_count(err.decode(), "解析文件") == (3, 3)
    assert len(done.stdout.decode().splitlines()) == 3


def test_classify_progress_on_stderr_json_lines_unchanged(files):
    out, err = same_stdout_with_and_without_bar("classify", "--json", *files)
    assert final_count(err, "分类文件") == (3, 3)
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in records] == files and records[2]["error"]["code"] == "type_mismatch"


# -- evaluate: one step per chunk of records ----------------------------------------------------
def test_evaluate_progress_and_the_same_report_as_one_batch(tmp_path):
    from service.classifier import evaluation, store as modelstore

    test_records = [{"title": r.get("title"), "text": r["text"], "category": r["category"]}
                    for r in training_records("test")]
    data = tmp_path / "eval.jsonl"
    write_jsonl(test_records, data)
    out, err = same_stdout_with_and_without_bar("evaluate", "--data", str(data), "--json")
    assert final_count(err, "评估") == (len(test_records), len(test_records))
    # The bar classifies in chunks; the figures are those of a single call over every record.
    classifier = modelstore.store_from_settings(config.load()).load(None)
    whole = evaluation.evaluate([r["category"] for r in test_records],
                                classifier.predict_texts([(r["title"], r["text"]) for r in test_records],
                                                         explain=False), classifier.taxonomy.names)
    whole["model"] = classifier.name
    assert json.loads(out) == json.loads(json.dumps(whole, ensure_ascii=False))


# -- train: one step per model fit ---------------------------------------------------------------
def test_train_progress_counts_fits_and_the_summary_is_unchanged(tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    write_jsonl(small_training_set(), data)
    summaries = {}
    for flag in ("--progress", "--no-progress"):
        out = tmp_path / flag.strip("-")
        assert main(["train", "--data", str(data), "--out", str(out), "--version", "2026.01.01-1",
                     "--candidates", ",".join(FAST_CANDIDATES), "--json", flag]) == 0
        captured = capsys.readouterr()
        (line,) = captured.out.splitlines()
        summaries[flag] = {k: v for k, v in json.loads(line).items() if k != "path"}
        if flag == "--progress":
            done, total = final_count(captured.err, "训练")
            assert done == total and total > len(FAST_CANDIDATES) + 2  # every CV fold, then two fits
            assert "chose " in captured.err  # the messages still reach stderr, between the bar's frames
        else:
            assert "|" not in captured.err and "chose " in captured.err
    assert summaries["--progress"] == summaries["--no-progress"]


# -- check and audit verify: one step per original / per batch of entries -----------------------
@pytest.fixture
def env(tmp_path) -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    e["GONGKAI_DATA_DIR"] = str(tmp_path / "data")
    assert gongkai("db", "upgrade", env=e).returncode == 0
    rt = Runtime.from_settings(config.load({"data_dir": str(tmp_path / "data")}, environ={}))
    with transaction(rt.sessions) as s:
        s.add(Department(code="a", name="甲"))
        s.add(Department(code="b", name="乙"))
    for i in range(5):
        receive(rt.sessions, rt.storage, department_id=1, filename=f"{i}.txt", stream=io.BytesIO(f"文件{i}".encode()),
                uploaded_by="t")
    # The same bytes in another department: a second document, the same original (hashed once).
    receive(rt.sessions, rt.storage, department_id=2, filename="0.txt", stream=io.BytesIO("文件0".encode()),
            uploaded_by="t")
    rt.close()
    return e


def test_check_progress_counts_originals_and_json_is_unchanged(env):
    out, err = same_stdout_with_and_without_bar("check", "--json", env=env, no_progress=True)
    assert final_count(err, "校验原件") == (5, 5)
    report = json.loads(out)
    assert report == {"documents": 6, "missing": [], "mismatched": [], "orphans": []}


def test_audit_verify_progress_counts_entries_and_output_is_unchanged(env):
    out, err = same_stdout_with_and_without_bar("audit", "verify", env=env)
    assert final_count(err, "校验审计日志") == (6, 6)  # six documents received
    assert "6 条" in out


def test_progress_and_no_progress_exclude_each_other():
    done = gongkai("parse", "--progress", "--no-progress", "x.pdf")
    assert done.returncode == 2 and "not allowed with" in done.stderr
