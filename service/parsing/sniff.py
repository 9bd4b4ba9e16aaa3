"""Decide a file's type from its bytes, and check the name agrees.

Rules, in order:
1. Empty file → ``empty_file``.
2. OLE2 compound file (D0 CF 11 E0), judged by its streams (``service/parsing/ole2.py``): an
   ``EncryptedPackage`` stream (encrypted OOXML) or a Word binary whose FIB says encrypted
   or obfuscated → ``encrypted``; a ``WordDocument`` stream → Word binary (.doc, and .wps:
   WPS Office saves the same binary); ``Workbook``/``Book`` → Excel 97–2003 (.xls/.et) and
   ``PowerPoint Document`` → PowerPoint 97–2003 (.ppt/.dps): named as such (another
   extension → ``type_mismatch``, their own → ``unsupported_type``); an unreadable
   directory → ``corrupt_file``; other containers → ``unsupported_type``.
3. ``%PDF-`` in the first 1 KiB *and* a readable zip directory → ``ambiguous_type``
   (a polyglot); otherwise PDF.
4. PNG, JPEG or TIFF signature → that image type (read by OCR); also PDF or zip → ``ambiguous_type``.
   A zip: ``OFD.xml`` at the root in the OFD namespace → OFD; ``word/document.xml`` → DOCX;
   other zips are reported by what they are. A damaged zip named .docx/.ofd goes to that
   format's parser (which says ``corrupt_file``).
5. ``{\\rtf`` at the start → RTF (before the text rule: RTF is 7-bit text), also under a
   .doc/.wps name (Word and WPS open those without a word; many "Word files" are RTF).
6. Text: no NUL bytes in the head and decodable as UTF-8 / UTF-16 (BOM) / GB18030.
7. Anything else → ``unsupported_type``.
Then the extension: a known extension that names a different type → ``type_mismatch``.
An unknown or missing extension is not an error: the bytes decide.
"""
from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from service.parsers import (
    AmbiguousType,
    EmptyFile,
    TypeMismatch,
    UnsupportedType,
)
from service.parsing.ole2 import MSWORD, PPT, XLS, ole2_type

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ZIP = "application/zip"
TEXT = "text/plain"
OLE2 = "application/x-ole-storage"
OFD = "application/ofd"
RTF = "application/rtf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"

#: Human names used in messages.
TYPE_NAMES = {
    PDF: "PDF", DOCX: "Word（.docx）", XLSX: "Excel（.xlsx）", PPTX: "PowerPoint（.pptx）",
    ODT: "OpenDocument 文本（.odt）", ZIP: "ZIP 压缩包", TEXT: "纯文本", OLE2: "旧版 Office 文件",
    OFD: "OFD 版式文档（.ofd）",
    MSWORD: "Word 97-2003（.doc/.wps）", XLS: "Excel 97-2003 工作簿（.xls/.et）",
    PPT: "PowerPoint 97-2003 演示文稿（.ppt/.dps）", RTF: "RTF 文档（.rtf）",
    PNG: "PNG 图片", JPEG: "JPEG 图片", TIFF: "TIFF 图片",
}

#: What a known extension promises.
EXTENSION_TYPES = {
    ".pdf": PDF, ".docx": DOCX, ".txt": TEXT, ".text": TEXT, ".xlsx": XLSX, ".pptx": PPTX,
    ".odt": ODT, ".zip": ZIP, ".doc": MSWORD, ".wps": MSWORD, ".dot": MSWORD, ".wpt": MSWORD,
    ".rtf": RTF, ".xls": XLS, ".et": XLS, ".ppt": PPT, ".dps": PPT, ".ofd": OFD,
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


#: OFD.xml's root element in the OFD namespace (GB/T 33190 says http://www.ofdspec.org/2016;
#: some writers leave out the year).
_OFD_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?OFD\b[^>]*?xmlns(?::[A-Za-z_][\w.-]*)?\s*=\s*[\"']http://www\.ofdspec\.org(?:/2016)?/?[\"']")


def _is_ofd(path: Path, names: list[str]) -> bool:
    """True if the zip's root holds an OFD.xml whose root element is in the OFD namespace
    (or an encrypted OFD.xml: the OFD parser then says ``encrypted``)."""
    entry = next((n for n in names if n.lower() == "ofd.xml"), None)
    if entry is None:
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            if zf.getinfo(entry).flag_bits & 0x1:
                return True
            with zf.open(entry) as fh:
                head = fh.read(4096)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError, zlib.error):
        return False
    return _OFD_ROOT.search(head) is not None


def _zip_type(names: list[str], path: Path | None = None) -> str:
    lowered = {n.lower() for n in names}
    if path is not None and "ofd.xml" in lowered and _is_ofd(path, names):
        return OFD
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
        return _checked(ole2_type(path), extension)

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
        media_type = _zip_type(zip_names, path)
    elif head.startswith(b"PK"):
        media_type = ZIP  # a damaged zip: let the extension or the parser say more
        if EXTENSION_TYPES.get(extension) in (DOCX, OFD):
            media_type = EXTENSION_TYPES[extension]
    elif head.startswith(b"{\\rtf"):
        media_type = RTF
        if EXTENSION_TYPES.get(extension) == MSWORD:  # Word and WPS open RTF saved as .doc; so do we
            return Sniffed(media_type=RTF, extension=extension)
    elif _looks_like_text(head):
        media_type = TEXT
    else:
        raise UnsupportedType(media_type=_describe_unknown(head))

    expected = EXTENSION_TYPES.get(extension)
    if expected is not None and expected != media_type:
        raise TypeMismatch(extension=extension, actual=TYPE_NAMES.get(media_type, media_type))
    return Sniffed(media_type=media_type, extension=extension)


def _checked(media_type: str, extension: str) -> Sniffed:
    """An OLE2 kind against the extension; Excel/PowerPoint binaries have no parser."""
    expected = EXTENSION_TYPES.get(extension)
    if expected is not None and expected != media_type:
        raise TypeMismatch(extension=extension, actual=TYPE_NAMES[media_type])
    if media_type != MSWORD:
        raise UnsupportedType(media_type=TYPE_NAMES[media_type])
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
