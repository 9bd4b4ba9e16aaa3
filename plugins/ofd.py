"""OFD (GB/T 33190, 版式文档): text per page in reading order, properties, hidden text.

The package is checked like a .docx before any part is parsed (``plugins.ofd_package``);
``plugins.ofd_document`` finds the pages, templates and resources; ``plugins.ofd_text``
turns each page's TextObjects — the templates it draws on first, each once — into lines;
``plugins.ofd_hidden`` collects annotations, attachments, custom tags and signatures.

Pages without text come out empty, and the cleaning step judges the text layer as for
PDFs: ``no_text_layer`` / ``partial_text_layer`` for pages that are only images (scans),
``garbled_text_layer`` for text made of private-use glyph codes that an embedded font
draws without a mapping back to Unicode (the characters are kept as found, so the
judgement is the cleaning step's, one rule for every format). :func:`page_images` gives
the images of such pages, for OCR.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from plugins import ofd_hidden
from plugins.ofd_document import OfdDocument, PageRef, open_document
from plugins.ofd_package import OfdPackage, child, children, local, numbers, text_of
from plugins.ofd_text import IDENTITY, Line, Matrix, Run, lines, object_matrix, text_object_runs
from service.parsers import (
    CorruptFile,
    HiddenText,
    Paragraph,
    ParseContext,
    ParsedDocument,
    ParseLimits,
    ResourceLimit,
    warning,
)

MEDIA_TYPE = "application/ofd"
_IMAGE_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif"),
                (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"), (b"BM", "image/bmp"),
                (b"\x97JB2", "image/x-jbig2"))


@dataclass
class PageContent:
    runs: list[Run] = field(default_factory=list)
    #: (MultiMedia resource ID, share of the page's area the image covers)
    images: list[tuple[str, float]] = field(default_factory=list)
    #: TextObject ID → its text (custom tags point at objects by ID)
    objects: dict[str, str] = field(default_factory=dict)


#: Most text, image and composite objects (a composite unit's counted each time it is drawn)
#: read from one file.
MAX_OBJECTS = 2_000_000
#: Private-use codes of embedded fonts that make a text layer garbled: at least this many,
#: and more than this share of all characters (a few symbols from a Wingdings-like font are not).
GLYPH_CODES_MIN = 20
GLYPH_CODES_SHARE = 0.02
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010fffd]")
_DRAWN = ("{*}TextObject", "{*}ImageObject", "{*}CompositeObject")
#: How deep composite graphic units may draw each other.
MAX_COMPOSITE_DEPTH = 4


class _PageReader:
    """Reads pages one at a time; a template's content is read once per document."""

    def __init__(self, pkg: OfdPackage, doc: OfdDocument) -> None:
        self.pkg, self.doc = pkg, doc
        self._templates: dict[str, PageContent] = {}
        self._budget = MAX_OBJECTS
        #: Characters read, and those that are private-use codes drawn by an embedded font.
        self.chars = self.glyph_codes = 0

    def read(self, ref: PageRef) -> PageContent:
        root = self.pkg.xml(ref.entry) if ref.entry else None
        if root is None:
            raise CorruptFile(f"page {ref.number} (ID {ref.page_id}): its content is not in the package")
        area = _area(numbers(text_of(child(root, "Area"), "PhysicalBox")) or self.doc.page_box)
        page = PageContent()
        for tpl_id in dict.fromkeys(t.get("TemplateID") or "" for t in children(root, "Template")):
            tpl = self._template(tpl_id, area)
            page.runs.extend(tpl.runs)
            page.images.extend(tpl.images)
            page.objects.update(tpl.objects)
        self._collect(child(root, "Content"), area, page)
        return page

    def _template(self, tpl_id: str, area: float) -> PageContent:
        if tpl_id not in self._templates:
            content = PageContent()
            entry = self.doc.templates.get(tpl_id)
            root = self.pkg.xml(entry) if entry else None
            self._collect(child(root, "Content"), area, content)
            self._templates[tpl_id] = content
        return self._templates[tpl_id]

    def _collect(self, content: etree._Element | None, area: float, into: PageContent,
                 outer: Matrix = IDENTITY, depth: int = 0) -> None:
        for obj in () if content is None else content.iter(*_DRAWN):
            name = local(obj)
            self._budget -= 1
            if self._budget < 0:
                raise ResourceLimit(f"more than {MAX_OBJECTS} objects drawn", what="页面对象数量")
            if name == "TextObject":
                runs = text_object_runs(obj, outer)
                into.runs.extend(runs)
                self._count(obj, runs)
                if obj.get("ID"):
                    into.objects[obj.get("ID")] = "".join(r.text for r in runs)
            elif name == "ImageObject" and obj.get("ResourceID"):
                box = numbers(obj.get("Boundary"))
                share = box[2] * box[3] / area if len(box) >= 4 and depth == 0 else 0.0
                into.images.append((obj.get("ResourceID"), share))
            elif name == "CompositeObject" and depth < MAX_COMPOSITE_DEPTH:
                unit = self.doc.composites.get(obj.get("ResourceID") or "")
                if unit is not None:
                    self._collect(unit, area, into, object_matrix(obj, outer), depth + 1)


    def _count(self, obj: etree._Element, runs: list[Run]) -> None:
        for run in runs:
            self.chars += len(run.text)
            if obj.get("Font") in self.doc.embedded_fonts:
                self.glyph_codes += len(_PRIVATE_USE.findall(run.text))

    def garbled(self) -> bool:
        """True if enough of the text is private-use codes of embedded fonts: glyph numbers
        with no mapping back to Unicode (a CGTransform maps codes to glyphs, not to text)."""
        return self.glyph_codes >= GLYPH_CODES_MIN and self.glyph_codes > GLYPH_CODES_SHARE * self.chars


