"""Text of an OFD page in reading order: positioned runs from TextObjects, grouped into lines.

OFD pages have their origin at the top left, y growing downwards, in millimetres. A
``TextObject``'s ``Boundary`` (x y w h) places its own coordinate system on the page and its
optional ``CTM`` (a b c d e f) maps object coordinates into that system. Each ``TextCode``
starts at its ``X``/``Y`` (the baseline of the first character; a missing one continues
where the previous TextCode of the object ended) and advances character by character by
``DeltaX``/``DeltaY`` (``g N v`` repeats v N times). A single TextCode can hold several
visual lines (an invoice's cipher block steps back with a negative DeltaX and down with
DeltaY), so it is cut into runs where the text goes back left onto another baseline.

Runs whose baselines lie within a tolerance of each other form a line; lines are ordered
top to bottom and runs left to right, joined with a space where there is a visible gap.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from plugins.ofd_package import local, numbers

#: A line's baselines may differ by this share of its font size.
LINE_TOLERANCE = 0.45
#: A gap wider than this share of the font size between two runs becomes a space.
SPACE_GAP = 0.8
_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6"
                   r"\U00020000-\U0003fffd\ue000-\uf8ff]")

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Run:
    """Characters on one baseline, in page coordinates (mm)."""

    x: float
    y: float
    end: float
    size: float
    text: str


def matrix(value: str | None) -> Matrix:
    found = numbers(value)
    return tuple(found) if len(found) == 6 else IDENTITY  # type: ignore[return-value]


def multiply(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix applying ``inner`` first, then ``outer``."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def deltas(value: str | None, needed: int) -> list[float]:
    """``DeltaX``/``DeltaY`` expanded, at most ``needed`` values: "g 3 2.5 1" → [2.5, 2.5, 2.5, 1]."""
    items = (value or "").split()
    found: list[float] = []
    i = 0
    while i < len(items) and len(found) < needed:
        if items[i] == "g" and i + 2 < len(items):
            try:
                count, step = int(float(items[i + 1])), float(items[i + 2])
            except (ValueError, OverflowError):
                count, step = 0, 0.0
            found.extend([step if math.isfinite(step) else 0.0] * max(0, min(count, needed - len(found))))
            i += 3
            continue
        try:
            step = float(items[i])
            found.append(step if math.isfinite(step) else 0.0)
        except ValueError:
            pass
        i += 1
    return found


def _advance(ch: str, size: float) -> float:
    return size if _WIDE.match(ch) else size * 0.5


def object_matrix(obj: etree._Element, outer: Matrix = IDENTITY) -> Matrix:
    """Object space → page space: the object's CTM, then its Boundary's origin, then ``outer``."""
    box = numbers(obj.get("Boundary"))
    origin = (1.0, 0.0, 0.0, 1.0, box[0], box[1]) if len(box) >= 2 else IDENTITY
    return multiply(multiply(matrix(obj.get("CTM")), origin), outer)


def _scale(m: Matrix) -> float:
    return math.sqrt(abs(m[0] * m[3] - m[1] * m[2])) or 1.0


def text_object_runs(obj: etree._Element, outer: Matrix = IDENTITY) -> list[Run]:
    """The runs of one TextObject, in page coordinates."""
    m = object_matrix(obj, outer)
    size = float((numbers(obj.get("Size")) or [3.5])[0]) or 3.5
    page_size = size * _scale(m)
    runs: list[Run] = []
    x = y = 0.0
    for code in obj:
        if local(code) != "TextCode":
            continue
        text = code.text or ""
        xs, ys = numbers(code.get("X")), numbers(code.get("Y"))
        x = xs[0] if xs else x
        y = ys[0] if ys else y
        dx, dy = deltas(code.get("DeltaX"), len(text)), deltas(code.get("DeltaY"), len(text))
        chars: list[str] = []
        start = apply(m, x, y)
        last = start
        for i, ch in enumerate(text):
            if i:
                step_y = dy[i - 1] if i - 1 < len(dy) else 0.0
                # Without a DeltaX the font's advance applies, unless the text runs downwards.
                step_x = dx[i - 1] if i - 1 < len(dx) else 0.0 if dy and not dx else _advance(text[i - 1], size)
                x, y = x + step_x, y + step_y
                here = apply(m, x, y)
                if abs(here[1] - last[1]) > LINE_TOLERANCE * page_size and here[0] < last[0]:
                    runs.append(Run(start[0], start[1], last[0] + page_size, page_size, "".join(chars)))
                    chars, start = [], here
                last = here
            chars.append(ch)
        if chars:
            runs.append(Run(start[0], start[1], last[0] + _advance(chars[-1], page_size), page_size, "".join(chars)))
            x += _advance(text[-1], size) if text else 0.0
    return runs


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    #: the largest font size on the line (page units)
    size: float


def lines(runs: Iterable[Run]) -> list[Line]:
    """Runs grouped into lines by baseline, top to bottom, each left to right."""
    ordered = sorted((r for r in runs if r.text.strip()), key=lambda r: (r.y, r.x))
    grouped: list[list[Run]] = []
    base = 0.0
    for run in ordered:
        if grouped and run.y - base <= LINE_TOLERANCE * min(run.size, grouped[-1][0].size):
            grouped[-1].append(run)
        else:
            grouped.append([run])
            base = run.y
    found = (Line(_join(g), max(r.size for r in g)) for g in grouped)
    return [line for line in found if line.text]


def _join(group: list[Run]) -> str:
    group.sort(key=lambda r: r.x)
    parts: list[str] = []
    end = None
    for run in group:
        if end is not None and run.x - end > SPACE_GAP * run.size:
            parts.append(" ")
        parts.append(run.text)
        end = run.end if end is None else max(end, run.end)
    return re.sub(r"\s+", " ", "".join(parts)).strip()
