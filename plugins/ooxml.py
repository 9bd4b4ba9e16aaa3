"""Safe access to an OOXML package (a .docx zip) for format plugins.

Nothing here trusts the archive. This layer runs before any other reader (python-docx)
is given the file, and before any XML part is parsed:

- the central directory is checked: entry count, the sum of declared uncompressed sizes,
  the inflate ratio of every large entry, duplicate part names (OPC names are
  case-insensitive, and a second entry with the same name is a known smuggling trick);
- a part is inflated through a bounded stream that counts the bytes actually produced,
  so a lying size field cannot make us allocate more than the caps;
- an XML part that declares a DTD (``<!DOCTYPE`` / ``<!ENTITY``, in any of the encodings
  XML allows without a declaration) is refused before lxml sees it (a part declaring an
  encoding that hides the markers from a byte scan, such as UTF-7, is parsed safely and
  its tree asked), and our lxml parser runs with entity resolution, DTD loading and
  network access off;
- :meth:`Package.check_parts` vets every XML part of the package that way up front
  (bounded read, per-part and total size caps, DTD refusal), because python-docx reads
  every part of a package into memory and parses the XML ones with its own parser,
  keeping all the trees alive at once (unchecked, a 342 KB zip bomb became 626 MB).

Strict OOXML (ISO/IEC 29500 Strict, ``http://purl.oclc.org/ooxml/...`` namespaces) is
mapped onto the Transitional namespaces: when a part is read through :meth:`Package.parse`,
and, for python-docx (which only knows Transitional), by :meth:`Package.normalized_copy`,
which also drops relationships to parts that are not in the zip.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import unquote

from lxml import etree

from service.parsers import CorruptFile, Encrypted, ParseLimits, ResourceLimit, UnsafeContent

#: Largest single XML part we inflate. lxml needs up to ~16 bytes of memory per byte of
#: dense markup (32 MB of <w:r><w:t>a</w:t></w:r> became a 500 MB tree) and the parser
#: runs in a ~1 GiB sandbox. Real documents stay far below: LibreOffice, the most verbose
#: writer, needs ~25 KB per page, so this still admits ~1,000 pages.
MAX_XML_PART = 24 * 1024 * 1024
#: Largest sum of all XML parts. python-docx parses every XML part it knows when it opens
#: a package and keeps all the trees alive, so the per-part cap alone is not enough:
#: this admits the largest document part plus 8 MB of styles, headers, comments ….
MAX_XML_TOTAL = MAX_XML_PART + 8 * 1024 * 1024
_CHUNK = 1024 * 1024

PKG_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"

_DTD_MARKERS_8BIT = (b"<!DOCTYPE", b"<!ENTITY")
_DTD_MARKERS_WIDE = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)

#: Strict → Transitional namespace URIs (longest first; none is a prefix of another
#: in a way that matters, the relationships URI doubles as the relationship-type prefix).
_STRICT_TO_TRANSITIONAL = (
    # Two relationship types were renamed, not just moved (python-docx looks them up).
    (b"http://purl.oclc.org/ooxml/officeDocument/relationships/extendedProperties",
     b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties"),
    (b"http://purl.oclc.org/ooxml/officeDocument/relationships/customProperties",
     b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"),
    (b"http://purl.oclc.org/ooxml/wordprocessingml/main",
     b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"),
    (b"http://purl.oclc.org/ooxml/officeDocument/relationships",
     b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"),
    (b"http://purl.oclc.org/ooxml/officeDocument/extendedProperties",
     b"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"),
    (b"http://purl.oclc.org/ooxml/officeDocument/customProperties",
     b"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"),
    (b"http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes",
     b"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"),
    (b"http://purl.oclc.org/ooxml/officeDocument/math",
     b"http://schemas.openxmlformats.org/officeDocument/2006/math"),
    (b"http://purl.oclc.org/ooxml/drawingml/wordprocessingDrawing",
     b"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"),
    (b"http://purl.oclc.org/ooxml/drawingml/main",
     b"http://schemas.openxmlformats.org/drawingml/2006/main"),
)
_STRICT_MARK = b"http://purl.oclc.org/ooxml/"
_STRICT_W = b"http://purl.oclc.org/ooxml/wordprocessingml/main"

#: Encodings in which "<!DOCTYPE" is spelled in ASCII bytes, so the byte scan sees it.
_ASCII_COMPATIBLE = re.compile(
    rb"utf-?8|(?:us-)?ascii|iso[-_]?8859-\d+|latin-?1|(?:windows|cp)-?125\d|gb2312|gbk|gb18030"
    rb"|big5(?:-hkscs)?|shift[-_]jis|euc-(?:jp|kr|cn)", re.IGNORECASE)
_XML_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False,
    )


@dataclass(frozen=True, slots=True)
class Relationship:
    rel_id: str
    type: str
    #: Resolved part name inside the package ("word/header1.xml"), or the raw target
    #: for external relationships.
    target: str
    external: bool

    def is_type(self, *suffixes: str) -> bool:
        """Compare by the last segment of the type URI (Strict and Transitional differ
        only in the prefix, and in ``extended-properties`` vs ``extendedProperties``)."""
        last = self.type.rsplit("/", 1)[-1].replace("-", "").lower()
        return any(last == s.replace("-", "").lower() for s in suffixes)


class Package:
    """A checked .docx/.xlsx-style zip (a path or a binary stream). Use as a context manager."""

    def __init__(self, path: Path | str | IO[bytes], limits: ParseLimits) -> None:
        self._limits = limits
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise CorruptFile(f"not a zip archive ({_describe_head(path)}): {exc}") from exc
        except (OSError, ValueError, EOFError) as exc:
            raise CorruptFile(f"unreadable zip archive: {exc}") from exc
        try:
            self._entries = self._check_directory()
        except BaseException:
            self._zip.close()
            raise
        self._budget = min(limits.max_zip_uncompressed, 2**62)
        self._xml_cache: dict[str, etree._Element | None] = {}
        self._parser = _safe_parser()  # lxml parsers must not be shared across threads
        #: True once a part in the Strict (ISO/IEC 29500 Strict) namespace was read.
        self.strict = False
        #: Relationship part → {id: exact part name, or None if there is no such part} for
        #: its internal relationships whose target python-docx would not find (filled by
        #: :meth:`check_parts`).
        self.dangling: dict[str, dict[str, str | None]] = {}

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    # -- directory checks --------------------------------------------------

    def _check_directory(self) -> dict[str, zipfile.ZipInfo]:
        limits = self._limits
        infos = self._zip.infolist()
        if len(infos) > limits.max_zip_entries:
            raise ResourceLimit(
                f"{len(infos)} zip entries > {limits.max_zip_entries}", what="压缩包条目数")
        entries: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            key = info.filename.lstrip("/").lower()
            if key in entries:
                raise UnsafeContent(
                    f"duplicate zip entry {info.filename!r}", what="重复的压缩包条目")
            entries[key] = info
            total += info.file_size
            if total > limits.max_zip_uncompressed:
                raise ResourceLimit(
                    f"declared uncompressed size > {limits.max_zip_uncompressed} bytes",
                    what="解压后大小")
            if info.file_size > limits.zip_ratio_floor:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits.max_zip_ratio:
                    raise ResourceLimit(
                        f"{info.filename}: inflate ratio {ratio:.0f} > {limits.max_zip_ratio}",
                        what="压缩比")
        return entries

    # -- part access -------------------------------------------------------

    def has(self, name: str) -> bool:
        return name.lower() in self._entries

    def read(self, name: str) -> bytes | None:
        """The part's bytes through a bounded stream, or None if there is no such part."""
        info = self._entries.get(name.lower())
        if info is None:
            return None
        cap = min(info.file_size, MAX_XML_PART, self._budget)
        if info.file_size > cap:
            raise ResourceLimit(f"{name}: {info.file_size} bytes", what="单个部件大小")
        data = self._inflate(info, cap)
        self._budget -= len(data)
        return data

    def _inflate(self, info: zipfile.ZipInfo, cap: int) -> bytes:
        """An entry's bytes, counting what is actually produced against ``cap``."""
        chunks: list[bytes] = []
        produced = 0
        try:
            with self._zip.open(info) as stream:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    produced += len(chunk)
                    if produced > cap:
                        raise ResourceLimit(
                            f"{info.filename}: inflates past its declared size", what="解压后大小")
                    chunks.append(chunk)
        except RuntimeError as exc:  # zipfile: "File is encrypted, password required"
            raise Encrypted(f"{info.filename}: {exc}") from exc
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError,
                zlib.error) as exc:
            raise CorruptFile(f"{info.filename}: {type(exc).__name__}: {exc}") from exc
        return b"".join(chunks)

    def _is_xml(self, key: str) -> bool:
        if key.endswith((".xml", ".rels")):
            return True
        content_type = self.content_type(key) or ""
        return content_type.endswith("xml")  # "application/xml", "…+xml", "text/xml"

    def check_parts(self) -> None:
        """Vet every XML part before another reader (python-docx) opens the package.

        python-docx inflates every part the relationships reach and parses those of the
        types it models (document, styles, headers, footers, comments, numbering,
        settings, core properties, relationships, content types) with its own lxml
        parser, all at once. Each XML part (by name or content type, referenced or not)
        is therefore read here through the bounded stream: none may exceed
        ``MAX_XML_PART``, together they may not exceed ``MAX_XML_TOTAL``, and none may
        declare a DTD. Other parts (pictures, embedded objects) are only ever inflated up
        to their declared sizes, which the directory check has bounded.

        Also sets :attr:`strict` (a part uses the Strict WordprocessingML namespace) and
        :attr:`dangling` (internal relationships whose target python-docx would not find:
        the ``Target="NULL"`` some Word add-ins leave, or a target spelled in another case
        than the zip entry; python-docx refuses the whole package over one).
        """
        total = 0
        names = {info.filename for info in self._entries.values()}
        for key, info in self._entries.items():
            if not self._is_xml(key):
                continue
            data = self.read(key)
            total += len(data)
            if total > MAX_XML_TOTAL:
                raise ResourceLimit(f"XML parts total more than {MAX_XML_TOTAL} bytes",
                                    what="解压后大小")
            check_xml(info.filename, data)
            if _STRICT_MARK in data:
                self.strict = self.strict or _STRICT_W in data
            if key.endswith(".rels"):
                root = self._xml_cache.get(key)
                if root is None:
                    root = self._xml_cache[key] = self.parse(info.filename, data)
                missing = _dangling(info.filename, root, names, self._entries)
                if missing:
                    self.dangling[info.filename] = missing

    def normalized_copy(self, content_types: dict[str, str] | None = None) -> bytes:
        """A copy of the package that python-docx can open (after :meth:`check_parts`).

        Strict namespaces are mapped to Transitional ones (python-docx only knows
        Transitional relationship types), :attr:`dangling` relationships are pointed at
        the entry they name in another case, or dropped if there is none,
        and ``content_types`` (old → new) are replaced in ``[Content_Types].xml``.
        Entries are copied through bounded reads of at most their declared sizes.
        """
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
            for key, info in self._entries.items():
                xml = self._is_xml(key)
                data = self._inflate(info, min(info.file_size, MAX_XML_PART) if xml else info.file_size)
                if xml and _STRICT_MARK in data:
                    data = to_transitional(data)
                if info.filename in self.dangling:
                    root = parse_xml(info.filename, data, self._parser)
                    fixes = self.dangling[info.filename]
                    for rel in list(root):
                        if rel.get("Id") not in fixes:
                            continue
                        exact = fixes[rel.get("Id")]
                        if exact is None:
                            root.remove(rel)
                        else:
                            rel.set("Target", "/" + exact)
                    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
                if key == "[content_types].xml":
                    for old, new in (content_types or {}).items():
                        data = data.replace(old.encode(), new.encode())
                copy.writestr(info.filename, data)
        return out.getvalue()

    def xml(self, name: str) -> etree._Element | None:
        """The parsed root of an XML part, or None if the part is missing.

        Relationship parts and [Content_Types].xml are cached (they are small and asked
        for repeatedly); content parts are not, so a tree is freed as soon as the caller
        drops it and only one large tree is alive at a time.
        """
        key = name.lower()
        if key in self._xml_cache:
            return self._xml_cache[key]
        data = self.read(name)
        root = None if data is None else self.parse(name, data)
        if key.endswith(".rels") or key == "[content_types].xml":
            self._xml_cache[key] = root
        return root

    def parse(self, name: str, data: bytes) -> etree._Element:
        """Parse a part's bytes (from :meth:`read`) safely; DTDs are refused, Strict
        namespaces are mapped to Transitional ones."""
        if _STRICT_MARK in data:
            self.strict = self.strict or _STRICT_W in data
            data = to_transitional(data)
        return parse_xml(name, data, self._parser)

    # -- relationships -----------------------------------------------------

    def rels(self, source: str) -> list[Relationship]:
        """Relationships of ``source`` ("" for the package itself)."""
        folder, base = posixpath.split(source)
        root = self.xml(posixpath.join(folder, "_rels", f"{base}.rels"))
        if root is None:
            return []
        found = []
        for rel in root.iter(f"{{{PKG_RELS_NS}}}Relationship"):
            target = rel.get("Target") or ""
            external = rel.get("TargetMode") == "External"
            if not external:
                target = _resolve(folder, target)
            found.append(Relationship(rel.get("Id") or "", rel.get("Type") or "", target, external))
        return found

    def content_type(self, part: str) -> str | None:
        root = self.xml("[Content_Types].xml")
        if root is None:
            return None
        wanted = "/" + part.lower()
        for override in root.iter(f"{{{CT_NS}}}Override"):
            if (override.get("PartName") or "").lower() == wanted:
                return override.get("ContentType")
        ext = part.rsplit(".", 1)[-1].lower()
        for default in root.iter(f"{{{CT_NS}}}Default"):
            if (default.get("Extension") or "").lower() == ext:
                return default.get("ContentType")
        return None