def _area(box: list[float]) -> float:
    return box[2] * box[3] if len(box) >= 4 and box[2] > 0 and box[3] > 0 else 210.0 * 297.0


def _media_type(data: bytes) -> str:
    for magic, media_type in _IMAGE_MAGIC:
        if data.startswith(magic):
            return media_type
    return "application/octet-stream"


def page_images(path: Path | str, page_numbers: list[int] | None = None,
                limits: ParseLimits = ParseLimits()) -> list[tuple[int, bytes, str]]:
    """The largest image of each listed page (all pages if None) that has no text: for OCR.

    Returns (1-based page number, image bytes, media type sniffed from the bytes:
    image/jpeg, image/png, image/tiff, image/bmp, image/gif, image/x-jbig2 or
    application/octet-stream). Pages with text or without an image are left out. Raises
    the same coded errors as parsing (corrupt_file, resource_limit, unsafe_content …).
    """
    wanted = None if page_numbers is None else set(page_numbers)
    found: list[tuple[int, bytes, str]] = []
    with OfdPackage(path, limits) as pkg:
        doc = open_document(pkg, limits.max_pages)
        reader = _PageReader(pkg, doc)
        for ref in doc.pages:
            if wanted is not None and ref.number not in wanted:
                continue
            page = reader.read(ref)
            if any(r.text.strip() for r in page.runs):
                continue
            for resource, _share in sorted(page.images, key=lambda item: -item[1]):
                entry = doc.media.get(resource)
                data = pkg.read(entry) if entry else None
                if data:
                    found.append((ref.number, data, _media_type(data)))
                    break
    return found


class OfdParser:
    name = "ofd"
    version = "1"
    media_types = frozenset({MEDIA_TYPE})
    priority = 0

    def parse(self, path: Path, context: ParseContext) -> ParsedDocument:
        with OfdPackage(path, context.limits) as pkg:
            doc = open_document(pkg, context.limits.max_pages)
            reader = _PageReader(pkg, doc)
            blocks, objects, first_lines = _read_pages(reader, context.limits)
            hidden = (ofd_hidden.annotations(pkg, doc) + ofd_hidden.attachments(pkg, doc)
                      + ofd_hidden.custom_tags(pkg, doc, objects) + ofd_hidden.signatures(pkg, doc))
        return _document(doc, blocks, hidden, garbled=reader.garbled(),
                         title=_title(doc.info) or title_from_lines(first_lines))


def _read_pages(reader: _PageReader, limits: ParseLimits) -> tuple[list[Paragraph], dict[str, str], list[Line]]:
    """The lines of every page as paragraphs, the text of each TextObject by ID, and the
    first page's lines (with their font sizes, for the title)."""
    first_page: list[Line] | None = None
    blocks: list[Paragraph] = []
    objects: dict[str, str] = {}
    text_bytes = 0
    for ref in reader.doc.pages:
        page = reader.read(ref)
        objects.update(page.objects)
        page_lines = lines(page.runs)
        if first_page is None and page_lines:
            first_page = page_lines
        for line in page_lines:
            blocks.append(Paragraph(text=line.text, page=ref.number))
            text_bytes += len(line.text.encode("utf-8"))
        if text_bytes > limits.max_text_bytes:
            raise ResourceLimit(f"{text_bytes} bytes", what="文字量超过上限")
    return blocks, objects, first_page or []


def _title(info: dict[str, str]) -> str | None:
    title = (info.get("Title") or "").strip()
    lowered = title.lower()
    if not title or lowered.startswith(("untitled", "microsoft word")) or lowered.endswith((".doc", ".docx", ".wps", ".ofd", ".pdf")):
        return None
    return title


#: Lines of the first page searched for a title, and how much larger than the page's usual
#: font its font must be.
TITLE_LINES = 12
TITLE_SCALE = 1.2


def title_from_lines(first_page: list[Line]) -> str | None:
    """The first run of lines set in the largest font near the top of the first page (a
    title may wrap), if that font is clearly larger than the page's usual one."""
    if len(first_page) < 2:
        return None
    usual = sorted(line.size for line in first_page)[len(first_page) // 2]
    top = first_page[:TITLE_LINES]
    biggest = max(line.size for line in top)
    if biggest < TITLE_SCALE * usual:
        return None
    picked: list[str] = []
    for line in top:
        if line.size >= 0.95 * biggest:
            picked.append(line.text)
        elif picked:
            break
    title = "".join(picked[:3]).strip()
    return title if 2 <= len(title) <= 80 else None


def _document(doc: OfdDocument, blocks: list[Paragraph], hidden: list[HiddenText], *, garbled: bool,
              title: str | None) -> ParsedDocument:
    properties = dict(doc.info)
    properties.update({f"custom:{k}": v for k, v in doc.custom.items()})
    properties["pages"] = str(len(doc.pages))
    hidden = [HiddenText("property", v, k) for k, v in doc.info.items()
              if k in ("Title", "Author", "Subject", "Keywords", "Abstract")] + hidden
    warnings = [warning("hidden_text_present")] if any(h.kind == "annotation" for h in hidden) else []
    if garbled:
        warnings.append(warning("garbled_text_layer"))
    return ParsedDocument(blocks=tuple(blocks), page_count=len(doc.pages), title=title,
                          properties=properties, hidden=tuple(hidden), warnings=tuple(warnings))
