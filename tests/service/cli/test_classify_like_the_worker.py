"""One classify path: ``gongkai classify FILE`` says what the review queue will say.

Every file of the shared test corpus (tests/data/shared: ../shared/files and ../shared/scans,
copied — .docx, .pdf, .ofd, legacy .doc/.wps, image-only scans read by OCR) goes through the
command line (a ``gongkai classify --json`` process) and through the worker's own step
(``service.processing.process``, what an rq job runs). Suggestion, confidence, candidates,
explanation and model must be identical; a file the worker fails must fail the command with
the same code. The two run side by side (OCR is the slow part), so the test costs one pass.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from testenv import DATA

from service import config
from service.errors import GongkaiError
from service.processing import Outcome, process
from service.runtime import Runtime

SHARED = DATA / "shared"
SUFFIXES = {".docx", ".pdf", ".ofd", ".doc", ".wps"}
FILES = sorted(p for p in SHARED.rglob("*") if p.suffix.lower() in SUFFIXES)
SUGGESTION = ("category", "confidence", "candidates", "explanation", "needs_attention", "model")


def test_the_corpus_is_all_there():
    kinds = {p.suffix.lower() for p in FILES}
    assert len(FILES) == 324 and kinds == SUFFIXES


def test_gongkai_classify_and_the_worker_agree_on_every_shared_file(tmp_path, libreoffice):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    env["GONGKAI_DATA_DIR"] = str(tmp_path / "cli")
    command = subprocess.Popen([sys.executable, "-m", "service.cli", "classify", "--json", "--no-progress",
                                *map(str, FILES)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rt = Runtime.from_settings(config.load({"database_url": f"sqlite:///{tmp_path / 'worker.db'}",
                                            "data_dir": str(tmp_path / "worker")}))
    try:
        worker = {}
        for path in FILES:
            try:
                with open(path, "rb") as fh:
                    stored = rt.storage.put(fh)
            except GongkaiError as refused:   # a 0-byte file is refused at upload, before any worker
                worker[str(path)] = Outcome({}, "failed", reason=refused.code)
                continue
            worker[str(path)] = process(rt, 0, stored.sha256, path.name)
    finally:
        rt.close()
    out, err = command.communicate(timeout=1800)
    cli = {r["path"]: r for r in map(json.loads, out.splitlines())}
    assert set(cli) == set(worker), err

    failed = 0
    for path, outcome in worker.items():
        said = cli[path]
        if outcome.target == "failed":
            failed += 1
            assert said.get("error", {}).get("code") == outcome.reason, (path, said)
            continue
        assert "error" not in said, (path, said)
        stored = {"category": outcome.values["suggested_category"], "confidence": outcome.values["confidence"],
                  "candidates": outcome.values["candidates"], "explanation": outcome.values["explanation"],
                  "needs_attention": outcome.values["needs_attention"], "model": outcome.values["model_version"]}
        assert {k: said[k] for k in SUGGESTION} == stored, path
        assert said["title"] == outcome.values["title"], path
    assert failed < len(FILES) // 4    # most of the corpus parses: the comparison is not vacuous