def _refuse_dtd(name: str, data: bytes) -> None:
    # UTF-8 (and every ASCII-compatible encoding) has no NUL in its first bytes;
    # UTF-16/32 always do, and are scanned for the wide spellings.
    markers = _DTD_MARKERS_WIDE if b"\x00" in data[:4] else _DTD_MARKERS_8BIT
    if any(marker in data for marker in markers):
        raise UnsafeContent(f"{name} declares a DTD", what="DTD/外部实体")


def check_xml(name: str, data: bytes) -> None:
    """Refuse an XML part that declares a DTD, without building its tree.

    A part in an encoding the byte scan cannot read (EBCDIC, UTF-7 …) is parsed safely
    and its tree asked instead; one that does not parse at all cannot become a tree in
    any other reader either and is left to whoever uses it.
    """
    _refuse_dtd(name, data)
    if b"\x00" in data[:4] or _ascii_compatible(data[:512]):
        return
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError:
        return
    if root.getroottree().docinfo.internalDTD is not None:
        raise UnsafeContent(f"{name} declares a DTD", what="DTD/外部实体")


def _ascii_compatible(head: bytes) -> bool:
    """True if the part starting with ``head`` is in an encoding that spells markup in
    ASCII bytes (no declaration, or a declared UTF-8, GBK, Big5, Latin-1 …)."""
    head = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    head = head.lstrip(b" \t\r\n")
    if not head.startswith(b"<"):
        return False
    if not head.startswith(b"<?xml"):
        return True  # no declaration: UTF-8
    declared = _XML_DECLARATION.match(head)
    return declared is None or _ASCII_COMPATIBLE.fullmatch(declared.group(1)) is not None


