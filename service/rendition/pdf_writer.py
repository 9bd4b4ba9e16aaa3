"""A PDF of page images and nothing else: each page one JPEG drawn over the whole page.

Written by hand (a PDF of images is a catalogue, a page tree and per page a content stream
and an image): no text layer, no metadata from the original, nothing but the pixels.
"""
from __future__ import annotations

import io
from collections.abc import Iterable

from PIL import Image

JPEG_QUALITY = 75


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def image_pdf(pages: Iterable[Image.Image], dpi: float) -> tuple[bytes, int]:
    """The PDF of ``pages`` (each shown at ``dpi``), and its page count."""
    objects: list[bytes] = []   # object n is objects[n - 1]; 1 = catalogue, 2 = page tree
    kids: list[int] = []
    for image in pages:
        data = _jpeg(image)
        width_pt, height_pt = image.width * 72 / dpi, image.height * 72 / dpi
        first = len(objects) + 3
        image_obj, content_obj, page_obj = first, first + 1, first + 2
        content = f"q {width_pt:.2f} 0 0 {height_pt:.2f} 0 0 cm /Im0 Do Q".encode("ascii")
        objects.append(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                       b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n"
                       % (image.width, image.height, len(data)) + data + b"\nendstream")
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append((f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt:.2f} {height_pt:.2f}] /Resources "
                        f"<< /XObject << /Im0 {image_obj} 0 R >> >> /Contents {content_obj} 0 R >>").encode("ascii"))
        kids.append(page_obj)
    head = [b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode("ascii")]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(head + objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref))
    return out.getvalue(), len(kids)
