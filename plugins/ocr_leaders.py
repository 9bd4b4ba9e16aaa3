"""Dot leaders of a scanned table of contents, counted from the page.

A 目录 line — "一、现状与形势……………………1" — is mostly dots. The text detector finds the words
and often the page number, rarely the dots: a recognised line reads "势...." where the page
has seventy dots and a "1" the detector missed. ``restore`` looks at the ink to the right of
each recognised line: a row of small, regularly spaced marks on the baseline is a leader, and
the line gets as many dots as the page shows; ink after the leader that no line covers (the
page number) is read with the recogniser (``read_crop``) and appended.

Everything here is in the page image's pixels; ``plugins/ocr.py`` scales boxes afterwards.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise
from typing import Any

import numpy as np

#: What a recogniser makes of leader dots at the end of a line.
_TRAILING_LEADER = re.compile(r"[.·…．。⋯・,，]+(?P<tail>\d{0,4})$")
#: Fewer dots are not a leader: a sentence's 省略号 "……" at the end of a line is six.
MIN_DOTS = 8
#: A dot is at most this share of the line's glyph height, in both directions.
DOT_SIZE = 0.3
#: Dots of one leader are closer than this share of the glyph height, and (their median pitch) further
#: apart than MIN_PITCH: specks of a photo stacked in one column are no leader.
MAX_PITCH = 0.9
MIN_PITCH = 0.1
#: A leader's dots sit on one baseline: their centres within this share of the glyph height.
BASELINE_SPREAD = 0.3
#: A detector's box is taller than the glyphs by its unclip margin (plugins/ocr.py UNCLIP_RATIO).
BOX_TO_GLYPH = 1.4
#: A page number after a leader is short.
MAX_NUMBER_CHARS = 6


def ink_mask(image: np.ndarray) -> np.ndarray:
    """Dark pixels of a grey page (Otsu's threshold over the whole page)."""
    import cv2

    _, mask = cv2.threshold(image, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask.astype(np.uint8)


def _components(mask: np.ndarray) -> np.ndarray:
    """Connected ink components of ``mask`` as rows of (x, y, w, h, area)."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return stats[1:count]


def _leader(parts: np.ndarray, glyph: float, band_height: int) -> tuple[int, int, int] | None:
    """The rightmost run of leader dots among ``parts`` (band coordinates): (count, x0, x1), or None."""
    limit = max(2.0, glyph * DOT_SIZE)
    dots = sorted((x + w / 2, x, x + w, y + h / 2) for x, y, w, h, area in parts
                  if w <= limit and h <= limit and y + h / 2 >= band_height * 0.4)
    runs: list[list[tuple[float, int, int, float]]] = []
    for dot in dots:
        if runs and dot[0] - runs[-1][-1][0] <= glyph * MAX_PITCH:
            runs[-1].append(dot)
        else:
            runs.append([dot])
    runs = [run for run in runs if len(run) >= MIN_DOTS and _on_a_baseline(run, glyph)]
    if not runs:
        return None
    run = runs[-1]
    return len(run), run[0][1], run[-1][2]


def _on_a_baseline(run: list[tuple[float, int, int, float]], glyph: float) -> bool:
    """Whether a run of marks is a leader: spaced along one baseline, not specks piled in a column."""
    centres = sorted(dot[3] for dot in run)
    pitches = sorted(b[0] - a[0] for a, b in pairwise(run))
    return (centres[-1] - centres[0] <= glyph * BASELINE_SPREAD
            and pitches[len(pitches) // 2] >= glyph * MIN_PITCH)


def restore(image: np.ndarray, lines: list[Any], read_crop: Callable[[np.ndarray], str] | None = None,
            mask: np.ndarray | None = None) -> list[Any]:
    """``lines`` (``RecognisedLine`` in page pixels, reading order) with leaders counted from
    ``image`` and missed page numbers read by ``read_crop``; lines without a leader are unchanged."""
    if not lines:
        return lines
    mask = ink_mask(image) if mask is None else mask
    height, width = mask.shape
    out = []
    for line in lines:
        x0, y0, x1, y1 = (int(round(v)) for v in line.box)
        glyph = (y1 - y0) / BOX_TO_GLYPH
        # the band: this line's row, from the line's start to the next box on the row (or the page's edge)
        right = min([int(o.box[0]) for o in lines if o is not line and o.box[0] >= x1 - 2
                     and abs((o.box[1] + o.box[3]) / 2 - (y0 + y1) / 2) < (y1 - y0) / 2] or [width])
        top, bottom = max(0, y0), min(height, y1)
        if bottom - top < 4 or right - x0 < glyph * 2:
            out.append(line)
            continue
        band = mask[top:bottom, max(0, x0):right]
        parts = _components(band)
        found = _leader(parts, glyph, bottom - top)
        if found is None or found[2] < x1 - x0 - glyph:      # no leader, or one that ends inside the words
            out.append(line)
            continue
        count, _, run_end = found
        text = line.text
        match = _TRAILING_LEADER.search(text)
        head, tail = (text[:match.start()], match["tail"]) if match else (text, "")
        if not tail and read_crop is not None:
            tail = _number_after(image[top:bottom, max(0, x0):right], parts, run_end, glyph, read_crop)
        out.append(replace(line, text=head + "." * count + tail))
    return out


def _number_after(band: np.ndarray, parts: np.ndarray, run_end: int, glyph: float,
                  read_crop: Callable[[np.ndarray], str]) -> str:
    """Ink after the leader's last dot that no line covers (``band``: the page's pixels of the
    row): read it, keep it if it is a short number."""
    after = [(x, w) for x, y, w, h, area in parts if x > run_end and h > glyph * DOT_SIZE]
    if not after:
        return ""
    margin = max(2, int(glyph / 4))
    left = max(0, min(x for x, _ in after) - margin)
    right = min(band.shape[1], max(x + w for x, w in after) + margin)
    text = read_crop(np.ascontiguousarray(band[:, left:right])).strip()
    return text if text.isdigit() and len(text) <= MAX_NUMBER_CHARS else ""
