"""The parser plugin contract: the one module a format plugin imports.

A plugin is any object with ``name``, ``version``, ``media_types``, ``priority`` and
``parse(path, context) -> ParsedDocument``, registered under the ``gongkai.parsers``
entry-point group (see ``service.parsing.registry`` for how one is chosen). ``parse`` runs in a
child process with resource limits; it should raise a ``ParseError`` subclass for any
problem it recognises. Any other exception is turned into ``parser_failed``.

Optional: ``prepare() -> None``. The parse server calls it before each parse it hands to
a child, in its own process, outside the child's limits: the place to start (or restart)
a long-lived helper the children talk to, such as the warm LibreOffice of
``plugins/legacy_word.py``. It must be quick when there is nothing to do; an exception
is logged and the parse goes on.

Everything here is plain data: no database, no Flask, no analysis.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from service.errors import GongkaiError

# ---------------------------------------------------------------------------
# The normalized document
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph (or, for PDFs, a text line) in reading order.

    ``level`` is 0 for body text and 1..9 for headings. ``page`` is 1-based, or None
    where the format has no fixed pages (Word, plain text).
    """

    text: str
    page: int | None = None
    level: int = 0
    style: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A table as rows of cell texts (merged cells repeat their text once)."""

    rows: tuple[tuple[str, ...], ...]
    page: int | None = None


Block = Paragraph | Table


@dataclass(frozen=True, slots=True)
class HiddenText:
    """Text a reader of the body does not see but a privacy scan must.

    ``kind`` is one of: header, footer, comment, insertion, deletion, textbox,
    footnote, property, annotation, form_field, alt_text, attachment (an attached file's
    name). ``where`` says where it was found.
    """

    kind: str
    text: str
    where: str = ""


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """Something a reviewer should know about a document that still parsed.

    ``pages`` names the pages (1-based) the warning is about, where it is about some pages
    only (``partial_text_layer``: the pages without text); empty means the whole document or
    not page-related. The review's scan gate reads it (``service.secrecy_review``)."""

    code: str
    message: str
    pages: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class OcrLine:
    """A line of text read by OCR from a page image, kept for later redaction.

    ``box`` is (x0, y0, x1, y1) from the page's top-left corner, in PDF points for a PDF
    page and in pixels of the image for an image file; ``confidence`` is 0..1.
    """

    page: int
    text: str
    box: tuple[float, float, float, float]
    confidence: float


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """What every parser returns: one normalized document.

    ``properties`` holds file properties (core properties, PDF info) as strings.
    ``ocr_lines`` lists the lines OCR read (their text is also in ``blocks`` as paragraphs).
    """

    blocks: tuple[Block, ...]
    page_count: int
    title: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    hidden: tuple[HiddenText, ...] = ()
    warnings: tuple[ParseWarning, ...] = ()
    ocr_lines: tuple[OcrLine, ...] = ()

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [b for b in self.blocks if isinstance(b, Paragraph)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def body_text(self) -> str:
        """The body as plain text: paragraphs one per line, table rows tab-separated."""
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Paragraph):
                lines.append(block.text)
            else:
                lines.extend("\t".join(row) for row in block.rows)
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# What a parser is given
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParseLimits:
    max_pages: int = 2000
    max_text_bytes: int = 10 * 1024 * 1024
    max_zip_entries: int = 2000
    max_zip_uncompressed: int = 200 * 1024 * 1024
    max_zip_ratio: int = 200
    #: Only entries larger than this are checked against ``max_zip_ratio``.
    zip_ratio_floor: int = 1024 * 1024
    #: Scanned pages read by OCR per file, and the CPU seconds OCR may spend on one file;
    #: pages past either stay unread (``ocr_incomplete``), so a long scan ends within the parse limits.
    max_ocr_pages: int = 50
    ocr_cpu_seconds: float = 30.0
    #: Images (and image pages) with more pixels than this are refused before decoding.
    max_image_pixels: int = 60_000_000


@dataclass(frozen=True, slots=True)
class ParseContext:
    media_type: str
    filename: str = ""
    limits: ParseLimits = ParseLimits()


@dataclass(frozen=True, slots=True)
class RenditionContext(ParseContext):
    """What a renderer (``service.rendition.renderer``) needs besides the file: the document's
    title and public text, what its public copy masks, and the OCR lines of its scanned pages."""

    title: str = ""
    public_text: str = ""
    masks: dict | None = None
    #: (kind, value) of each value the public copy masks; ``required`` ones must be found on a page.
    values: tuple[tuple[str, str], ...] = ()
    required: tuple[tuple[str, str], ...] = ()
    ocr_lines: tuple[dict, ...] = ()
    font_path: str | None = None


@dataclass(frozen=True, slots=True)
class Rendition:
    """What a renderer returns instead of a ParsedDocument: a PDF made from the file.

    ``method`` is ``redacted`` (the file's own pages, masked values painted over) or ``text``
    (the public text typeset; ``reason`` says why the pages were not used)."""

    pdf: bytes
    pages: int
    covered: int
    method: str
    reason: str = ""


@runtime_checkable
class Parser(Protocol):
    name: str
    version: str
    media_types: frozenset[str]
    priority: int

    def parse(self, path: Path, context: ParseContext) -> ParsedDocument: ...


# ---------------------------------------------------------------------------
# Errors: one family, stable codes, a message a clerk understands
# ---------------------------------------------------------------------------


class ParseError(GongkaiError):
    code = "parse_error"
    message_zh = "文件无法解析。"
    message_en = "The file could not be parsed."


