"""`gongkai parse FILE... [--json]` — run intake on files and show what came out.

Many files get a progress bar on stderr (``service/cli/progress.py``); stdout is unchanged."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from service.cli import progress
from service.errors import GongkaiError
from service.parsers import Table

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("parse", help="parse files into normalized documents (JSON Lines with --json)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file (JSON Lines)")
    p.add_argument("--no-isolation", action="store_true", help="parse in this process (debugging only)")
    progress.add_arguments(p)
    p.set_defaults(func=run)


def extraction_record(extraction) -> dict:
    doc = extraction.document
    return {
        "path": extraction.path,
        "sha256": extraction.sha256,
        "media_type": extraction.media_type,
        "plugin": extraction.plugin,
        "title": extraction.title,
        "text": extraction.text,
        "pages": doc.page_count,
        "tables": [[list(row) for row in t.rows] for t in doc.blocks if isinstance(t, Table)],
        "metadata": {name: hit.to_dict() for name, hit in extraction.metadata.items()},
        "hidden_text": [{"kind": h.kind, "text": h.text, "where": h.where} for h in doc.hidden],
        "warnings": [{"code": w.code, "message": w.message, "pages": list(w.pages)} for w in doc.warnings],
        "properties": doc.properties,
    }


def error_record(path: Path, exc: GongkaiError) -> dict:
    return {"path": str(path), "error": {"code": exc.code, "message": exc.message}}


class FileNotFound(GongkaiError):
    code = "file_not_found"
    message_zh = "找不到文件。"
    message_en = "File not found."


class InternalError(GongkaiError):
    code = "internal_error"
    message_zh = "处理时发生内部错误，原件未受影响，请联系管理员。"
    message_en = "Internal error."


def parse_one(path: Path, isolate: bool) -> dict:
    from service.pipeline import extract

    try:
        if not path.is_file():
            raise FileNotFound(str(path))
        return extraction_record(extract(path, isolate=isolate))
    except GongkaiError as exc:
        return error_record(path, exc)
    except Exception as exc:  # a bug of ours: log it, but never show a traceback to the user
        log.exception("internal error parsing %s", path)
        return error_record(path, InternalError(type(exc).__name__))


def summary_line(record: dict) -> str:
    if "error" in record:
        return f"✗ {record['path']}\n    {record['error']['code']}：{record['error']['message']}"
    lines = [f"✓ {record['path']}  [{record['plugin']}, {record['pages']} 页, {len(record['text'])} 字]"]
    if record["title"]:
        lines.append(f"    标题：{record['title']}")
    for name, hit in record["metadata"].items():
        if name != "title":
            lines.append(f"    {name}：{hit['value']}")
    if record["tables"]:
        lines.append(f"    表格：{len(record['tables'])} 个")
    if record["hidden_text"]:
        kinds = sorted({h["kind"] for h in record["hidden_text"]})
        lines.append(f"    隐藏文字：{len(record['hidden_text'])} 处（{'、'.join(kinds)}）")
    for w in record["warnings"]:
        lines.append(f"    ⚠ {w['code']}：{w['message']}")
    return "\n".join(lines)


def run(args) -> int:
    failed = 0
    for path in progress.track(args, args.files, desc="解析文件", unit="个"):
        record = parse_one(path, isolate=not args.no_isolation)
        failed += "error" in record
        progress.echo(json.dumps(record, ensure_ascii=False) if args.json else summary_line(record))
    return 1 if failed else 0
