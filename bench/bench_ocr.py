"""OCR engines side by side on the scanned PDFs in /work/shared/scans (issue #19).

    .venv/bin/python bench/bench_ocr.py [--scans /work/shared/scans] [--files 32]
                                        [--only NAME ...]   # writes bench/results/ocr.md

Each configuration runs in its own fresh process (so its peak RSS is its own) over the
same files: every page of ``scan/NNN.pdf`` is rendered with pypdfium2 at the
configuration's dpi (greyscale) and recognised; the document's text is compared with the
``text`` of ``truth.jsonl``. Figures:

- **CER**: character error rate = edit distance / truth length over all documents, after
  NFKC, traditional → simplified (OpenCC t2s) and removing all whitespace on both sides;
- **CPU s/page**: user + system CPU seconds of rendering and recognition per page (all
  threads; for Tesseract the ``tesseract`` child's CPU is counted), the engine's load excluded;
- **RSS**: peak resident memory (VmHWM) of the process holding the engine after the run;
  for Tesseract, the largest ``tesseract`` process (``ru_maxrss``).

Engines: RapidOCR (``rapidocr-onnxruntime``, PP-OCRv4 ONNX models inside the wheel) through
``plugins/ocr.py``, and Tesseract 5 ``chi_sim`` (Debian ``tesseract-ocr-chi-sim``) run as
a subprocess with ``OMP_THREAD_LIMIT=1``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import platform
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: name → (engine, dpi, engine options)
#: RapidOCR as installed runs its networks with ONNX Runtime and has no leader counting.
_ORT = dict(runtime="onnxruntime", count_leaders=False)
CONFIGS = {
    "rapidocr-defaults": ("rapidocr", 144, dict(det_long_side=None, use_cls=True, threads=-1, fix_punctuation=False,
                                                **_ORT)),
    "rapidocr-1thread": ("rapidocr", 144, dict(det_long_side=None, use_cls=True, threads=1, fix_punctuation=False,
                                               **_ORT)),
    "rapidocr-1thread-nocls": ("rapidocr", 144, dict(det_long_side=None, use_cls=False, threads=1,
                                                     fix_punctuation=False, **_ORT)),
    "rapidocr-det960": ("rapidocr", 144, dict(det_long_side=960, use_cls=False, threads=1, fix_punctuation=False,
                                              **_ORT)),
    "rapidocr-det1280": ("rapidocr", 144, dict(det_long_side=1280, use_cls=False, threads=1, **_ORT)),
    "rapidocr-120dpi-det960": ("rapidocr", 120, dict(det_long_side=960, use_cls=False, threads=1, **_ORT)),
    "rapidocr-200dpi-det1280": ("rapidocr", 200, dict(det_long_side=1280, use_cls=False, threads=1, **_ORT)),
    "rapidocr-det960-fixes": ("rapidocr", 144, dict(**_ORT)),          # the settings kept before OpenVINO
    "rapidocr-openvino": ("rapidocr", 144, dict(count_leaders=False)),
    "rapidocr-kept": ("rapidocr", None, {}),  # plugins/ocr.py's own settings: OpenVINO, leaders counted
    "tesseract-chi_sim-300dpi": ("tesseract", 300, dict(psm=3)),
    "tesseract-chi_sim-200dpi": ("tesseract", 200, dict(psm=3)),
}
DEFAULT_RUN = ["rapidocr-defaults", "rapidocr-1thread-nocls", "rapidocr-det960", "rapidocr-det960-fixes",
               "rapidocr-openvino", "rapidocr-kept", "tesseract-chi_sim-200dpi", "tesseract-chi_sim-300dpi"]


def levenshtein(a: str, b: str) -> int:
    """Edit distance (Hyyrö's bit-parallel algorithm on Python integers)."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    peq: dict[str, int] = {}
    for i, ch in enumerate(a):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    mask, last = (1 << len(a)) - 1, 1 << (len(a) - 1)
    pv, mv, score = mask, 0, len(a)
    for ch in b:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & mask) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


_LEADERS = re.compile(r"[.．·…]{4,}")


def without_leaders(text: str) -> str:
    """A table of contents' dot leaders ("一、现状与形势......1") removed."""
    return _LEADERS.sub("", text)


def comparable(text: str) -> str:
    from service.analysis.normalize import to_simplified

    return "".join(to_simplified(unicodedata.normalize("NFKC", text)).split())


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _vm_hwm() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _pages(pdf_path: Path, dpi: int):
    """(grey image, points per pixel) for every page, rendered as an A4 page at ``dpi``."""
    import pypdfium2 as pdfium

    from plugins.ocr import render_scale

    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        for page in pdf:
            scale = render_scale(*page.get_size(), dpi)
            image = page.render(scale=scale, grayscale=True).to_numpy()
            yield (image[:, :, 0] if image.ndim == 3 else image), 1 / scale
            page.close()
    finally:
        pdf.close()


def _tesseract_text(image, psm: int) -> str:
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "page.png"
        Image.fromarray(image).save(png)
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        out = subprocess.run(["tesseract", str(png), "stdout", "-l", "chi_sim", "--psm", str(psm)],
                             capture_output=True, env=env, check=True)
        return out.stdout.decode("utf-8")


