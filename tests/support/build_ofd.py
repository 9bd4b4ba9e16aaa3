"""Build small OFD packages for tests: a valid skeleton, and hostile variants of it."""
from __future__ import annotations

import zipfile
from pathlib import Path

NS = "http://www.ofdspec.org/2016"

OFD_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD"><ofd:DocBody>
<ofd:DocInfo><ofd:DocID>test</ofd:DocID><ofd:Title>{{title}}</ofd:Title><ofd:Author>县政府办公室</ofd:Author>
<ofd:CreationDate>2024-03-01</ofd:CreationDate></ofd:DocInfo>
<ofd:DocRoot>{{doc_root}}</ofd:DocRoot></ofd:DocBody></ofd:OFD>"""

DOCUMENT_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData><ofd:MaxUnitID>9</ofd:MaxUnitID>
<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>{{common}}</ofd:CommonData>
<ofd:Pages>{{pages}}</ofd:Pages>{{after_pages}}</ofd:Document>"""


def text_object(obj_id: int, x: float, y: float, text: str, size: float = 4.0) -> str:
    return (f'<ofd:TextObject ID="{obj_id}" Boundary="{x} {y} 150 {size * 1.5}" Font="1" Size="{size}">'
            f'<ofd:TextCode X="0" Y="{size}">{text}</ofd:TextCode></ofd:TextObject>')


def page_xml(objects: str, prologue: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prologue}<ofd:Page xmlns:ofd="{NS}"><ofd:Content>'
            f'<ofd:Layer ID="2">{objects}</ofd:Layer></ofd:Content></ofd:Page>')


def build_ofd(path: Path, pages: list[str], *, title: str = "测试文件", doc_root: str = "Doc_0/Document.xml",
              extra: dict[str, bytes | str] | None = None, skip: tuple[str, ...] = (),
              common: str = "", after_pages: str = "") -> Path:
    """An OFD with one Content.xml per entry of ``pages`` (each the objects of a layer);
    ``common`` is added to the Document's CommonData (resources, templates), ``after_pages``
    after its Pages (Annotations, Attachments, CustomTags)."""
    parts: dict[str, bytes | str] = {
        "OFD.xml": OFD_XML.format(title=title, doc_root=doc_root),
        "Doc_0/Document.xml": DOCUMENT_XML.format(common=common, after_pages=after_pages, pages="".join(
            f'<ofd:Page ID="{100 + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))),
    }
    for i, objects in enumerate(pages):
        parts[f"Doc_0/Pages/Page_{i}/Content.xml"] = page_xml(objects)
    parts.update(extra or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            if name not in skip:
                zf.writestr(name, data)
    return path