def parse_xml(name: str, data: bytes, parser: etree.XMLParser | None = None) -> etree._Element:
    """Parse an XML part safely: DTDs refused, no entity resolution, no network."""
    _refuse_dtd(name, data)
    try:
        root = etree.fromstring(data, parser if parser is not None else _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise CorruptFile(f"{name}: malformed XML: {exc}") from exc
    # Exotic encodings could hide the markers from the byte scan; the parse tells.
    if root.getroottree().docinfo.internalDTD is not None:
        raise UnsafeContent(f"{name} declares a DTD", what="DTD/外部实体")
    return root


def to_transitional(data: bytes) -> bytes:
    """Strict OOXML namespace URIs (and relationship types) replaced by Transitional ones."""
    for strict, transitional in _STRICT_TO_TRANSITIONAL:
        data = data.replace(strict, transitional)
    return data


def _describe_head(source: Path | str | IO[bytes]) -> str:
    """What a non-zip file looks like, for the error detail."""
    try:
        if hasattr(source, "read"):
            source.seek(0)
            head = source.read(8)
        else:
            with open(source, "rb") as fh:
                head = fh.read(8)
    except (OSError, ValueError):
        return "unreadable"
    if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "an OLE2 container: an encrypted OOXML file or a legacy .doc"
    if head.startswith(b"%PDF"):
        return "a PDF"
    if head.startswith(b"PK"):
        return "a damaged or truncated zip"
    return f"starts with {head!r}"


def _dangling(rels_name: str, root: etree._Element, names: set[str],
              entries: dict[str, zipfile.ZipInfo]) -> dict[str, str | None]:
    """Internal relationships in ``rels_name`` whose target is not an entry of the zip as
    python-docx resolves it (exact case, no unquoting, fragments kept): id → the entry's
    exact name if only the case differs, else None. ``entries`` is keyed by lower-case name."""
    base = "/" + posixpath.dirname(posixpath.dirname(rels_name))
    missing: dict[str, str | None] = {}
    for rel in root.iter(f"{{{PKG_RELS_NS}}}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        member = posixpath.normpath(posixpath.join(base, rel.get("Target") or "")).lstrip("/")
        if member not in names:
            entry = entries.get(member.lower())
            missing[rel.get("Id") or ""] = None if entry is None else entry.filename
    return missing


def _resolve(folder: str, target: str) -> str:
    """A relationship target as a package part name; "" if it escapes the package."""
    target = unquote(target.split("#", 1)[0])
    path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
    path = posixpath.normpath(path)
    return "" if path.startswith("..") or path == "." else path


# ---------------------------------------------------------------------------
# Document properties python-docx does not model (docProps/app.xml, custom.xml)
# ---------------------------------------------------------------------------

_APP_KEYS = {"Application": "application", "Pages": "pages", "Company": "company",
             "Manager": "manager", "Template": "template"}
_MAX_PROPERTY = 10_000
_MAX_CUSTOM = 500


def extended_properties(root: etree._Element | None) -> dict[str, str]:
    """docProps/app.xml as ``application``, ``pages``, ``company``, ``manager``, ``template``."""
    found: dict[str, str] = {}
    for el in () if root is None else root:
        key = _APP_KEYS.get(etree.QName(el).localname) if isinstance(el.tag, str) else None
        value = (el.text or "").strip()[:_MAX_PROPERTY]
        if key and value:
            found[key] = value
    return found


def custom_properties(root: etree._Element | None) -> dict[str, str]:
    """docProps/custom.xml as ``custom:<name>`` (at most 500, values capped at 10,000 characters)."""
    found: dict[str, str] = {}
    for prop in () if root is None else root.iter(f"{{{CUSTOM_NS}}}property"):
        name = (prop.get("name") or "").strip()[:200]
        value = "".join(prop.itertext()).strip()[:_MAX_PROPERTY]
        if name and value and len(found) < _MAX_CUSTOM:
            found[f"custom:{name}"] = value
    return found
