"""Which characters of one page the public PDF covers, and the boxes to paint.

A page is read as characters, each with its box in the page image's pixels (None for a
character the reader inserted, such as a line break). ``covered`` marks every character the
public copy masks (``analysis.masking.public_form`` on the page's own text), and every
occurrence of a value the document's privacy scan found, matched across line breaks and
spaces (a number wrapped onto two lines). ``leaks`` then reads the page as it would look
covered and says what personal data is still legible: a renderer that gets anything back
must not use the page.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from service.analysis.masking import KEPT_DIGITS, MASK, digits_of, mask_added, mask_found, public_form
from service.analysis.privacy import scan_text

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in image pixels, from the top-left
ADDED = "added"


@dataclass(frozen=True, slots=True)
class PageChars:
    """One page's characters as read, and each one's box (None: no place on the page)."""

    text: str
    boxes: Sequence[Box | None]


@dataclass(frozen=True, slots=True)
class Value:
    """Something the whole document masks: a personal number as found, or a reviewer-added word."""

    kind: str  # a KEPT_DIGITS kind, or ADDED
    text: str

    def pattern(self) -> str:
        """``text`` as the public copy shows it (MASK where it is hidden)."""
        return mask_found(self.kind, self.text) if self.kind in KEPT_DIGITS else mask_added(self.text)


def document_values(findings: Sequence[dict] | None, masks: dict | None) -> list[Value]:
    """The values a document's public copy masks: its personal numbers but the exempt ones, and the added words."""
    exempt = {digits_of(e["text"]) for e in (masks or {}).get("exempt", [])}
    values = {Value(f["kind"], "".join(f["value"].split())) for f in findings or []
              if f.get("kind") in KEPT_DIGITS and f.get("value") and digits_of(f["value"]) not in exempt}
    values |= {Value(ADDED, a["text"]) for a in (masks or {}).get("added", []) if a.get("text", "").strip()}
    return sorted(values, key=lambda v: (v.kind, v.text))


def _fold(ch: str) -> str:
    """Full-width digits and letters as ASCII (a number typed in full width is the same number)."""
    return unicodedata.normalize("NFKC", ch) if len(unicodedata.normalize("NFKC", ch)) == 1 else ch


def _compact(text: str) -> tuple[str, list[int]]:
    """``text`` without whitespace (folded), and where each of its characters stands in ``text``."""
    where = [i for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(_fold(text[i]) for i in where), where


def covered(text: str, masks: dict | None, values: Sequence[Value]) -> set[int]:
    """Positions in ``text`` (one page) that the public PDF covers."""
    public, _ = public_form(text, masks)
    found = {i for i, (a, b) in enumerate(zip(text, public, strict=True)) if a != b}
    compact, where = _compact(text)
    for value in values:
        needle = "".join(_fold(ch) for ch in value.text)
        hidden = [j for j, ch in enumerate(value.pattern()) if ch == MASK]
        start = compact.find(needle)
        while needle and start >= 0:
            found.update(where[start + j] for j in hidden)
            start = compact.find(needle, start + 1)
    return found


def leaks(text: str, cover: set[int], masks: dict | None, values: Sequence[Value]) -> list[str]:
    """What personal data the page still shows once ``cover`` is painted (masked forms, never values)."""
    shown = "".join(MASK if i in cover else ch for i, ch in enumerate(text))
    compact, _ = _compact(shown)
    exempt = {digits_of(e["text"]) for e in (masks or {}).get("exempt", [])}
    out = [f"{kind}:{mask_found(kind, value)}" for kind, value, _s, _e in scan_text(compact)
           if kind in KEPT_DIGITS and digits_of(value) not in exempt and MASK not in value]
    out += [f"{v.kind}:{v.pattern()}" for v in values if "".join(_fold(ch) for ch in v.text) in compact]
    return list(dict.fromkeys(out))


def present(values: Sequence[Value], text: str) -> set[Value]:
    """The values that stand in ``text`` (across line breaks and spaces)."""
    compact, _ = _compact(text)
    return {v for v in values if "".join(_fold(ch) for ch in v.text) in compact}


def unplaced(cover: set[int], chars: PageChars) -> list[int]:
    """Covered characters that have no box on the page (they could not be painted over)."""
    return sorted(i for i in cover if chars.boxes[i] is None and not chars.text[i].isspace())


def rectangles(cover: set[int], chars: PageChars, pad: float = 1.0) -> list[Box]:
    """The boxes of the covered characters, runs on one line joined into one rectangle, grown by ``pad``."""
    out: list[list[float]] = []
    last = -2
    for i in sorted(cover):
        box = chars.boxes[i]
        if box is None:
            continue
        x0, y0, x1, y1 = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
        if out and i == last + 1 and _same_line(out[-1], (x0, y0, x1, y1)):
            run = out[-1]
            run[0], run[1], run[2], run[3] = min(run[0], x0), min(run[1], y0), max(run[2], x1), max(run[3], y1)
        else:
            out.append([x0, y0, x1, y1])
        last = i
    return [(r[0], r[1], r[2], r[3]) for r in out]


def _same_line(run: list[float], box: Box) -> bool:
    overlap = min(run[3], box[3]) - max(run[1], box[1])
    return overlap > 0.5 * min(run[3] - run[1], box[3] - box[1])


def line_boxes(text: str, box: Box) -> list[Box | None]:
    """Character boxes of one OCR line: its box shared out by width (a CJK character is a full
    width, a digit or Latin letter half of one), each grown by half a narrow width on both sides
    (the estimate may be off by a little; covering a neighbour is better than showing a digit)."""
    weights = [1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in text]
    total = sum(weights) or 1.0
    unit = (box[2] - box[0]) / total
    out: list[Box | None] = []
    x = box[0]
    for ch, w in zip(text, weights, strict=True):
        left, x = x, x + w * unit
        out.append(None if ch.isspace() else (left - unit / 4, box[1], x + unit / 4, box[3]))
    return out
