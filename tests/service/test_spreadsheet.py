"""CSV for spreadsheets: a BOM, and text that would run as a formula made inert."""
import csv
import io

from service import spreadsheet


def test_text_that_a_spreadsheet_would_run_gets_an_apostrophe():
    for risky in ("=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert spreadsheet.safe_cell(risky) == "'" + risky
    for plain in ("县民政局", "a-2026-00001", "", " =1"):
        assert spreadsheet.safe_cell(plain) == plain
    assert spreadsheet.safe_cell(-3) == -3 and spreadsheet.safe_cell(None) is None


def test_chunks_are_one_csv_with_a_bom_however_they_are_cut():
    rows = [["序号", "操作人"]] + [[n, "=cmd" if n % 7 == 0 else f"用户{n}"] for n in range(1, 1201)]
    pieces = list(spreadsheet.chunks(rows, rows_per_chunk=500))
    assert len(pieces) == 3 and pieces[0].startswith("\ufeff")
    whole = io.StringIO()
    spreadsheet.write_rows(whole, rows)
    assert "".join(pieces) == whole.getvalue()
    table = list(csv.reader(io.StringIO(whole.getvalue().lstrip("\ufeff"))))
    assert len(table) == 1201 and table[7] == ["7", "'=cmd"] and table[8] == ["8", "用户8"]
