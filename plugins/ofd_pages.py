"""An OFD page's content: its text runs (templates and composite units included), images
and the text of each TextObject by ID, read one page at a time.

A page draws its templates (``Template``/``TemplateID``, each once, whatever its ZOrder:
only the text matters here) and then its own layers; a ``CompositeObject`` draws a
``CompositeGraphicUnit`` from the resources with its own CTM and Boundary. Every drawn
object counts against one budget, so units that draw each other cannot multiply work
without bound. Private-use code points drawn with an embedded font are counted: they are
glyph numbers the font maps to shapes, with nothing that maps them back to Unicode (a
``CGTransform`` maps codes to glyphs, and these fonts' own cmaps map the same private-use
codes), so enough of them make the text layer garbled.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from plugins.ofd_document import OfdDocument, PageRef
from plugins.ofd_package import OfdPackage, child, children, local, numbers, text_of
from plugins.ofd_text import IDENTITY, Matrix, Run, object_matrix, text_object_runs
from service.parsers import CorruptFile, ResourceLimit

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


class PageReader:
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
