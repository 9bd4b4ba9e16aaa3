"""The skeleton of an OFD file: OFD.xml → DocBody → Document.xml → pages, templates, resources.

Only the first DocBody is read (a package with several documents is rare; the reader shows
the first). Missing OFD.xml, DocBody, DocRoot or Document.xml make the file ``corrupt_file``;
a page or template part that is missing is skipped by its reader (the other pages still
count). OFD 2.0 encryption (GM/T 0099: an ``Encryptions`` entry) → ``encrypted``.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from lxml import etree

from plugins.ofd_package import OfdPackage, child, children, descendants, local, numbers, text_of
from service.parsers import CorruptFile, Encrypted, ResourceLimit

#: DocInfo fields kept as file properties, with the names the other plugins use.
DOCINFO_KEYS = {"Title": "Title", "Author": "Author", "Subject": "Subject", "Abstract": "Abstract",
                "Keywords": "Keywords", "Creator": "Creator", "CreatorVersion": "CreatorVersion",
                "CreationDate": "CreationDate", "ModDate": "ModDate", "DocUsage": "DocUsage"}
_MAX_VALUE = 10_000
_MAX_CUSTOM = 500


@dataclass(frozen=True, slots=True)
class PageRef:
    number: int
    page_id: str
    entry: str | None


@dataclass
class OfdDocument:
    """Where things are in one OFD package (entry names inside the zip)."""

    info: dict[str, str]
    custom: dict[str, str]
    document: str
    root: etree._Element
    pages: list[PageRef]
    templates: dict[str, str]
    page_box: list[float]
    media: dict[str, str] = field(default_factory=dict)
    #: CompositeGraphicUnit ID → its Content element
    composites: dict[str, etree._Element] = field(default_factory=dict)
    #: IDs of the fonts embedded in the package (a FontFile): they may draw private glyph codes
    embedded_fonts: set[str] = field(default_factory=set)
    signatures: str | None = None

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.document)

    def part(self, name: str) -> str | None:
        """The location the Document names under ``name`` (Annotations, Attachments, CustomTags)."""
        return text_of(self.root, name) or None


def read_docinfo(doc_info: etree._Element | None) -> tuple[dict[str, str], dict[str, str]]:
    """DocInfo's fields (as file properties) and its CustomDatas (name → value)."""
    info: dict[str, str] = {}
    custom: dict[str, str] = {}
    for el in () if doc_info is None else doc_info:
        name = local(el)
        if name in DOCINFO_KEYS and (el.text or "").strip():
            info[DOCINFO_KEYS[name]] = el.text.strip()[:_MAX_VALUE]
        elif name == "CustomDatas":
            for data in children(el, "CustomData"):
                key, value = (data.get("Name") or "").strip()[:200], (data.text or "").strip()[:_MAX_VALUE]
                if key and value and len(custom) < _MAX_CUSTOM:
                    custom[key] = value
    return info, custom


def open_document(pkg: OfdPackage, max_pages: int) -> OfdDocument:
    if not pkg.resolve("OFD.xml"):
        raise CorruptFile("no OFD.xml at the root of the package")
    ofd = pkg.xml(pkg.resolve("OFD.xml"))
    if ofd is None or local(ofd) != "OFD":
        raise CorruptFile("OFD.xml is not an OFD entry file")
    if child(ofd, "Encryptions") is not None or pkg.resolve("Encryptions.xml"):
        raise Encrypted("OFD encryption (GM/T 0099)")
    body = child(ofd, "DocBody")
    if body is None:
        raise CorruptFile("OFD.xml has no DocBody")
    info, custom = read_docinfo(child(body, "DocInfo"))
    found = pkg.xml_at(text_of(body, "DocRoot"))
    if found is None:
        raise CorruptFile(f"DocRoot {text_of(body, 'DocRoot')!r} is not in the package")
    name, root = found
    if local(root) != "Document":
        raise CorruptFile(f"{name} is not an OFD Document")
    folder = posixpath.dirname(name)
    common = child(root, "CommonData")
    page_elements = list(children(child(root, "Pages"), "Page"))
    if len(page_elements) > max_pages:
        raise ResourceLimit(f"{len(page_elements)} pages", what=f"页数超过 {max_pages} 页")
    if not page_elements:
        raise CorruptFile(f"{name} lists no pages")
    pages = [PageRef(i + 1, p.get("ID") or "", pkg.resolve(p.get("BaseLoc"), folder))
             for i, p in enumerate(page_elements)]
    templates = {t.get("ID") or "": entry for t in children(common, "TemplatePage")
                 if (entry := pkg.resolve(t.get("BaseLoc"), folder))}
    box = numbers(text_of(child(common, "PageArea"), "PhysicalBox")) or [0, 0, 210, 297]
    doc = OfdDocument(info=info, custom=custom, document=name, root=root, pages=pages,
                      templates=templates, page_box=box,
                      signatures=pkg.resolve(text_of(body, "Signatures")))
    _resources(pkg, common, folder, doc)
    return doc


def _resources(pkg: OfdPackage, common: etree._Element | None, folder: str, doc: OfdDocument) -> None:
    """Images (MultiMedia ID → zip entry), composite units and embedded fonts from every PublicRes
    and DocumentRes."""
    found = doc.media
    for el in common if common is not None else ():
        if local(el) not in ("PublicRes", "DocumentRes"):
            continue
        res = pkg.xml_at(el.text, folder)
        if res is None:
            continue
        res_name, res_root = res
        base = posixpath.join(posixpath.dirname(res_name), (res_root.get("BaseLoc") or "").replace("\\", "/"))
        if (res_root.get("BaseLoc") or "").startswith("/"):
            base = res_root.get("BaseLoc").lstrip("/")
        for media in descendants(res_root, "MultiMedia"):
            loc = text_of(media, "MediaFile")
            entry = pkg.resolve(loc, base) or pkg.resolve(loc, posixpath.dirname(res_name))
            if entry and media.get("ID"):
                found[media.get("ID")] = entry
        doc.embedded_fonts.update(font.get("ID") or "" for font in descendants(res_root, "Font")
                                  if text_of(font, "FontFile"))
        for unit in descendants(res_root, "CompositeGraphicUnit"):
            content = child(unit, "Content")
            if content is not None and unit.get("ID"):
                doc.composites[unit.get("ID")] = content
