"""Safe access to an OFD package (GB/T 33190): a zip of XML parts that name each other.

The zip is checked exactly like a .docx (``plugins.ooxml.Package``: entry count, declared
sizes, inflate ratio, duplicate names, bounded reads, DTDs refused, lxml with entity
resolution, DTD loading and network access off). This module adds what OFD needs on top:

- locations (``ST_Loc``) are absolute (``/Doc_0/Document.xml``) or relative to the part
  that names them; writers also use backslashes and another case than the zip entry
  (``DOC_0/Res/…`` named ``Doc_0/Res/…``), so lookups are case-insensitive and a relative
  location that is not found is tried from the package root;
- elements are matched by local name: real files use ``http://www.ofdspec.org/2016``,
  ``http://www.ofdspec.org`` or no namespace at all for some elements.
"""
from __future__ import annotations

import math
import posixpath
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from plugins.ooxml import Package
from service.parsers import ParseLimits


def local(el: etree._Element) -> str:
    """An element's name without its namespace ("" for comments and processing instructions)."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    """The first child element called ``name`` (any namespace)."""
    if el is None:
        return None
    for sub in el:
        if local(sub) == name:
            return sub
    return None


def children(el: etree._Element | None, name: str) -> Iterator[etree._Element]:
    if el is None:
        return iter(())
    return (sub for sub in el if local(sub) == name)


def descendants(el: etree._Element | None, name: str) -> Iterator[etree._Element]:
    if el is None:
        return iter(())
    return el.iter(f"{{*}}{name}")  # any namespace, or none


def text_of(el: etree._Element | None, name: str | None = None) -> str:
    """The stripped text of ``el`` (or of its first child ``name``)."""
    target = child(el, name) if name is not None else el
    return (target.text or "").strip() if target is not None else ""


def numbers(value: str | None) -> list[float]:
    """A space-separated list of numbers (``ST_Array``); unreadable items are dropped."""
    found = []
    for item in (value or "").replace(",", " ").split():
        try:
            number = float(item)
        except ValueError:
            continue
        if math.isfinite(number):
            found.append(number)
    return found


class OfdPackage:
    """A checked OFD zip. Use as a context manager."""

    def __init__(self, path: Path | str, limits: ParseLimits) -> None:
        self._pkg = Package(path, limits)

    def __enter__(self) -> OfdPackage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pkg.close()

    def resolve(self, location: str | None, base: str = "") -> str | None:
        """The zip entry a location names, read relative to the folder ``base``, or None."""
        location = (location or "").strip().replace("\\", "/")
        if not location:
            return None
        candidates = [location.lstrip("/")] if location.startswith("/") else [posixpath.join(base, location), location]
        for candidate in candidates:
            name = posixpath.normpath(candidate).lstrip("/")
            if not name.startswith("..") and self._pkg.has(name):
                return name
        return None

    def xml(self, name: str) -> etree._Element | None:
        """The parsed root of a part (DTDs refused), or None if there is no such part."""
        return self._pkg.xml(name)

    def read(self, name: str) -> bytes | None:
        """A part's bytes through the bounded stream, or None if there is no such part."""
        return self._pkg.read(name)

    def xml_at(self, location: str | None, base: str = "") -> tuple[str, etree._Element] | None:
        """Resolve a location and parse the part it names: (entry name, root), or None."""
        name = self.resolve(location, base)
        if name is None:
            return None
        root = self.xml(name)
        return None if root is None else (name, root)
