"""The same texts in every format a county holds: does classification (and the 密级 / personal
data check) depend on the file's format?

    .venv/bin/python bench/bench_formats.py [--scans ../shared/scans]   # writes bench/results/formats.md

Data: ../shared/scans (README there): 32 real texts, each as .docx, as .doc saved by
LibreOffice, every third also as .wps, and as an image-only scanned PDF; ``truth.jsonl``
holds each text's category and whether it carries personal data or a 密级 mark.

Each file goes through the worker's path (``pipeline.process``: extract in the sandbox,
then analyze). Per format: macro-F1 of the model's top category against the truth
(labels present in the truth), how often it abstained, agreement with the .docx twin,
character recall of the extracted text against the truth, whether every ``secret`` file
was blocked and every ``pii`` file had findings, and seconds per file.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from datetime import date
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import f1_score  # noqa: E402

from service import config  # noqa: E402
from service.errors import GongkaiError  # noqa: E402
from service.classifier.store import active_classifier  # noqa: E402
from service.pipeline import process  # noqa: E402

FORMATS = (("docx", ".docx"), ("doc", ".doc"), ("wps", ".wps"), ("scan", ".pdf"))


def squeeze(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def recall(truth: str, got: str) -> float:
    """Share of the truth's characters found, in order, in what was extracted (whitespace ignored)."""
    a, b = squeeze(truth), squeeze(got)
    if not a:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(a)


def run(scans: Path) -> dict:
    settings = config.load()
    truth = [json.loads(line) for line in (scans / "truth.jsonl").read_text(encoding="utf-8").splitlines() if line]
    rows: dict[str, list[dict]] = {name: [] for name, _ in FORMATS}
    for item in truth:
        for name, suffix in FORMATS:
            path = scans / name / f"{item['file']}{suffix}"
            if not path.exists():
                continue
            began = time.perf_counter()
            try:
                processed = process(path, active_classifier(settings), settings=settings)
                extraction, analysis = processed.extraction, processed.analysis
                candidates = analysis.prediction.get("candidates") or []
                row = {"top": candidates[0]["category"] if candidates else None,
                       "chosen": analysis.prediction.get("category"),
                       "recall": recall(item["text"], extraction.text), "blocked": analysis.secrecy_blocked,
                       "pii": any(not f.get("blocking") for f in analysis.findings), "error": None}
            except GongkaiError as exc:
                row = {"top": None, "chosen": None, "recall": 0.0, "blocked": False, "pii": False, "error": exc.code}
            row.update(file=item["file"], truth=item["category"], expect=item.get("expect"),
                       seconds=time.perf_counter() - began)
            rows[name].append(row)
    return {"rows": rows}


def summarise(rows: dict[str, list[dict]]) -> list[dict]:
    docx_top = {r["file"]: r["top"] for r in rows["docx"]}
    out = []
    for name, items in rows.items():
        if not items:
            continue
        labels = sorted({r["truth"] for r in items})
        out.append({
            "format": name, "files": len(items),
            "macro_f1": f1_score([r["truth"] for r in items], [r["top"] or "（无）" for r in items],
                                 labels=labels, average="macro", zero_division=0),
            "abstained": sum(r["chosen"] is None for r in items),
            "same_as_docx": sum(r["top"] == docx_top.get(r["file"]) for r in items),
            "recall": sum(r["recall"] for r in items) / len(items),
            "secret_blocked": f"{sum(r['blocked'] for r in items if r['expect'] == 'secret')}"
                              f"/{sum(r['expect'] == 'secret' for r in items)}",
            "pii_found": f"{sum(r['pii'] for r in items if r['expect'] == 'pii')}"
                         f"/{sum(r['expect'] == 'pii' for r in items)}",
            "errors": sorted({r["error"] for r in items if r["error"]}),
            "seconds": sum(r["seconds"] for r in items) / len(items),
        })
    return out


def markdown(summary: list[dict]) -> str:
    lines = [f"# Formats: the same texts as .docx, .doc, .wps and scans ({date.today().isoformat()})", "",
             "`.venv/bin/python bench/bench_formats.py` — ../shared/scans, the worker's path "
             "(sandboxed parse, cleaning, 公文 fields, tokens, model, privacy scan).", "",
             "| format | files | macro-F1 (top category) | abstained | same top as .docx | text recall "
             "| 密级 blocked | PII found | errors | s/file |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for s in summary:
        lines.append(f"| {s['format']} | {s['files']} | {s['macro_f1']:.3f} | {s['abstained']} | {s['same_as_docx']} "
                     f"| {s['recall']:.3f} | {s['secret_blocked']} | {s['pii_found']} "
                     f"| {', '.join(s['errors']) or '—'} "
                     f"| {s['seconds']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=Path, default=ROOT.parent / "shared" / "scans")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "formats.md")
    args = parser.parse_args()
    summary = summarise(run(args.scans)["rows"])
    text = markdown(summary)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
