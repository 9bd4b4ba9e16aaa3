"""Plain text (.txt): encoding detection for what Chinese offices actually produce.

Order: a BOM (UTF-8/UTF-16) decides; else strict UTF-8; else whichever of GB18030 (a
superset of GBK and GB2312, the usual encodings of Chinese Windows) and Big5 (traditional,
Taiwan/Hong Kong) decodes strictly with fewer implausible characters (GB18030 decodes
almost any bytes, so Big5 text read as GB18030 is full of private-use and rare characters);
else charset-normalizer's best guess if it is confident; else ``unknown_encoding``.
"""
from __future__ import annotations

import codecs
from pathlib import Path

from service.parsers import (
    ParseContext,
    ParsedDocument,
    Paragraph,
    ResourceLimit,
    UnknownEncoding,
    warning,
)

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(raw: bytes) -> tuple[str, str]:
    """``(text, encoding)`` for raw bytes, or UnknownEncoding."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace"), encoding
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    decoded = []
    for encoding in ("gb18030", "big5"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        decoded.append((_implausible(text), encoding, text))
    if decoded:
        score, encoding, text = min(decoded)
        if score <= 0.05 * max(1, len(text)):
            return text, encoding
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None or best.chaos > 0.2:
        raise UnknownEncoding()
    return str(best), best.encoding


def _implausible(text: str) -> int:
    """Characters unlikely in real Chinese text: private use, rare CJK Extension A, compatibility forms."""
    return sum(1 for ch in text if "\ue000" <= ch <= "\uf8ff" or "\u3400" <= ch <= "\u4dbf"
               or "\ufe30" <= ch <= "\ufe4f" or "\u3100" <= ch <= "\u312f" or "\u3040" <= ch <= "\u30ff")


class TextParser:
    name = "text"
    version = "1"
    media_types = frozenset({"text/plain"})
    priority = 0

    def parse(self, path: Path, context: ParseContext) -> ParsedDocument:
        limit = context.limits.max_text_bytes
        with open(path, "rb") as fh:
            raw = fh.read(limit * 2 + 1)  # GB18030 text is ~2 bytes/char, UTF-8 ~3
        if len(raw) > limit * 2:
            raise ResourceLimit(f"{path.stat().st_size} bytes", what="文本文件过大")
        text, encoding = decode_text(raw)
        paragraphs = tuple(Paragraph(text=line.strip()) for line in text.splitlines() if line.strip())
        warnings = () if paragraphs else (warning("no_text_layer"),)
        return ParsedDocument(
            blocks=paragraphs,
            page_count=1,
            properties={"encoding": encoding},
            warnings=warnings,
        )
