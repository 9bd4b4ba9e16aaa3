"""OCR engine wrapper: RapidOCR's pipeline (PP-OCRv4 detection + recognition) with its two
networks run by OpenVINO.

The models ship inside the ``rapidocr-onnxruntime`` wheel (site-packages), so nothing is
downloaded at run time. RapidOCR runs them with ONNX Runtime; here its detection and
recognition sessions are replaced by OpenVINO's CPU plugin reading the same ONNX files in
32-bit floats (``RUNTIME``, ``OpenVinoModel``): the same lines, boxes and text, for less than
half the CPU. ``EngineSettings(runtime="onnxruntime")`` keeps RapidOCR's own. The engine is
loaded once per process, lazily, on the first page that needs it (~0.5 s CPU, ~250 MB): parse
children that never see a scan never pay for it.

Settings (measured in bench/bench_ocr.py, see BENCHMARKS.md, against RapidOCR's defaults on the
shared scans): pages rendered as an A4 page at ``RENDER_DPI`` (``render_scale``); no angle
classifier (it turned correct lines of these upright scans upside down); one inference thread
per process (parse children run one per worker; more threads only cost CPU seconds); detection
on the page scaled to ``DET_LONG_SIDE`` (a third less CPU, a quarter less memory, the same
CER); known punctuation confusions put right (``plugins/ocr_fixes.py``); a table of contents'
dot leaders counted from the page and the page numbers after them read
(``plugins/ocr_leaders.py``).

``recognise(image, scale)`` returns the text lines in reading order, each with its box in
page coordinates (image pixels × ``scale``: PDF points for a rendered PDF page) and the
recogniser's confidence (0..1).
"""
from __future__ import annotations

import dataclasses
import resource
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from plugins import ocr_leaders
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
#: Who runs the networks: "openvino" (32-bit floats: the same results on every x86 CPU; bfloat16
#: would be faster where the CPU has it, and its results would depend on the CPU) or "onnxruntime".
RUNTIME = "openvino"
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
    count_leaders: bool = True    #: plugins/ocr_leaders.py: a table of contents' dots counted from the page
    text_score: float = TEXT_SCORE
    runtime: str = RUNTIME


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
        if settings.runtime == "openvino":
            found.text_det.infer = OpenVinoModel(_model_path(found.text_det.infer), settings.threads)
            found.text_rec.session = OpenVinoModel(_model_path(found.text_rec.session), settings.threads)
        return found


class OpenVinoModel:
    """An ONNX network compiled by OpenVINO for the CPU, called as RapidOCR calls its ONNX Runtime
    session: ``model(batch)[0]`` is the first output."""

    def __init__(self, path: str, threads: int) -> None:
        import openvino

        # CPU_RUNTIME_CACHE_CAPACITY 0: no cache of kernels per input shape (every text line has its own
        # width): peak memory over the 56 shared scan pages 1.2 GB → 0.7 GB, the same CPU.
        config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", "CPU_RUNTIME_CACHE_CAPACITY": 0}
        if threads > 0:
            config["INFERENCE_NUM_THREADS"] = threads
        self._request = openvino.Core().compile_model(path, "CPU", config).create_infer_request()

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        return [self._request.infer({0: batch})[0]]


def _model_path(session) -> str:
    """The ONNX file an ONNX Runtime session of RapidOCR was made from."""
    return session.session._model_path


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
    found = engine(settings)
    result, _ = found(_as_bgr(image), use_cls=settings.use_cls)
    lines: list[RecognisedLine] = []
    for points, text, score in result or ():
        text = tidy(text.strip()) if settings.fix_punctuation else text.strip()
        if not text:
            continue
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        lines.append(RecognisedLine(text=text, box=(min(xs), min(ys), max(xs), max(ys)), confidence=float(score)))
    lines = _reading_order(lines)
    if settings.count_leaders and lines:
        lines = ocr_leaders.restore(_as_grey(image), lines, lambda crop: found.text_rec([_as_bgr(crop)])[0][0][0])
    return [dataclasses.replace(line, box=tuple(round(v * scale, 1) for v in line.box)) for line in lines]


def _as_grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_BGR2GRAY)