class EmptyFile(ParseError):
    code = "empty_file"
    message_zh = "文件是空的（0 字节），请检查后重新上传。"
    message_en = "The file is empty."


class FileTooLarge(ParseError):
    code = "file_too_large"
    message_zh = "文件超过大小上限（{limit}），请压缩或拆分后再上传。"
    message_en = "The file exceeds the size limit ({limit})."


class UnsupportedType(ParseError):
    code = "unsupported_type"
    message_zh = ("不支持的文件格式（{media_type}），"
                  "请上传 Word（.docx/.doc/.wps）、PDF、OFD、文本文件或扫描图片（.jpg/.png/.tif）。")
    message_en = "Unsupported file format ({media_type})."


class TypeMismatch(ParseError):
    code = "type_mismatch"
    message_zh = "文件内容与扩展名不符：文件名是 {extension}，内容实际是 {actual}。请确认文件后重新上传。"
    message_en = "The file's content does not match its extension: named {extension}, content is {actual}."


class AmbiguousType(ParseError):
    code = "ambiguous_type"
    message_zh = "文件同时符合多种格式（{types}），可能被改造过，为安全起见拒绝处理。"
    message_en = "The file is valid as several formats at once ({types}); refused for safety."


class LegacyOfficeFormat(ParseError):
    code = "legacy_office_format"
    message_zh = "这是旧版 Word/WPS 格式（.doc/.wps），请用 Word 或 WPS 另存为 .docx 后再上传。"
    message_en = "Legacy Word/WPS binary format (.doc/.wps); save it as .docx and upload again."


class Encrypted(ParseError):
    code = "encrypted"
    message_zh = "文件已加密或设置了打开密码，请去除密码后再上传。"
    message_en = "The file is encrypted or password-protected."


class CorruptFile(ParseError):
    code = "corrupt_file"
    message_zh = "文件已损坏或不完整，无法读取。请重新导出或重新扫描后上传。"
    message_en = "The file is damaged or incomplete."


class UnsafeContent(ParseError):
    code = "unsafe_content"
    message_zh = "文件包含不安全的结构（{what}），已拒绝处理。"
    message_en = "The file contains an unsafe construct ({what})."


class ResourceLimit(ParseError):
    code = "resource_limit"
    message_zh = "文件处理超出限制（{what}），可能是异常或恶意文件。请检查文件或联系管理员。"
    message_en = "Processing the file exceeded a limit ({what})."


class UnknownEncoding(ParseError):
    code = "unknown_encoding"
    message_zh = "无法识别文本文件的编码，请另存为 UTF-8 后再上传。"
    message_en = "The text file's encoding could not be recognised."


class ConverterMissing(ParseError):
    code = "converter_missing"
    message_zh = ("服务器上没有安装转换这种格式所需的程序（LibreOffice），暂时无法读取此文件，原件已保存。"
                  "请联系系统管理员安装。")
    message_en = "The converter this format needs (LibreOffice) is not installed on the server."


class ConverterFailed(ParseError):
    code = "converter_failed"
    message_zh = ("格式转换程序未能转换此文件（文件可能已损坏，或转换超时），原件已保存。"
                  "请用 Word 或 WPS 打开后另存为 .docx 再上传，或联系管理员。")
    message_en = "The format converter failed on this file (crash or timeout)."


class ParserFailed(ParseError):
    code = "parser_failed"
    message_zh = "解析程序在处理此文件时出错，原件已保存，请联系管理员。"
    message_en = "The parser failed on this file."


def parse_error_classes() -> dict[str, type[ParseError]]:
    """Every ParseError subclass by code (for reconstructing errors across processes)."""
    found: dict[str, type[ParseError]] = {ParseError.code: ParseError}
    stack = list(ParseError.__subclasses__())
    while stack:
        cls = stack.pop()
        found[cls.code] = cls
        stack.extend(cls.__subclasses__())
    return found


# Warning codes a parser or the cleaning step may attach.
WARNING_MESSAGES = {
    "no_text_layer": "文件没有可提取的文字（可能是扫描件或图片），需要人工处理或先做文字识别（OCR）。",
    "garbled_text_layer": "提取出的文字疑似乱码（字体编码缺失），请对照原件核对。",
    "partial_text_layer": "部分页面没有可提取的文字（可能是扫描页）：{page_list}。",
    "tables_skipped": "部分表格未能识别结构，已按正文文字处理。",
    "hidden_text_present": "文件含有修订、批注或隐藏文字，发布前请检查。",
    "ocr_text": "第 {page_list} 页为扫描件，文字由 OCR 识别（平均置信度 {confidence}%），请对照原件核对。",
    "ocr_incomplete": "扫描页过多或识别超时，第 {page_list} 页未做文字识别，请人工处理。",
}


def warning(code: str, pages: tuple[int, ...] | list[int] = (), **params: object) -> ParseWarning:
    """A warning with its Chinese message; ``pages`` (1-based page numbers) when it concerns
    some pages only. ``params`` fill the message (``partial_text_layer``'s ``page_list``).
    A string ``pages`` is the old message parameter (``pages="第 2 页"``) and still fills it."""
    if isinstance(pages, str):
        params.setdefault("page_list", pages)
        pages = ()
    template = WARNING_MESSAGES.get(code, code)
    try:
        message = template.format(**params)
    except (KeyError, IndexError, ValueError):
        message = template
    return ParseWarning(code=code, message=message, pages=tuple(int(n) for n in pages))
