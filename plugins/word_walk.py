"""The WordprocessingML walker behind the Word plugin (``plugins.word``).

python-docx opens the package and hands over its element trees (its oxml classes are
lxml elements); this module walks them. It exists because python-docx's text API shows
what Word shows in its "final" view only partly and hides the rest: ``paragraph.text``
reads only the ``w:r``/``w:hyperlink`` children of a paragraph, so it drops tracked
insertions (``w:ins``), content controls (``w:sdt``), field results inside
``w:fldSimple``, text boxes and picture alt text, and it *includes* runs formatted as
hidden (``w:vanish``); ``cell.text`` repeats a merged cell's text in every grid cell it
covers. The walker instead gives, in one pass over each story:

- body blocks as Word shows them: tracked insertions in, deletions and hidden runs out,
  content controls unwrapped, hyperlinks and field results in, ``w:br`` as "\\n",
  ``w:tab`` as "\\t"; page and column breaks add no text; empty paragraphs skipped.
  Tables keep Word's grid: a horizontally merged cell gives its text once followed by ""
  for the columns it spans, a vertically merged continuation cell is ""; a nested table
  becomes lines of its cells joined by spaces inside the outer cell;
- hidden text a privacy scan must see: every tracked insertion and deletion (plus the
  pre-change text of each paragraph with a deletion, so a partly retyped number is whole
  somewhere), hidden runs, text boxes (read once, from one branch of
  ``mc:AlternateContent``), picture alt text, legacy form-field choices; and, through
  :meth:`Extractor.story`, the text of whole hidden stories (headers, comments, notes)
  with page-number fields marked so a pure "— 1 —" footer can be skipped;
- page and rendered page breaks for the page count, and heading levels from styles
  (following ``basedOn``) and ``w:outlineLvl``.
"""
from __future__ import annotations

import re

from lxml import etree

from service.parsers import Block, HiddenText, Paragraph, Table

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
VML = "urn:schemas-microsoft-com:vml"
MATH = "http://schemas.openxmlformats.org/officeDocument/2006/math"


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


DOCUMENT, BODY, P, R, T, TBL, TR, TC = (_w(n) for n in ("document", "body", "p", "r", "t", "tbl", "tr", "tc"))
PPR, RPR, TRPR, TCPR, PSTYLE, RSTYLE = (_w(n) for n in ("pPr", "rPr", "trPr", "tcPr", "pStyle", "rStyle"))
OUTLINE, VANISH, SECTPR, PAGE_BREAK_BEFORE = (_w(n) for n in ("outlineLvl", "vanish", "sectPr", "pageBreakBefore"))
TAB, PTAB, BR, CR, NB_HYPHEN, LAST_RENDERED = (
    _w(n) for n in ("tab", "ptab", "br", "cr", "noBreakHyphen", "lastRenderedPageBreak"))
DEL_TEXT, INS, DEL, MOVE_TO, MOVE_FROM = (_w(n) for n in ("delText", "ins", "del", "moveTo", "moveFrom"))
SDT, SDT_CONTENT, FLD_SIMPLE, FLD_CHAR, INSTR_TEXT = (
    _w(n) for n in ("sdt", "sdtContent", "fldSimple", "fldChar", "instrText"))
DRAWING, PICT, OBJECT, TXBX_CONTENT, RUBY, RUBY_BASE = (
    _w(n) for n in ("drawing", "pict", "object", "txbxContent", "ruby", "rubyBase"))
GRID_SPAN, GRID_BEFORE, GRID_AFTER = (_w(n) for n in ("gridSpan", "gridBefore", "gridAfter"))
COMMENT, FOOTNOTE, ENDNOTE = (_w(n) for n in ("comment", "footnote", "endnote"))
FF_DATA, FF_NAME, FF_LIST_ENTRY, FF_TEXT_INPUT, FF_DEFAULT = (
    _w(n) for n in ("ffData", "name", "listEntry", "textInput", "default"))
