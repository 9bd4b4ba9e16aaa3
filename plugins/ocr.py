"""OCR engine wrapper: RapidOCR (PP-OCRv4 detection + recognition, ONNX Runtime).

The models ship inside the ``rapidocr-onnxruntime`` wheel (site-packages), so nothing is
downloaded at run time. The engine is loaded once per process, lazily, on the first page
that needs it (~0.3 s CPU, ~130 MB): parse children that never see a scan never pay for it.

Settings (measured in bench/bench_ocr.py, see BENCHMARKS.md; CER on the shared scans
6.6 % → 4.0 %, CPU 5.2 → 2.8 s per page against RapidOCR's defaults): pages rendered as
an A4 page at ``RENDER_DPI`` (``render_scale``); no angle classifier (it turned correct
lines of these upright scans upside down: CER 6.6 % with it, 4.5 % without); one ONNX
Runtime thread per process (parse children run one per worker; more threads only cost
CPU seconds); detection on the page scaled to ``DET_LONG_SIDE`` (a third less CPU, a
quarter less memory, the same CER); known punctuation confusions put right
(``plugins/ocr_fixes.py``).

``recognise(image, scale)`` returns the text lines in reading order, each with its box in
page coordinates (image pixels × ``scale``: PDF points for a rendered PDF page) and the
recogniser's confidence (0..1).
"""
from __future__ import annotations

import resource
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from plugins.ocr_fixes import tidy

RENDER_DPI = 144
#: RapidOCR detects on the image as it is (an image whose shorter side is below DET_MIN_SIDE
#: is scaled up); its "max" limit type ignores its own limit. Detection on an image whose
#: longer side is DET_LONG_SIDE costs a fraction of the CPU and memory of a full page, and
#: the lines are still cut from the full image for recognition.
DET_MIN_SIDE = 736
DET_LONG_SIDE = 960
#: An A4 page's longer side in points.
A4_LONG_SIDE_PT = 842
USE_ANGLE_CLASSIFIER = False
THREADS = 1
BOX_THRESH = 0.5
#: How far a detected text region is grown before its line is cut out (RapidOCR: 1.6).
UNCLIP_RATIO = 1.6
TEXT_SCORE = 0.5


@dataclass(frozen=True, slots=True)
class RecognisedLine:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 from the page's top-left
    confidence: float


@dataclass(frozen=True, slots=True)
class EngineSettings:
    det_long_side: int | None = DET_LONG_SIDE  #: None: RapidOCR's own choice (the image's size)
    use_cls: bool = USE_ANGLE_CLASSIFIER
    threads: int = THREADS
    box_thresh: float = BOX_THRESH
    unclip_ratio: float = UNCLIP_RATIO
    fix_punctuation: bool = True  #: plugins/ocr_fixes.py (off only to measure the engine alone)
    text_score: float = TEXT_SCORE


_lock = threading.Lock()


@lru_cache(maxsize=4)
def engine(settings: EngineSettings = EngineSettings()):
    """The RapidOCR engine for ``settings``, built on first use and kept for the process."""
    from rapidocr_onnxruntime import RapidOCR

    with _lock:
        found = RapidOCR(
            intra_op_num_threads=settings.threads, inter_op_num_threads=settings.threads,
            det_limit_side_len=DET_MIN_SIDE, det_limit_type="min",
            det_box_thresh=settings.box_thresh, det_unclip_ratio=settings.unclip_ratio, text_score=settings.text_score,
            use_cls=settings.use_cls, max_side_len=100_000, min_height=0,
        )
        if settings.det_long_side:
            _limit_detection(found.text_det, settings.det_long_side)
        return found


def _limit_detection(detector, long_side: int) -> None:
    """Detect on the image scaled so its longer side is ``long_side`` (boxes come back in full-image pixels)."""
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    preprocess = DetPreProcess(long_side, "max", detector.mean, detector.std)
    detector.get_preprocess = lambda _longer_side: preprocess


def render_scale(width_pt: float, height_pt: float, dpi: int = RENDER_DPI) -> float:
    """The scale (pixels per point) that renders a page with its longer side as long as an A4
    page's at ``dpi``: a scanner's page declared at 72 dpi (1 point per pixel, twice A4's size)
    is not rendered at twice the pixels, and a huge page cannot become a huge bitmap."""
    return A4_LONG_SIDE_PT * dpi / 72 / max(width_pt, height_pt, 1.0)


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2))
    if image.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(image, 3, axis=2))
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[:, :, :3])
    return image


def _reading_order(lines: list[RecognisedLine]) -> list[RecognisedLine]:
    """Top to bottom; boxes whose vertical centres fall within half a line height are one row, left to right."""
    rows: list[list[RecognisedLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2):
        centre = (line.box[1] + line.box[3]) / 2
        if rows:
            last = rows[-1][0]
            height = max(1.0, last.box[3] - last.box[1])
            if abs(centre - (last.box[1] + last.box[3]) / 2) < height / 2:
                rows[-1].append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda ln: ln.box[0])]


def allow_ocr_memory() -> None:
    """Raise this process's soft address-space limit to its hard one.

    The parse sandbox gives a child a soft limit for parsing and a higher hard limit for
    OCR (ONNX Runtime and OpenCV map ~1.1 GB of address space, 0.4–0.8 GB resident); the
    sandbox lowers the soft limit again before the next file.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def recognise(image: np.ndarray, scale: float = 1.0,
              settings: EngineSettings = EngineSettings()) -> list[RecognisedLine]:
    """Text lines of ``image`` (H×W grey, or H×W×3 BGR) in reading order; boxes × ``scale``."""
    allow_ocr_memory()
    result, _ = engine(settings)(_as_bgr(image), use_cls=settings.use_cls)
    lines: list[RecognisedLine] = []
    for points, text, score in result or ():
        text = tidy(text.strip()) if settings.fix_punctuation else text.strip()
        if not text:
            continue
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        box = (min(xs) * scale, min(ys) * scale, max(xs) * scale, max(ys) * scale)
        lines.append(RecognisedLine(text=text, box=tuple(round(v, 1) for v in box), confidence=float(score)))
    return _reading_order(lines)
