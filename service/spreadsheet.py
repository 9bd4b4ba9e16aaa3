"""CSV for Excel/WPS: UTF-8 with a BOM (so Chinese opens right), and no cell run as a formula.

A cell that starts with = + - @ (or a tab/carriage return before one) is a formula to a
spreadsheet; some text in gongkai's exports is typed by anyone (a username tried at the
login form ends up in the audit log), so such text cells get a leading apostrophe, the
usual CSV-injection defence. Numbers are written as they are.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def chunks(rows: Iterable[Iterable[Any]], rows_per_chunk: int = 500) -> Iterator[str]:
    """The BOM and ``rows`` as CSV text, each text cell made safe, a few hundred rows at a time
    (a long export streams instead of being built in memory)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(cell) for cell in row])
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_rows(stream: TextIO, rows: Iterable[Iterable[Any]]) -> None:
    for chunk in chunks(rows):
        stream.write(chunk)
