"""Safe access to an OOXML package (a .docx zip) for format plugins.

Nothing here trusts the archive. Before any XML part is parsed:

- the central directory is checked: entry count, the sum of declared uncompressed sizes,
  the inflate ratio of every large entry, duplicate part names (OPC names are
  case-insensitive, and a second entry with the same name is a known smuggling trick);
- a part is inflated through a bounded stream that counts the bytes actually produced,
  so a lying size field cannot make us allocate more than the caps;
- an XML part that declares a DTD (``<!DOCTYPE`` / ``<!ENTITY``, in any of the encodings
  XML allows without a declaration) is refused before lxml sees it, and lxml itself runs
  with entity resolution, DTD loading and network access off.

Strict OOXML (ISO/IEC 29500 Strict, ``http://purl.oclc.org/ooxml/...`` namespaces) is
mapped onto the Transitional namespaces when a part is read, so callers only ever see
Transitional tags.
"""
from __future__ import annotations

import posixpath
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from service.parsers import CorruptFile, Encrypted, ParseLimits, ResourceLimit, UnsafeContent

#: Largest single XML part we inflate. lxml needs up to ~16 bytes of memory per byte of
#: dense markup (32 MB of <w:r><w:t>a</w:t></w:r> became a 500 MB tree) and the parser
#: runs in a ~1 GiB sandbox. Real documents stay far below: LibreOffice, the most verbose
#: writer, needs ~25 KB per page, so this still admits ~1,000 pages.
MAX_XML_PART = 24 * 1024 * 1024
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
    """A checked .docx/.xlsx-style zip. Use as a context manager."""

    def __init__(self, path: Path | str, limits: ParseLimits) -> None:
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
                            f"{name}: inflates past its declared size", what="解压后大小")
                    chunks.append(chunk)
        except RuntimeError as exc:  # zipfile: "File is encrypted, password required"
            raise Encrypted(f"{name}: {exc}") from exc
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError,
                zlib.error) as exc:
            raise CorruptFile(f"{name}: {type(exc).__name__}: {exc}") from exc
        self._budget -= produced
        return b"".join(chunks)

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
        """Parse a part's bytes (from :meth:`read`) safely; DTDs are refused."""
        # UTF-8 (and every ASCII-compatible encoding) has no NUL in its first bytes;
        # UTF-16/32 always do. Other encodings are caught after parsing.
        markers = _DTD_MARKERS_WIDE if b"\x00" in data[:4] else _DTD_MARKERS_8BIT
        if any(marker in data for marker in markers):
            raise UnsafeContent(f"{name} declares a DTD", what="DTD/外部实体")
        if _STRICT_MARK in data:
            self.strict = self.strict or _STRICT_TO_TRANSITIONAL[0][0] in data
            for strict, transitional in _STRICT_TO_TRANSITIONAL:
                data = data.replace(strict, transitional)
        try:
            root = etree.fromstring(data, self._parser)
        except etree.XMLSyntaxError as exc:
            raise CorruptFile(f"{name}: malformed XML: {exc}") from exc
        # Exotic encodings could hide the markers from the byte scan; the parse tells.
        if root.getroottree().docinfo.internalDTD is not None:
            raise UnsafeContent(f"{name} declares a DTD", what="DTD/外部实体")
        return root

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


def _describe_head(path: Path | str) -> str:
    """What a non-zip file looks like, for the error detail."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return "unreadable"
    if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "an OLE2 container: an encrypted OOXML file or a legacy .doc"
    if head.startswith(b"%PDF"):
        return "a PDF"
    if head.startswith(b"PK"):
        return "a damaged or truncated zip"
    return f"starts with {head!r}"


def _resolve(folder: str, target: str) -> str:
    """A relationship target as a package part name; "" if it escapes the package."""
    target = unquote(target.split("#", 1)[0])
    path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
    path = posixpath.normpath(path)
    return "" if path.startswith("..") or path == "." else path


# ---------------------------------------------------------------------------
# Document properties (docProps/core.xml, app.xml, custom.xml)
# ---------------------------------------------------------------------------

_CORE_KEYS = {
    "title": "title", "subject": "subject", "creator": "author", "lastModifiedBy": "last_modified_by",
    "keywords": "keywords", "description": "comments", "category": "category",
    "contentStatus": "content_status", "identifier": "identifier", "language": "language",
    "version": "version", "revision": "revision", "created": "created", "modified": "modified",
    "lastPrinted": "last_printed",
}
_APP_KEYS = {"Application": "application", "Pages": "pages", "Company": "company",
             "Manager": "manager", "Template": "template"}
_DATE_KEYS = frozenset({"created", "modified", "last_printed"})
_MAX_PROPERTY = 10_000
_MAX_CUSTOM = 500


def package_properties(pkg: Package) -> dict[str, str]:
    """Core, extended (app) and custom properties as strings, keyed like python-docx
    (``author``, ``last_modified_by``, ``comments`` …; dates as ISO 8601; custom ones as
    ``custom:<name>``). Values are capped at 10,000 characters."""
    rels = pkg.rels("")
    targets = {name: next((r.target for r in rels if r.is_type(name) and not r.external), default)
               for name, default in (("core-properties", "docProps/core.xml"),
                                     ("extended-properties", "docProps/app.xml"),
                                     ("custom-properties", "docProps/custom.xml"))}
    found: dict[str, str] = {}
    for target, keys in ((targets["core-properties"], _CORE_KEYS),
                         (targets["extended-properties"], _APP_KEYS)):
        root = pkg.xml(target)
        for el in () if root is None else root:
            key = keys.get(etree.QName(el).localname)
            value = (el.text or "").strip()[:_MAX_PROPERTY]
            if key and value:
                found[key] = _iso(value) if key in _DATE_KEYS else value
    custom = pkg.xml(targets["custom-properties"])
    for prop in () if custom is None else custom.iter(f"{{{CUSTOM_NS}}}property"):
        name = (prop.get("name") or "").strip()[:200]
        value = "".join(prop.itertext()).strip()[:_MAX_PROPERTY]
        if name and value and len(found) < _MAX_CUSTOM:
            found[f"custom:{name}"] = value
    return found


def _iso(value: str) -> str:
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return value
