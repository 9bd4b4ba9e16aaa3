"""Systematic confusions of the OCR recogniser in Chinese text, put right line by line.

Measured on the scan set (bench/bench_ocr.py): most of PP-OCRv4's errors in long 公文 were
punctuation, always the same few:

- 、 read as 丶 (a radical no 公文 uses on its own);
- 。 read as ° after a character and before Chinese text (a temperature, 25°C, is kept);
- the closing ” of a “…” pair read as a straight quote (" or ＂) or as a second “;
- the dash —— read as 一一 at the start of a line or between a character and a number
  (一一 inside a line, as in 一一对应, is kept).
"""
from __future__ import annotations

import re

_CJK = "\u3400-\u9fff"
_DEGREE_AS_STOP = re.compile(rf"(?<=[{_CJK}\d%）)])°(?=[{_CJK}“（(]|$)")
_DASH = re.compile(rf"^一一(?=[{_CJK}\d])|(?<=[{_CJK}])一一(?=\d)")


_STRAIGHT = '"\uff02'  # ASCII and full-width straight quotes


def _quotes(line: str) -> str:
    """Straight quotes and a second “ inside a “…” pair become the curly quote the pair needs."""
    if "“" not in line:
        return line
    out, open_ = [], False
    for ch in line:
        if ch in _STRAIGHT or ch == "“" and open_:
            ch = "”" if open_ else "“"
        if ch in "“”":
            open_ = ch == "“"
        out.append(ch)
    return "".join(out)


def tidy(line: str) -> str:
    """One recognised line with the known confusions put right."""
    line = line.replace("丶", "、")
    line = _DEGREE_AS_STOP.sub("。", line)
    line = _DASH.sub("——", line)
    return _quotes(line)
