"""Decide a file's type from its bytes, and check the name agrees.

Rules, in order:
1. Empty file → ``empty_file``.
2. OLE2 compound file (D0 CF 11 E0): an ``EncryptedPackage`` stream means an encrypted
   Office file → ``encrypted``; anything else is legacy Word/WPS → ``legacy_office_format``.
3. ``%PDF-`` in the first 1 KiB *and* a readable zip directory → ``ambiguous_type``
   (a polyglot); otherwise PDF.
4. PNG, JPEG or TIFF signature → that image type (read by OCR); also PDF or zip → ``ambiguous_type``.
   A zip: ``word/document.xml`` → DOCX; other zips are reported by what they are.
5. Text: no NUL bytes in the head and decodable as UTF-8 / UTF-16 (BOM) / GB18030.
6. Anything else → ``unsupported_type``.
Then the extension: a known extension that names a different type → ``type_mismatch``.
An unknown or missing extension is not an error: the bytes decide.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from service.parsers import (
    AmbiguousType,
    EmptyFile,
    Encrypted,
    LegacyOfficeFormat,
    TypeMismatch,
    UnsupportedType,
)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ZIP = "application/zip"
TEXT = "text/plain"
OLE2 = "application/x-ole-storage"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"

#: Human names used in messages.
TYPE_NAMES = {
    PDF: "PDF", DOCX: "Word（.docx）", XLSX: "Excel（.xlsx）", PPTX: "PowerPoint（.pptx）",
    ODT: "OpenDocument 文本（.odt）", ZIP: "ZIP 压缩包", TEXT: "纯文本", OLE2: "旧版 Office 文件",
    PNG: "PNG 图片", JPEG: "JPEG 图片", TIFF: "TIFF 图片",
}

#: What a known extension promises.
EXTENSION_TYPES = {
    ".pdf": PDF, ".docx": DOCX, ".txt": TEXT, ".text": TEXT, ".xlsx": XLSX, ".pptx": PPTX,
    ".odt": ODT, ".zip": ZIP, ".doc": OLE2, ".wps": OLE2, ".xls": OLE2, ".ppt": OLE2,
    ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".tif": TIFF, ".tiff": TIFF,
}
#: Image signatures (scans and photos of pages, read by OCR).
_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"II*\x00", TIFF), (b"MM\x00*", TIFF))

_PDF_SYNTAX = re.compile(rb"\d+ \d+ obj|startxref|/Type\s*/")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEAD = 8192


@dataclass(frozen=True, slots=True)
class Sniffed:
    media_type: str
    extension: str


def _zip_names(path: Path) -> list[str] | None:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None


def _zip_type(names: list[str]) -> str:
    lowered = {n.lower() for n in names}
    if "word/document.xml" in lowered or any(n.startswith("word/") and n.endswith(".xml") for n in lowered) \
            and "[content_types].xml" in lowered:
        return DOCX
    if "xl/workbook.xml" in lowered:
        return XLSX
    if "ppt/presentation.xml" in lowered:
        return PPTX
    if "mimetype" in lowered and "content.xml" in lowered:
        return ODT
    return ZIP


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    # A multi-byte character may be cut at the end of the head: trim up to 3 bytes.
    for cut in range(4):
        chunk = head[: len(head) - cut] if cut else head
        for encoding in ("utf-8", "gb18030"):
            try:
                chunk.decode(encoding)
                return True
            except UnicodeDecodeError:
                pass
    return False


def sniff(path: Path, filename: str | None = None) -> Sniffed:
    """The media type of ``path`` judged from its bytes; ``filename`` supplies the extension."""
    name = filename if filename is not None else path.name
    extension = Path(name).suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(_HEAD)
    if not head:
        raise EmptyFile()

    if head.startswith(_OLE2_MAGIC):
        with open(path, "rb") as fh:
            content = fh.read(4 * 1024 * 1024)
        if "EncryptedPackage".encode("utf-16-le") in content:
            raise Encrypted("encrypted OOXML package")
        raise LegacyOfficeFormat()

    is_pdf = b"%PDF-" in head[:1024] or (
        # A damaged header: named .pdf and full of PDF syntax. The PDF parser will judge it.
        EXTENSION_TYPES.get(extension) == PDF and _PDF_SYNTAX.search(head) is not None
    )
    zip_names = _zip_names(path) if (is_pdf or head.startswith(b"PK")) else None
    if is_pdf and zip_names is not None:
        raise AmbiguousType(types=f"PDF + {TYPE_NAMES[_zip_type(zip_names)]}")
    image_type = next((t for magic, t in _IMAGE_MAGIC if head.startswith(magic)), None)
    if image_type is not None and (is_pdf or zip_names is not None):
        raise AmbiguousType(types=f"{TYPE_NAMES[image_type]} + {'PDF' if is_pdf else 'ZIP'}")
    if image_type is not None:
        media_type = image_type
    elif is_pdf:
        media_type = PDF
    elif zip_names is not None:
        media_type = _zip_type(zip_names)
    elif head.startswith(b"PK"):
        media_type = ZIP  # a damaged zip: let the extension or the parser say more
        if EXTENSION_TYPES.get(extension) == DOCX:
            media_type = DOCX
    elif _looks_like_text(head):
        media_type = TEXT
    else:
        raise UnsupportedType(media_type=_describe_unknown(head))

    expected = EXTENSION_TYPES.get(extension)
    if expected is not None and expected != media_type:
        raise TypeMismatch(extension=extension, actual=TYPE_NAMES.get(media_type, media_type))
    return Sniffed(media_type=media_type, extension=extension)


_MAGIC_NAMES = (
    (b"\x89PNG", "PNG 图片"), (b"\xff\xd8\xff", "JPEG 图片"), (b"GIF8", "GIF 图片"),
    (b"II*\x00", "TIFF 图片"), (b"MM\x00*", "TIFF 图片"), (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf", "7z 压缩包"), (b"{\\rtf", "RTF 文档"), (b"\x7fELF", "可执行程序"), (b"MZ", "可执行程序"),
)


def _describe_unknown(head: bytes) -> str:
    for magic, label in _MAGIC_NAMES:
        if head.startswith(magic):
            return label
    return "未知格式"