def run_one(name: str, scans: Path, files: int) -> dict:
    """In a fresh process: one configuration over the first ``files`` scans."""
    engine_name, dpi, options = CONFIGS[name]
    truth = [json.loads(line) for line in (scans / "truth.jsonl").read_text(encoding="utf-8").splitlines() if line]
    truth = truth[:files]
    if engine_name == "rapidocr":
        from plugins import ocr

        settings = ocr.EngineSettings(**options)
        dpi = dpi or ocr.RENDER_DPI
        ocr.engine(settings)  # the load is not counted per page

        def read(image, scale) -> str:
            return "\n".join(line.text for line in ocr.recognise(image, scale, settings))
    else:
        def read(image, scale) -> str:
            return _tesseract_text(image, options["psm"])
    errors = chars = pages = 0
    cpu = 0.0
    groups = {"simplified": [0, 0], "traditional": [0, 0], "no_leaders": [0, 0]}
    per_file = []
    for record in truth:
        started = _cpu()
        texts = []
        for image, scale in _pages(scans / "scan" / f"{record['file']}.pdf", dpi):
            texts.append(read(image, scale))
            pages += 1
        cpu += _cpu() - started
        got, want = comparable("\n".join(texts)), comparable(record["text"])
        distance = levenshtein(want, got)
        errors += distance
        chars += len(want)
        from service.analysis.normalize import to_simplified

        group = groups["simplified" if to_simplified(record["text"]) == record["text"] else "traditional"]
        group[0] += distance
        group[1] += len(want)
        plain_got, plain_want = without_leaders(got), without_leaders(want)
        groups["no_leaders"][0] += levenshtein(plain_want, plain_got)
        groups["no_leaders"][1] += len(plain_want)
        per_file.append((record["file"], round(distance / max(1, len(want)), 4)))
    rss = _vm_hwm()
    if engine_name == "tesseract":
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"name": name, "dpi": dpi, "cer": errors / max(1, chars), "chars": chars, "pages": pages,
            **{f"cer_{k}": e / max(1, n) for k, (e, n) in groups.items()},
            "docs": {k: n for k, (_, n) in groups.items()},
            "cpu_per_page": cpu / max(1, pages), "rss": rss, "per_file": per_file}


NOTES = """Configurations: *rapidocr-defaults* is RapidOCR as installed (angle classifier on, ONNX Runtime's
default threads, detection on the whole page); *1thread-nocls* one intra-op thread and no angle
classifier; *det960* also detects on the page scaled to a 960 px longer side (lines are still cut
from the full image); *det960-fixes* also puts right PP-OCRv4's punctuation confusions
(`plugins/ocr_fixes.py`: 丶→、, °→。, straight quotes, 一一→——) — the settings shipped until
OpenVINO; *openvino* the same with the two networks run by OpenVINO's CPU plugin in 32-bit
floats instead of ONNX Runtime (the same text line for line); *kept* is `plugins/ocr.py` as
shipped: *openvino* plus a table of contents' dot leaders counted from the page and the page
numbers after them read (`plugins/ocr_leaders.py`). Tesseract 5.3 `chi_sim` (Debian) runs with
`OMP_THREAD_LIMIT=1`, page segmentation 3. Pages are rendered as an A4 page at the dpi shown
(the scans declare pages at 72 dpi, twice A4's size). CER simplified / traditional: the documents
whose truth is in simplified / traditional characters (the recogniser drops traditional
characters it does not know: 縣 駐 積 認 預). CER without dot leaders: a table of contents' runs
of dots removed from both sides (scan 008 alone has 916 leader dots, 3.4 % of all truth
characters; the detector finds few of them)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=Path, default=Path("/work/shared/scans"))
    parser.add_argument("--files", type=int, default=32)
    parser.add_argument("--only", nargs="*", default=None, help=f"configurations (default: {' '.join(DEFAULT_RUN)})")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration, print JSON
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ocr.md")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.scans, args.files)))
        return
    rows = []
    for name in args.only or DEFAULT_RUN:
        started = time.monotonic()
        out = subprocess.run([sys.executable, __file__, "--one", name, "--scans", str(args.scans),
                              "--files", str(args.files)], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(result)
        print(f"{name}: CER {result['cer']:.2%}, {result['cpu_per_page']:.2f} CPU s/page, "
              f"RSS {result['rss'] / 2**20:.0f} MB ({time.monotonic() - started:.0f} s wall)", flush=True)
    lines = ["## OCR of scanned pages (issue #19)", "",
             f"`.venv/bin/python bench/bench_ocr.py --files {args.files}` — {time.strftime('%Y-%m-%d')}, "
             f"{platform.machine()}, {os.cpu_count()} cores shared with other work (CPU seconds are the "
             f"reliable figure, wall time is not). {rows[0]['pages']} pages of {args.files} scans, "
             f"{rows[0]['chars']} truth characters; each configuration in a fresh process.", "",
             "| configuration | dpi | CER | CER simplified | CER traditional | CER without dot leaders "
             "| CPU s/page | peak RSS |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['dpi']} | {r['cer']:.2%} | {r['cer_simplified']:.2%} | "
                     f"{r['cer_traditional']:.2%} | {r['cer_no_leaders']:.2%} | {r['cpu_per_page']:.2f} | "
                     f"{r['rss'] / 2**20:.0f} MB |")
    lines += ["", NOTES]
    lines += ["", "Targets: CER ≤ 2 %, ≤ 1.5 CPU s per A4 page, RSS ≤ 1 GB with the engine loaded."]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
