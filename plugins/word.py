"""Word (.docx) parser plugin: python-docx reads the document, behind a safety check.

A file goes through three steps:

1. **Safety first** (``plugins.ooxml``), before python-docx sees a byte: the zip directory
   (entry count, declared sizes, inflate ratios, duplicate names), the main part and its
   content type, and every XML part read through a bounded stream (per-part and total
   size caps, DTD refusal). This must come first because python-docx inflates every
   part of the package into memory and parses all the XML ones at once (unchecked, a
   342 KB zip bomb became 626 MB).
2. **python-docx opens the package** (from the bytes already in memory) and is the
   reader: ``document.element.body`` is the body tree; ``document.sections`` and each
   section's ``header``/``first_page_header``/``even_page_header`` (and footers),
   skipping those that are ``is_linked_to_previous``, give the headers and footers;
   ``document.core_properties`` the core properties; the document part's relationships
   give the styles, comments, footnote and endnote parts, and the package's the app and
   custom properties. python-docx models neither notes nor app/custom properties: those
   parts reach us as python-docx blobs and are parsed with ``plugins.ooxml``'s safe
   parser.
3. **The walker** (``plugins.word_walk``) runs on python-docx's oxml elements (they are
   lxml elements) instead of ``paragraph.text``/``cell.text``, which hide what a privacy
   scan must see: ``paragraph.text`` drops tracked insertions, content controls, text
   boxes and alt text and shows hidden (``w:vanish``) runs as if visible; ``cell.text``
   repeats merged cells. See that module for what ends in ``blocks`` and in ``hidden``.

What ends where:

- ``blocks``: the body in document order, as Word shows it in the "final" view.
- ``hidden``: headers/footers of every section (empty and pure page-number ones
  skipped; parts no section references too), comments, footnotes/endnotes, text boxes,
  tracked insertions and deletions, hidden runs, picture alt text, legacy form-field
  choices, document properties.
- ``page_count``: the larger of app.xml's ``<Pages>`` and explicit/rendered page breaks
  + 1 (generators such as python-docx leave a stale ``<Pages>1</Pages>``).

Three kinds of package python-docx cannot open are handed to it as a normalized copy
made in memory by ``Package.normalized_copy`` (there is no separate reading path):

- Strict OOXML (ISO/IEC 29500 Strict): python-docx looks for the Transitional
  relationship types ("no relationship of type …officeDocument"), so the namespaces are
  mapped to Transitional ones; ``properties["ooxml_conformance"]`` says "strict";
- macro-enabled and template main parts (.docm/.dotx content types, same
  WordprocessingML): python-docx says "not a Word file", so the content type is mapped;
- relationships to parts missing from the zip (``Target="NULL"`` left by Word add-ins,
  ``"#_top"``): python-docx fails the whole file with a KeyError, so they are dropped.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.exceptions import InvalidXmlError
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree

from plugins.ooxml import Package, custom_properties, extended_properties, parse_xml
from plugins.word_walk import (
    BODY, COMMENT, DOCUMENT, ENDNOTE, FOOTNOTE, VANISH, W_AUTHOR, W_DATE, W_ID, W_TYPE, Extractor,
    Styles, only_page_number, to_int,
)
from service.parsers import (
    Block, CorruptFile, EmptyFile, HiddenText, ParseContext, ParsedDocument, ParseError,
    ParseLimits, Paragraph, ResourceLimit, Table, warning,
)

_TITLE_STYLES = frozenset({"Title", "title", "标题"})
_GENERIC_TITLE = re.compile(
    r"^(?:Microsoft Word - .*|(?:文档|Document|新建\s*(?:Microsoft\s*)?Word\s*文档)\s*\d*|Untitled|无标题)$",
    re.IGNORECASE)
_HIDDEN_PROPERTIES = ("title", "subject", "author", "last_modified_by", "keywords", "comments",
                      "category", "company", "manager")
#: python-docx ``CoreProperties`` attributes, which are also our property keys.
_CORE_PROPERTIES = ("title", "subject", "author", "last_modified_by", "keywords", "comments",
                    "category", "content_status", "identifier", "language", "version", "revision",
                    "created", "modified", "last_printed")
_MAX_PROPERTY = 10_000
#: ``Section`` attributes → (label, variant) in the ``where`` of a header/footer.
_HEADERS_FOOTERS = (
    ("header", "页眉", ""), ("first_page_header", "页眉", " 首页"), ("even_page_header", "页眉", " 偶数页"),
    ("footer", "页脚", ""), ("first_page_footer", "页脚", " 首页"), ("even_page_footer", "页脚", " 偶数页"),
)


# ---------------------------------------------------------------------------
# Step 1: the safety check, then python-docx
# ---------------------------------------------------------------------------


def _main_content_type(pkg: Package) -> str:
    """The main document part's content type ("" if none); a clear error if there is no
    main part or it is not Word."""
    main = ""
    for rel in pkg.rels(""):
        if rel.is_type("officeDocument") and not rel.external and rel.target:
            if not pkg.has(rel.target):
                raise CorruptFile(f"main document part {rel.target} is missing")
            main = rel.target
            break
    if not main:
        if not pkg.has("word/document.xml"):
            raise CorruptFile("no word/document.xml: not a Word document")
        main = "word/document.xml"
    content_type = pkg.content_type(main) or ""
    if content_type and "wordprocessingml" not in content_type and "ms-word" not in content_type:
        raise CorruptFile(f"main part is {content_type}, not a Word document")
    return content_type


def _open(data: bytes, limits: ParseLimits) -> tuple[DocxDocument, bool]:
    """Check the package, then open it with python-docx; True if it is Strict OOXML."""
    with Package(io.BytesIO(data), limits) as pkg:
        content_type = _main_content_type(pkg)
        pkg.check_parts()
        strict = pkg.strict
        # python-docx reads only Transitional .docx main parts and fails on a relationship
        # to a missing part: such packages are handed over as a normalized copy.
        other_type = bool(content_type) and content_type != CT.WML_DOCUMENT_MAIN
        if strict or other_type or pkg.dangling:
            data = pkg.normalized_copy({content_type: CT.WML_DOCUMENT_MAIN} if other_type else None)
    try:
        return docx.Document(io.BytesIO(data)), strict
    except MemoryError:
        raise
    except Exception as exc:  # KeyError, ValueError, XMLSyntaxError … from python-docx
        raise CorruptFile(f"python-docx cannot open it: {type(exc).__name__}: {exc}"[:500]) from exc


# ---------------------------------------------------------------------------
# Step 2: the parts python-docx found
# ---------------------------------------------------------------------------


def _related(source, reltype: str):
    """The first internal part ``source`` (a python-docx part or package) relates to by
    ``reltype``, or None. (``part_related_by`` raises on a missing or doubled relationship.)"""
    return next((rel.target_part for rel in source.rels.values()
                 if rel.reltype == reltype and not rel.is_external), None)


def _root(part) -> etree._Element | None:
    """A part's XML root: python-docx's own tree for the parts it models, else the part's
    bytes (a python-docx blob, vetted by ``check_parts``) parsed with the safe parser."""
    if part is None:
        return None
    element = getattr(part, "element", None)
    return element if element is not None else parse_xml(str(part.partname), part.blob)


def _headers_footers(document: DocxDocument, ex: Extractor) -> None:
    stories = []
    for number, section in enumerate(document.sections, 1):
        for attr, label, variant in _HEADERS_FOOTERS:
            story = getattr(section, attr)
            if story.is_linked_to_previous:  # no definition of its own (never create one)
                continue
            try:
                part = story.part
            except (KeyError, InvalidXmlError):  # a reference without r:id or to no relationship
                continue
            stories.append((part, f"{label} 第{number}节{variant}"))
    for rel in document.part.rels.values():  # parts no section points at are still in the file
        if not rel.is_external and rel.reltype in (RT.HEADER, RT.FOOTER):
            stories.append((rel.target_part, f"{'页眉' if rel.reltype == RT.HEADER else '页脚'}（未引用）"))
    done: set[int] = set()
    for part, where in stories:
        if id(part) in done:
            continue
        done.add(id(part))
        root = _root(part)
        text = ex.story(root, where, track_fields=True)
        if text.strip() and not only_page_number(text):
            ex.add("header" if where.startswith("页眉") else "footer", text, where)


def _comments(document: DocxDocument, ex: Extractor) -> bool:
    """Comments as hidden text; True if there are any.

    python-docx 1.2's ``document.comments`` would create an empty comments part when
    there is none, and ``Comment.text`` joins ``paragraph.text`` (no tracked changes), so
    the comment elements of python-docx's comments part are walked instead.
    """
    root = _root(_related(document.part, RT.COMMENTS))
    found = False
    for comment in () if root is None else root.iter(COMMENT):
        text = ex.story(comment, "批注")
        if text.strip():
            found = True
            where = f"批注 by {comment.get(W_AUTHOR) or '未知'} {comment.get(W_DATE) or ''}"
            ex.add("comment", text, where.rstrip())
    return found


def _notes(document: DocxDocument, ex: Extractor) -> None:
    """Footnotes and endnotes (python-docx has no API for them: parsed from its blobs)."""
    for rel in document.part.rels.values():
        if rel.is_external or rel.reltype not in (RT.FOOTNOTES, RT.ENDNOTES):
            continue
        tag, label = (FOOTNOTE, "脚注") if rel.reltype == RT.FOOTNOTES else (ENDNOTE, "尾注")
        root = _root(rel.target_part)
        for note in root.iter(tag):
            if note.get(W_TYPE) in (None, "normal"):  # not the separator "notes"
                ex.add("footnote", ex.story(note, label), f"{label} {note.get(W_ID)}")


def _properties(document: DocxDocument) -> dict[str, str]:
    """Core properties from python-docx, app and custom ones from their parts; strings,
    dates as ISO 8601 (UTC), values capped at 10,000 characters."""
    package = document.part.package
    found: dict[str, str] = {}
    # Without a core-properties part python-docx would make one up ("python-docx", now).
    if _related(package, RT.CORE_PROPERTIES) is not None:
        core = document.core_properties
        for key in _CORE_PROPERTIES:
            value = getattr(core, key)
            if isinstance(value, dt.datetime):
                value = value.isoformat()
            elif key == "revision":  # python-docx: 0 when absent or not a number
                value = str(value) if value else ""
            value = (value or "").strip()[:_MAX_PROPERTY]
            if value:
                found[key] = value
    found.update(extended_properties(_root(_related(package, RT.EXTENDED_PROPERTIES))))
    found.update(custom_properties(_root(_related(package, RT.CUSTOM_PROPERTIES))))
    return found


# ---------------------------------------------------------------------------
# Step 3: the document
# ---------------------------------------------------------------------------


def _title(properties: dict[str, str], blocks: list[Block]) -> str | None:
    title = properties.get("title", "").strip()
    if title and not _GENERIC_TITLE.match(title):
        return title
    for block in blocks:
        if isinstance(block, Paragraph) and (block.level or block.style in _TITLE_STYLES):
            return block.text.strip() or None
    return None


def _page_count(properties: dict[str, str], ex: Extractor, limits: ParseLimits) -> int:
    # app.xml's <Pages> is what Word counted when it saved; generators (python-docx,
    # templates) leave a stale value, so explicit/rendered breaks set a floor.
    pages = max(to_int(properties.get("pages")), ex.page_breaks + 1, ex.rendered_breaks + 1)
    if pages > limits.max_pages:
        raise ResourceLimit(f"{pages} pages", what=f"页数超过 {limits.max_pages} 页")
    return pages


def _check_text_size(blocks: list[Block], hidden: list[HiddenText], limits: ParseLimits) -> None:
    texts = [b.text for b in blocks if isinstance(b, Paragraph)]
    texts += [cell for b in blocks if isinstance(b, Table) for row in b.rows for cell in row]
    texts += [h.text for h in hidden]
    chars = sum(map(len, texts))
    if chars * 4 > limits.max_text_bytes:  # UTF-8 is at most 4 bytes per character
        size = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
        if size > limits.max_text_bytes:
            raise ResourceLimit(f"{size} bytes of text",
                                what=f"文字量超过 {limits.max_text_bytes // (1024 * 1024)} MB")


def _parse(path: Path, limits: ParseLimits) -> ParsedDocument:
    data = path.read_bytes()
    if not data:
        raise EmptyFile()
    document, strict = _open(data, limits)
    del data
    root = document.element
    if root.tag != DOCUMENT or root.find(BODY) is None:
        raise CorruptFile(f"{document.part.partname} has no w:body (root {root.tag!r})")
    body = root.body
    styles = _root(_related(document.part, RT.STYLES))
    # Only the body can hide runs (headers, comments … are hidden as a whole), and a
    # tree without w:vanish anywhere cannot: then the walker skips the per-run check.
    check_vanish = any(next(tree.iter(VANISH), None) is not None
                       for tree in (body, styles) if tree is not None)
    ex = Extractor(Styles(styles), check_vanish)
    blocks = ex.body(body)
    _headers_footers(document, ex)
    has_comments = _comments(document, ex)
    _notes(document, ex)
    properties = _properties(document)
    if strict:
        properties["ooxml_conformance"] = "strict"
    del document, root, body, styles
    for key in _HIDDEN_PROPERTIES:
        if key in properties:
            ex.add("property", properties[key], key)
    for key, value in properties.items():
        if key.startswith("custom:"):
            ex.add("property", value, key)
    hidden = ex.hidden()
    _check_text_size(blocks, hidden, limits)
    warnings = []
    if has_comments or ex.has_changes or ex.has_hidden_runs:
        warnings.append(warning("hidden_text_present"))
    return ParsedDocument(
        blocks=tuple(blocks), page_count=_page_count(properties, ex, limits),
        title=_title(properties, blocks), properties=properties, hidden=tuple(hidden),
        warnings=tuple(warnings))


class WordParser:
    """Parser plugin for .docx (WordprocessingML, Transitional and Strict)."""

    name = "word"
    version = "1"
    media_types = frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document"})
    priority = 0

    def parse(self, path: Path, context: ParseContext) -> ParsedDocument:
        try:
            return _parse(Path(path), context.limits)
        except ParseError:
            raise
        except MemoryError:
            raise ResourceLimit("out of memory while parsing", what="内存") from None
        except RecursionError:
            raise ResourceLimit("document nesting too deep", what="嵌套层数") from None
        except Exception as exc:  # python-docx/lxml/zipfile surprises: never a raw traceback
            raise CorruptFile(f"{type(exc).__name__}: {exc}"[:500]) from exc
