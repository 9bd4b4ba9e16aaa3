"""密级 detection over the whole shared corpus: the new grammar against the detector before it.

    .venv/bin/python bench/bench_marks.py [CORPUS]    # writes bench/results/marks.md

CORPUS defaults to ../shared/corpus/documents.jsonl beside the repository (777 real public
documents: none may carry a 密级 mark, since all were published). Each document's title
and text go through ``privacy.scan_document`` as paragraphs (one per line), as a parsed
upload would. The detector before issue #21 item 2 is ``service/analysis/privacy.py`` at commit
``BASELINE``, loaded from git. Every secrecy or internal finding either detector makes is
listed with its context, so each can be judged; the time per detector is given too. The
labelled set goes through both detectors as well.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.analysis import privacy  # noqa: E402
from service.parsers import HiddenText, Paragraph, ParsedDocument, Table  # noqa: E402

BASELINE = "bb11014"
OUT = ROOT / "bench" / "results" / "marks.md"
LABELLED = ROOT / "tests" / "data" / "secrecy_marks.jsonl"


def _baseline_module():
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{BASELINE}:service/analysis/privacy.py"],
                            check=True, capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("privacy_baseline", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules["privacy_baseline"] = module
    exec(compile(source, "privacy_baseline.py", "exec"), module.__dict__)
    return module


def _document(record: dict) -> ParsedDocument:
    lines = [record["title"]] if record.get("title") else []
    lines += [line for line in record["text"].split("\n") if line.strip()]
    return ParsedDocument(blocks=tuple(Paragraph(line) for line in lines), page_count=1)


def _labelled_document(record: dict) -> ParsedDocument:
    text, where = record["text"], record.get("where", "body")
    if where == "body":
        return ParsedDocument(blocks=(Paragraph(text),), page_count=1)
    if where in ("table", "table_row"):
        return ParsedDocument(blocks=(Table((tuple(text.split("\t")),)),), page_count=1)
    return ParsedDocument(blocks=(Paragraph("关于做好有关工作的通知"),), page_count=1,
                          hidden=(HiddenText(where, text, where),))


def _marks(module, doc: ParsedDocument) -> list[tuple[str, str, str]]:
    out = []
    for f in module.scan_document(doc):
        if f.kind in ("secrecy", "internal"):
            text = doc.blocks[f.index].text
            out.append((f.kind, f.value, text[max(0, f.start - 20):f.end + 20].replace("\n", " ")))
    return out


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus" / "documents.jsonl"
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = [(r["id"], _document(r)) for r in records]
    chars = sum(len(p.text) for _, d in docs for p in d.blocks)
    results = {}
    for name, module in (("before", _baseline_module()), ("now", privacy)):
        t0 = time.perf_counter()
        results[name] = {doc_id: _marks(module, doc) for doc_id, doc in docs}
        results[name + "_s"] = time.perf_counter() - t0
    lines = [
        "## 密级 marks over the shared corpus (issue #21 item 2)", "",
        f"`.venv/bin/python bench/bench_marks.py` — {date.today()}, one process. {len(docs)} documents of "
        f"../shared/corpus, {chars:,} characters, each line a paragraph through `privacy.scan_document`; "
        f"\"before\" is service/analysis/privacy.py at `{BASELINE}` (before issue #21 item 2).", "",
        "| detector | secrecy findings | internal findings | documents with a secrecy finding | seconds |",
        "|---|---|---|---|---|",
    ]
    for name in ("before", "now"):
        found = results[name]
        sec = sum(1 for v in found.values() for k, *_ in v if k == "secrecy")
        inn = sum(1 for v in found.values() for k, *_ in v if k == "internal")
        ndocs = sum(1 for v in found.values() if any(k == "secrecy" for k, *_ in v))
        lines.append(f"| {name} (`{BASELINE}`) | {sec} | {inn} | {ndocs} | {results[name + '_s']:.2f} |"
                     if name == "before"
                     else f"| {name} | {sec} | {inn} | {ndocs} | {results[name + '_s']:.2f} |")
    lines += ["",
              "The labelled set (tests/data/secrecy_marks.jsonl) through both detectors, as the test places it:", "",
              "| detector | markings found | recall | prose flagged | false-positive rate |", "|---|---|---|---|---|"]
    labelled = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    for name, module in (("before", _baseline_module()), ("now", privacy)):
        flagged = [any(f.kind == "secrecy" for f in module.scan_document(_labelled_document(r))) for r in labelled]
        n_mark = sum(r["label"] == "mark" for r in labelled)
        found = sum(f for f, r in zip(flagged, labelled, strict=True) if r["label"] == "mark")
        fps = sum(f for f, r in zip(flagged, labelled, strict=True) if r["label"] == "prose")
        lines.append(f"| {name} | {found}/{n_mark} | {found / n_mark:.1%} | {fps}/{len(labelled) - n_mark} "
                     f"| {fps / (len(labelled) - n_mark):.1%} |")
        if name == "before":
            by_form: dict[str, list[int]] = {}
            for f, r in zip(flagged, labelled, strict=True):
                if r["label"] == "mark":
                    by_form.setdefault(r["form"], [0, 0])[0] += f
                    by_form[r["form"]][1] += 1
            before_forms = ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(by_form.items()))
    lines += ["", f"Markings the detector before found, by form: {before_forms}."]
    lines += ["", "Every finding (kind, value, context), by document:", ""]
    new = 0
    for doc_id, _ in docs:
        before, now = results["before"][doc_id], results["now"][doc_id]
        for kind, value, context in sorted(set(before) | set(now)):
            tag = "both" if (kind, value, context) in before and (kind, value, context) in now else (
                "now only" if (kind, value, context) in now else "before only")
            new += tag == "now only" and kind == "secrecy"
            lines.append(f"- `{doc_id}` {tag}: {kind} “{value}” in …{context}…")
    if not any(results["before"].values()) and not any(results["now"].values()):
        lines.append("- none")
    lines += ["", f"New secrecy findings (now only): {new}. No corpus document carries a marking "
              "(all were published), so every finding here would be a false positive."]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
