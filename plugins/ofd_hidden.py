"""What an OFD holds besides its pages' text, as hidden text for the privacy scan.

- annotations (``Annot``: remarks, parameters and the text drawn by their appearance,
  watermarks included) → ``annotation``;
- attachments' names → ``attachment``;
- custom tags (semantic tags such as an e-invoice's ``BuyerTaxID``, whose values point at
  text objects on the pages) → ``property`` (DocInfo's CustomDatas are file properties,
  ``custom:<name>``, which the privacy scan reads as well);
- signatures: provider, time and the names inside the seal (``Seal.esl``) and the signed
  value's certificates (DER UTF8String/BMPString with Chinese in them) → ``property``.
"""
from __future__ import annotations

import posixpath
import re

from lxml import etree

from plugins.ofd_document import OfdDocument
from plugins.ofd_package import OfdPackage, child, children, descendants, local, text_of
from plugins.ofd_text import lines, text_object_runs
from service.parsers import HiddenText, ParseError

_MAX_ITEMS = 500
_MAX_TEXT = 10_000
_MAX_DER = 4 * 1024 * 1024
_CJK = re.compile(r"[\u4e00-\u9fff]")
#: GB/T 33190's annotation types, as a clerk reads them.
_ANNOT_TYPES = {"Link": "链接", "Path": "图形批注", "Highlight": "高亮批注", "Stamp": "签章",
                "Watermark": "水印"}


def _clip(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:_MAX_TEXT]


def _xml(pkg: OfdPackage, location: str | None, base: str) -> tuple[str, etree._Element] | None:
    """A referenced part, or None if it is missing or damaged (extras never fail a document)."""
    try:
        return pkg.xml_at(location, base)
    except ParseError as exc:
        if exc.code in ("unsafe_content", "resource_limit", "encrypted"):
            raise
        return None


def annotations(pkg: OfdPackage, doc: OfdDocument) -> list[HiddenText]:
    found = _xml(pkg, doc.part("Annotations"), doc.folder)
    if found is None:
        return []
    name, root = found
    numbers = {p.page_id: p.number for p in doc.pages}
    hidden: list[HiddenText] = []
    for page in children(root, "Page"):
        part = _xml(pkg, text_of(page, "FileLoc"), posixpath.dirname(name))
        number = numbers.get(page.get("PageID") or "")
        for annot in descendants(part[1] if part else None, "Annot"):
            text = annotation_text(annot)
            if text and len(hidden) < _MAX_ITEMS:
                kind = annot.get("Type") or ""
                label = _ANNOT_TYPES.get(kind, f"批注（{kind}）" if kind else "批注")
                where = f"第 {number} 页{label}" if number else label
                creator = (annot.get("Creator") or "").strip()
                hidden.append(HiddenText("annotation", text, where + (f"，{creator}" if creator else "")))
    return hidden


def annotation_text(annot: etree._Element) -> str:
    parts = [text_of(annot, "Remark")]
    parts += [(p.text or "").strip() for p in descendants(child(annot, "Parameters"), "Parameter")]
    appearance = child(annot, "Appearance")
    runs = [r for obj in descendants(appearance, "TextObject") for r in text_object_runs(obj)]
    parts += [line.text for line in lines(runs)]
    return _clip(" ".join(p for p in parts if p))


def attachments(pkg: OfdPackage, doc: OfdDocument) -> list[HiddenText]:
    found = _xml(pkg, doc.part("Attachments"), doc.folder)
    if found is None:
        return []
    hidden = []
    for att in descendants(found[1], "Attachment"):
        name = _clip(att.get("Name") or "")
        fmt = (att.get("Format") or "").strip()
        if name and len(hidden) < _MAX_ITEMS:
            hidden.append(HiddenText("attachment", name + (f".{fmt}" if fmt and not name.endswith(fmt) else ""),
                                     "附件"))
    return hidden


def custom_tags(pkg: OfdPackage, doc: OfdDocument, object_text: dict[str, str]) -> list[HiddenText]:
    """Custom tags as "Tag: value" (values that point at text objects are resolved)."""
    found = _xml(pkg, doc.part("CustomTags"), doc.folder)
    hidden: list[HiddenText] = []
    if found is None:
        return hidden
    name, root = found
    for tag in children(root, "CustomTag"):
        part = _xml(pkg, text_of(tag, "FileLoc"), posixpath.dirname(name))
        for leaf in () if part is None else part[1].iter():
            if len(hidden) >= 2 * _MAX_ITEMS or not isinstance(leaf.tag, str) or local(leaf) == "ObjectRef":
                continue
            refs = [object_text.get((r.text or "").strip(), "") for r in children(leaf, "ObjectRef")]
            value = _clip(" ".join([(leaf.text or "").strip(), *refs]))
            if value:
                hidden.append(HiddenText("property", f"{local(leaf)}：{value}", "自定义标引"))
    return hidden


def signatures(pkg: OfdPackage, doc: OfdDocument) -> list[HiddenText]:
    found = _xml(pkg, doc.signatures, "")
    if found is None:
        return []
    name, root = found
    numbers = {p.page_id: p.number for p in doc.pages}
    hidden = []
    for ref in list(children(root, "Signature"))[:_MAX_ITEMS]:
        part = _xml(pkg, ref.get("BaseLoc"), posixpath.dirname(name))
        if part is None:
            continue
        sig_name, sig = part
        info = child(sig, "SignedInfo")
        provider = child(info, "Provider")
        texts = []
        if provider is not None:
            texts += [provider.get("ProviderName") or text_of(provider, "ProviderName"),
                      provider.get("Company") or text_of(provider, "Company")]
        seal_loc = text_of(child(info, "Seal"), "BaseLoc")
        for loc in (seal_loc, text_of(sig, "SignedValue")):
            texts += der_strings(pkg, pkg.resolve(loc, posixpath.dirname(sig_name)))
        when = text_of(info, "SignatureDateTime")
        stamp = child(info, "StampAnnot")
        page = numbers.get(stamp.get("PageRef") or "") if stamp is not None else None
        text = _clip("；".join(dict.fromkeys(t for t in texts if t)) + (f"；签章时间：{when}" if when else ""))
        if text:
            hidden.append(HiddenText("property", text, f"第 {page} 页签章" if page else "签章"))
    return hidden


def der_strings(pkg: OfdPackage, entry: str | None, limit: int = 12) -> list[str]:
    """Chinese UTF8String/BMPString values in a DER blob (a seal's name, its certificates' subjects)."""
    if entry is None:
        return []
    try:
        data = pkg.read(entry) or b""
    except ParseError:
        return []
    found: list[str] = []
    _walk_der(data[:_MAX_DER], 0, found, limit, 0)
    return list(dict.fromkeys(found))


def _walk_der(data: bytes, pos: int, found: list[str], limit: int, depth: int) -> None:
    end = len(data)
    while pos + 2 <= end and len(found) < limit and depth < 32:
        tag = data[pos]
        length = data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 4 or pos + count > end:
                return
            length = int.from_bytes(data[pos:pos + count], "big")
            pos += count
        if pos + length > end:
            return
        value = data[pos:pos + length]
        if tag & 0x20:
            _walk_der(value, 0, found, limit, depth + 1)
        elif tag in (0x0C, 0x1E):
            text = value.decode("utf-8" if tag == 0x0C else "utf-16-be", errors="ignore").strip()
            if _CJK.search(text):
                found.append(text[:200])
        elif tag == 0x04 and value[:1] in (b"\x30",):
            _walk_der(value, 0, found, limit, depth + 1)  # an OCTET STRING wrapping DER
        pos += length
