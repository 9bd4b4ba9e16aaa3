"""`gongkai report`: the year's disclosure statistics for the annual report, from the data."""
from __future__ import annotations

import json
import sys

from service import config, localtime
from service import report as R
from service.db import transaction
from service.runtime import Runtime
from service.taxonomy import from_settings


def register(sub) -> None:
    p = sub.add_parser("report", help="annual disclosure statistics (政府信息公开工作年度报告): published "
                                      "documents by category, department and month")
    p.add_argument("--year", type=_year, default=None, help="the year, Beijing time (default: this year)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="everything as one JSON object")
    out.add_argument("--csv", action="store_true",
                     help="the department × category table as CSV (UTF-8 with BOM, for Excel)")
    out.add_argument("--docx", metavar="FILE.docx",
                     help="the whole 政府信息公开工作年度报告 in the 2021 format as a Word file (a final report's "
                          "stored file; a draft's made now, refused while its figures do not add up)")
    p.set_defaults(func=run_report)


def _year(text: str) -> int:
    import argparse

    year = R.parse_year(text)
    if year is None:
        raise argparse.ArgumentTypeError(f"年份应在 {R.YEARS.start}–{R.YEARS.stop - 1} 之间：{text}")
    return year


def run_report(args) -> int:
    settings = config.load()
    year = args.year or localtime.now().year
    rt = Runtime.from_settings(settings)
    if args.docx:
        return _write_docx(rt, settings, year, args.docx)
    try:
        with transaction(rt.sessions, readonly=True) as s:
            report = R.annual_report(s, year, from_settings(settings))
    finally:
        rt.close()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    elif args.csv:
        R.write_csv(report, sys.stdout)
    else:
        print(R.summary_sentence(report))
        rows = R.as_rows(report)
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(str(v).rjust(w) if isinstance(v, int) else str(v)
                            for v, w in zip(row, widths, strict=True)))
        print("按月：" + "，".join(f"{m + 1}月 {n}" for m, n in enumerate(report.months)))
        s = report.suggestion
        if s["with_suggestion"]:
            print(f"审核时保留模型预选的类别：{s['kept']} / {s['with_suggestion']}"
                  f"（{s['kept'] / s['with_suggestion']:.0%}）")
        if report.intake:
            from service.states import STATE_NAMES_ZH

            print("本年收文：" + "，".join(f"{STATE_NAMES_ZH.get(k, k)} {v}" for k, v in sorted(report.intake.items())))
    return 0


def _write_docx(rt: Runtime, settings, year: int, path: str) -> int:
    from service import annual_report as A
    from service.errors import GongkaiError

    try:
        with transaction(rt.sessions, readonly=True) as s:
            report = A.compose(s, year, from_settings(settings), settings.site_name.strip())
        body = A.stored_docx(rt.storage, report) or A.docx_bytes(report)
    except GongkaiError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    finally:
        rt.close()
    with open(path, "wb") as out:
        out.write(body)
    state = "定稿" if report["status"] == "final" else "草稿"
    print(f"已写出 {report['title']}（{state}）：{path}")
    return 0