SECT_TYPE, STYLE, STYLE_NAME, BASED_ON = (_w(n) for n in ("type", "style", "name", "basedOn"))
W_DEFAULT = _w("default")
W_VAL, W_TYPE, W_AUTHOR, W_DATE, W_ID, W_INSTR, W_FLD_CHAR_TYPE, W_STYLE_ID = (
    _w(n) for n in ("val", "type", "author", "date", "id", "instr", "fldCharType", "styleId"))
INLINE_WRAPPERS = frozenset(_w(n) for n in ("hyperlink", "smartTag", "customXml", "dir", "bdo"))
BLOCK_WRAPPERS = frozenset(_w(n) for n in ("customXml",))
MC_ALT, MC_CHOICE, MC_FALLBACK = (f"{{{MC}}}{n}" for n in ("AlternateContent", "Choice", "Fallback"))
MATH_BLOCKS = frozenset(f"{{{MATH}}}{n}" for n in ("oMath", "oMathPara"))
MATH_T = f"{{{MATH}}}t"
DOC_PR = f"{{{WP}}}docPr"
V_TEXTPATH = f"{{{VML}}}textpath"

_OFF = frozenset({"0", "false", "off"})
_MAX_SPAN = 63  # Word's column limit; bounds padding from hostile gridSpan values
_PF_START, _PF_END = "\x01", "\x02"  # brackets page-number field results (never in XML text)
_PAGE_FIELDS = frozenset({"PAGE", "NUMPAGES", "SECTIONPAGES", "SECTION"})
_PAGE_FIELD_RESULT = re.compile("\x01[^\x02]*(?:\x02|$)")
_PAGE_DECORATION = re.compile(r"(?:[\s\-—–―－_·•.,，、/|()（）\[\]【】<>《》第页共]|Page|page|of)*")
_HEADING_NAME = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_UI_NAMES = {"caption": "Caption", "footer": "Footer", "header": "Header", "title": "Title",
             **{f"heading {n}": f"Heading {n}" for n in range(1, 10)}}


def _on(el: etree._Element) -> bool:
    return el.get(W_VAL) not in _OFF


def to_int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _choose(alt: etree._Element) -> etree._Element | None:
    """The branch of mc:AlternateContent to read: the first Choice, else the Fallback.

    Reading exactly one branch keeps text boxes (DrawingML + VML copies) from doubling.
    """
    fallback = None
    for child in alt:
        if child.tag == MC_CHOICE:
            return child
        if child.tag == MC_FALLBACK:
            fallback = child
    return fallback


def _children(el: etree._Element, tag: str):
    """Children with ``tag``, looking through content controls and custom XML wrappers."""
    for child in el:
        ctag = child.tag
        if ctag == tag:
            yield child
        elif ctag == SDT:
            content = child.find(SDT_CONTENT)
            if content is not None:
                yield from _children(content, tag)
        elif ctag in BLOCK_WRAPPERS:
            yield from _children(child, tag)
        elif ctag == MC_ALT:
            chosen = _choose(child)
            if chosen is not None:
                yield from _children(chosen, tag)


def _blocks_text(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            lines.append(block.text)
        else:
            lines.extend(" ".join(c for c in row if c) for row in block.rows)
    return "\n".join(line for line in lines if line)


class Styles:
    """Style id → (UI name, heading level, hidden) from styles.xml, following basedOn.

    Only the styles a document actually uses are examined (lazily): a python-docx or
    Word template's styles.xml defines ~160 styles of which a document uses a handful.
    """

    def __init__(self, root: etree._Element | None) -> None:
        self._elements: dict[str, etree._Element] = {}
        self._raw: dict[str, tuple[str | None, str | None, int | None, bool | None]] = {}
        self._resolved: dict[str | None, tuple[str | None, int, bool]] = {}
        self.default_paragraph: str | None = None
        for style in () if root is None else root.iterchildren(STYLE):
            sid = style.get(W_STYLE_ID)
            if sid is None or sid in self._elements:
                continue
            self._elements[sid] = style
            if (self.default_paragraph is None and style.get(W_TYPE) == "paragraph"
                    and style.get(W_DEFAULT) in ("1", "true", "on")):
                self.default_paragraph = sid

    def resolve(self, sid: str | None) -> tuple[str | None, int, bool]:
        """(UI name, heading level 0..9, hidden) of a style id; the default style if None."""
        cached = self._resolved.get(sid)
        if cached is None:
            cached = self._resolved[sid] = self._compute(sid if sid is not None else self.default_paragraph)
        return cached

    def _definition(self, sid: str) -> tuple[str | None, str | None, int | None, bool | None] | None:
        """(name, basedOn, outline level, vanish) as written in one style element."""
        if sid not in self._raw:
            style = self._elements.get(sid)
            if style is None:
                return None
            name = based = outline = hidden = None
            for child in style:
                tag = child.tag
                if tag == STYLE_NAME:
                    name = child.get(W_VAL)
                elif tag == BASED_ON:
                    based = child.get(W_VAL)
                elif tag == PPR:
                    found = child.find(OUTLINE)
                    outline = None if found is None else to_int(found.get(W_VAL), 9)
                elif tag == RPR:
                    found = child.find(VANISH)
                    hidden = None if found is None else _on(found)
            self._raw[sid] = (name, based, outline, hidden)
        return self._raw[sid]

    def _compute(self, sid: str | None) -> tuple[str | None, int, bool]:
        if sid is None:
            return None, 0, False
        raw = self._definition(sid)
        if raw is None:  # unknown id: keep it as the name, still recognise "Heading1"
            match = _HEADING_NAME.match(re.sub(r"(?i)^heading(\d)$", r"heading \1", sid))
            return sid, int(match.group(1)) if match else 0, False
        name = raw[0] or sid
        outline = hidden = None
        current, seen = sid, set()
        while current is not None and current not in seen and len(seen) < 32:
            seen.add(current)
            entry = self._definition(current)
            if entry is None:
                break
            outline = entry[2] if outline is None else outline
            hidden = entry[3] if hidden is None else hidden
            current = entry[1]
        match = _HEADING_NAME.match(name.strip())
        if match:
            level = int(match.group(1))
        elif outline is not None and 0 <= outline <= 8:
            level = outline + 1
        else:
            level = 0
        return _UI_NAMES.get(name, name), level, bool(hidden)


class Extractor:
    """Walks WordprocessingML stories; collects body blocks and hidden text."""

    def __init__(self, styles: Styles, check_vanish: bool) -> None:
        self.styles = styles
        #: False when no part mentions w:vanish: then no run can be hidden-formatted.
        self.check_vanish = check_vanish
        self.page_breaks = 0
        self.rendered_breaks = 0
        self.has_changes = False
        self.has_hidden_runs = False
        self._items: list[list] = []  # [kind, where, parts]: mutable while being merged
        self._ctx = "正文"
        self._in_body = True
        self._story_hidden = False  # inside a story that is hidden as a whole (header …)
        self._fields: list[list] | None = None  # field stack when page fields are tracked
        self._change_depth = 0
        self._deletions = 0
        self._open_change: tuple | None = None
        self._vanish: list[str] = []
        self._para_hidden = False
        self._seen_boxes: set[etree._Element] = set()

    # -- results -----------------------------------------------------------

    def add(self, kind: str, text: str, where: str) -> None:
        self._items.append([kind, where, [text]])

    def hidden(self) -> list[HiddenText]:
        found, seen = [], set()
        for kind, where, parts in self._items:
            text = "".join(parts).replace(_PF_START, "").replace(_PF_END, "")
            key = (kind, text, where)
            if text.strip() and key not in seen:
                seen.add(key)
                found.append(HiddenText(kind, text, where))
        return found

    # -- stories -----------------------------------------------------------

    def body(self, body: etree._Element) -> list[Block]:
        """The body's blocks in document order (``body`` is python-docx's ``w:body``)."""
        blocks: list[Block] = []
        self._blocks_into(body, blocks)
        return blocks

    def story(self, root: etree._Element, where: str, track_fields: bool = False) -> str:
        """The whole text of a hidden story (header, comment, note, text box)."""
        saved = (self._ctx, self._in_body, self._story_hidden, self._fields, self._open_change,
                 self._vanish, self._para_hidden, self._change_depth)
        self._ctx, self._in_body, self._story_hidden = where, False, True
        self._fields = [] if track_fields else None
        self._open_change, self._vanish, self._para_hidden, self._change_depth = None, [], False, 0
        try:
            blocks: list[Block] = []
            self._blocks_into(root, blocks)
        finally:
            (self._ctx, self._in_body, self._story_hidden, self._fields, self._open_change,
             self._vanish, self._para_hidden, self._change_depth) = saved
        return _blocks_text(blocks).strip("\n")

    # -- blocks ------------------------------------------------------------

    def _blocks_into(self, container: etree._Element, out: list[Block]) -> None:
        for el in container:
            tag = el.tag
            if tag == P:
                para = self._paragraph(el)
                if para is not None:
                    out.append(para)
            elif tag == TBL:
                table = self._table(el)
                if table is not None:
                    out.append(table)
            elif tag == SDT:
                content = el.find(SDT_CONTENT)
                if content is not None:
                    self._blocks_into(content, out)
            elif tag in BLOCK_WRAPPERS:
                self._blocks_into(el, out)
            elif tag == MC_ALT:
                chosen = _choose(el)
                if chosen is not None:
                    self._blocks_into(chosen, out)

    def _paragraph(self, p: etree._Element) -> Paragraph | None:
        style_id = outline = None
        ppr = p[0] if len(p) and p[0].tag == PPR else None
        if ppr is not None:
            for prop in ppr:  # one pass: ElementPath find() costs ~1 µs a call
                tag = prop.tag
                if tag == PSTYLE:
                    style_id = prop.get(W_VAL)
                elif tag == OUTLINE:
                    outline = to_int(prop.get(W_VAL), 9)
                elif not self._in_body:
                    continue
                elif tag == PAGE_BREAK_BEFORE:
                    if _on(prop):
                        self.page_breaks += 1
                elif tag == SECTPR:
                    self._section_break(prop)
        name, level, hidden = self.styles.resolve(style_id)
        if outline is not None and not _HEADING_NAME.match(name or ""):
            level = outline + 1 if 0 <= outline <= 8 else 0
        self._para_hidden = hidden and self.check_vanish and not self._story_hidden
        parts: list[str] = []
        deletions = self._deletions
        self._inline(p, parts)
        if self._vanish:
            self._flush_vanish()
        self._open_change = None
        if self._deletions > deletions:
            # A number partly deleted and retyped is whole in neither the body nor the
            # deletion: the scan also gets the paragraph as it read before the changes.
            self.add("deletion", _original_text(p), f"修订前原文（{self._ctx}）")
        text = "".join(parts)
        if not text.strip():
            return None
        return Paragraph(text, None, level, name)

    def _section_break(self, sect: etree._Element) -> None:
        kind = sect.find(SECT_TYPE)
        if kind is None or kind.get(W_VAL) != "continuous":
            self.page_breaks += 1

    def _table(self, tbl: etree._Element) -> Table | None:
        rows = []
        for tr in _children(tbl, TR):
            cells: list[str] = []
            trpr = tr.find(TRPR)
            after = 0
            if trpr is not None:
                found = trpr.find(GRID_BEFORE)
                if found is not None:
                    cells.extend([""] * min(max(to_int(found.get(W_VAL)), 0), _MAX_SPAN))
                found = trpr.find(GRID_AFTER)
                if found is not None:
                    after = min(max(to_int(found.get(W_VAL)), 0), _MAX_SPAN)
            for tc in _children(tr, TC):
                blocks: list[Block] = []
                self._blocks_into(tc, blocks)
                cells.append(_blocks_text(blocks))
                tcpr = tc[0] if len(tc) and tc[0].tag == TCPR else None
                for prop in () if tcpr is None else tcpr:
                    if prop.tag == GRID_SPAN:
                        cells.extend([""] * min(max(to_int(prop.get(W_VAL), 1) - 1, 0), _MAX_SPAN))
            cells.extend([""] * after)
            rows.append(tuple(cells))
        if not any(cell.strip() for row in rows for cell in row):
            return None
        return Table(tuple(rows))

    # -- inline content ----------------------------------------------------

    def _inline(self, parent: etree._Element, out: list[str]) -> None:
        for el in parent:
            tag = el.tag
            if tag == R:
                self._run(el, out)
            elif tag in INLINE_WRAPPERS:
                self._inline(el, out)
            elif tag in (INS, MOVE_TO):
                self._change(el, out, "insertion")
            elif tag in (DEL, MOVE_FROM):
                self._change(el, None, "deletion")
            elif tag == SDT:
                content = el.find(SDT_CONTENT)
                if content is not None:
                    self._inline(content, out)
            elif tag == FLD_SIMPLE:
                page = self._fields is not None and _is_page_field(el.get(W_INSTR))
                if page:
                    out.append(_PF_START)
                self._inline(el, out)
                if page:
                    out.append(_PF_END)
            elif tag == MC_ALT:
                chosen = _choose(el)
                if chosen is not None:
                    self._inline(chosen, out)
            elif tag in MATH_BLOCKS:
                out.append("".join(el.itertext(MATH_T, with_tail=False)))

    def _change(self, el: etree._Element, out: list[str] | None, kind: str) -> None:
        parts: list[str] = []
        self._change_depth += 1
        try:
            self._inline(el, parts)
        finally:
            self._change_depth -= 1
        if out is not None:
            out.extend(parts)
        text = "".join(parts)
        if not text.replace(_PF_START, "").replace(_PF_END, "").strip():
            return
        self.has_changes = True
        self._deletions += kind == "deletion"
        key = (kind, el.get(W_AUTHOR) or "未知", el.get(W_DATE) or "")
        if self._open_change is not None and self._open_change[0] == key:
            self._open_change[1].append(text)  # Word splits one edit over several w:ins
        else:
            item = [kind, f"修订 by {key[1]} {key[2]}".rstrip(), [text]]
            self._items.append(item)
            self._open_change = (key, item[2])

    def _run(self, r: etree._Element, out: list[str]) -> None:
        target = self._vanish if self._para_hidden else out
        start = len(out)
        for el in r:
            tag = el.tag
            if tag in (T, DEL_TEXT):
                text = el.text
                if text:
                    target.append(text)
            elif tag == RPR:
                if self.check_vanish and not self._story_hidden:
                    hidden = self._run_hidden(el)
                    if hidden is not None:
                        target = self._vanish if hidden else out
            elif tag in (TAB, PTAB):
                target.append("\t")
            elif tag == BR:
                kind = el.get(W_TYPE)
                if kind == "page" or kind == "column":
                    if kind == "page" and self._in_body:
                        self.page_breaks += 1
                else:
                    target.append("\n")
            elif tag == CR:
                target.append("\n")
            elif tag == NB_HYPHEN:
                target.append("-")
            elif tag == LAST_RENDERED:
                if self._in_body:
                    self.rendered_breaks += 1
            elif tag in (DRAWING, PICT, OBJECT):
                self._graphic(el, target)
            elif tag == MC_ALT:
                chosen = _choose(el)
                if chosen is not None:
                    for child in chosen:
                        if child.tag in (DRAWING, PICT, OBJECT):
                            self._graphic(child, target)
            elif tag == RUBY:
                base = el.find(RUBY_BASE)
                if base is not None:
                    self._inline(base, target)
            elif tag in (FLD_CHAR, INSTR_TEXT):
                if self._fields is not None:
                    self._field_char(el, tag, target)
                if tag == FLD_CHAR and len(el):
                    self._form_field(el)
        if len(out) > start:  # visible text: ends a merged change and a hidden stretch
            if self._change_depth == 0:
                self._open_change = None
            if self._vanish:
                self._flush_vanish()

    def _run_hidden(self, rpr: etree._Element) -> bool | None:
        found = rpr.find(VANISH)
        if found is not None:
            return _on(found)
        found = rpr.find(RSTYLE)
        if found is not None and self.styles.resolve(found.get(W_VAL))[2]:
            return True
        return None

    def _flush_vanish(self) -> None:
        text = "".join(self._vanish)
        self._vanish.clear()
        if text.strip():
            self.has_hidden_runs = True
            self.add("hidden_run", text, f"隐藏文字（{self._ctx}）")

    def _field_char(self, el: etree._Element, tag: str, out: list[str]) -> None:
        stack = self._fields
        if tag == INSTR_TEXT:
            if stack:
                stack[-1][0].append(el.text or "")
            return
        kind = el.get(W_FLD_CHAR_TYPE)
        if kind == "begin":
            if len(stack) < 32:
                stack.append([[], False])
        elif kind == "separate" and stack:
            stack[-1][1] = _is_page_field("".join(stack[-1][0]))
            if stack[-1][1]:
                out.append(_PF_START)
        elif kind == "end" and stack:
            _instr, is_page_field = stack.pop()
            if is_page_field:
                out.append(_PF_END)

    def _form_field(self, fld_char: etree._Element) -> None:
        """A legacy form field's choices and default text (the result shows only one)."""
        data = fld_char.find(FF_DATA)
        if data is None:
            return
        name = data.find(FF_NAME)
        values = [e.get(W_VAL) or "" for e in data.iter(FF_LIST_ENTRY)]
        values += [e.get(W_VAL) or "" for e in data.iterfind(f"{FF_TEXT_INPUT}/{FF_DEFAULT}")]
        text = "\n".join(v for v in values if v.strip())
        if text:
            label = name.get(W_VAL) if name is not None else ""
            self.add("form_field", text, f"表单域 {label}（{self._ctx}）".replace(" （", "（"))

    def _graphic(self, el: etree._Element, out: list[str]) -> None:
        """Pictures, shapes, OLE objects: alt text and text boxes (not body text)."""
        for doc_pr in el.iter(DOC_PR):
            alt = " ".join(v for v in (doc_pr.get("title"), doc_pr.get("descr")) if v)
            if alt.strip():
                self.add("alt_text", alt, f"图片说明（{self._ctx}）")
        for shape in el.iter(f"{{{VML}}}*"):
            alt = shape.get("alt")
            if alt and alt.strip():
                self.add("alt_text", alt, f"图片说明（{self._ctx}）")
            if shape.tag == V_TEXTPATH and (shape.get("string") or "").strip():
                self._box_text(shape.get("string"), out)
        for box in el.iter(TXBX_CONTENT):
            if box in self._seen_boxes:
                continue
            self._seen_boxes.add(box)
            self._box_text(self.story(box, self._ctx, self._fields is not None), out)

    def _box_text(self, text: str, out: list[str]) -> None:
        if self._story_hidden:
            if text.strip():  # part of a story that is hidden as a whole: keep it, set apart
                out.append(f"\n{text}\n")
        elif text.strip():
            self.add("textbox", text, f"文本框（{self._ctx}）")


_ORIGINAL_TEXT_TAGS = (T, DEL_TEXT, TAB, BR, CR)
_NOT_ORIGINAL = frozenset({INS, MOVE_TO, TXBX_CONTENT, PPR, MC_FALLBACK})


def _original_text(p: etree._Element) -> str:
    """A paragraph as it read before its tracked changes: deletions in, insertions out."""
    parts: list[str] = []
    for el in p.iter(*_ORIGINAL_TEXT_TAGS):
        node = el.getparent()
        while node is not None and node is not p and node.tag not in _NOT_ORIGINAL:
            node = node.getparent()
        if node is not p:
            continue
        tag = el.tag
        if tag in (T, DEL_TEXT):
            parts.append(el.text or "")
        elif tag == TAB:
            parts.append("\t")
        elif el.get(W_TYPE) not in ("page", "column"):
            parts.append("\n")
    return "".join(parts)


def _is_page_field(instr: str | None) -> bool:
    words = (instr or "").split()
    return bool(words) and words[0].upper() in _PAGE_FIELDS


def only_page_number(text: str) -> bool:
    """True for a header/footer that shows nothing but a page number ("— 1 —", "第1页")."""
    rest = _PAGE_FIELD_RESULT.sub("", text)
    return _PAGE_DECORATION.fullmatch(rest) is not None
