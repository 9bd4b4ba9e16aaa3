"""The public copy's text set on A4 pages, for a file whose own pages cannot be shown.

Used for files gongkai cannot render (OFD, plain text) and for any file where a masked value
could not be found on its page: the public then gets the 去标识化 text, typeset, never a page
image that might still show what the text masks. Each page says what it is.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from service.parsers import ParseError

A4_MM = (210, 297)
MARGIN_MM = 25
BODY_PT = 12
TITLE_PT = 16
LINE_SPACING = 1.6
NOTICE = "本文件为去标识化公开版，依据原文文字排印，版式与原件不同。"


class FontMissing(ParseError):
    code = "font_missing"
    message_zh = "服务器缺少中文字体，无法生成公开版文件。"
    message_en = "No CJK font on the server: the public PDF cannot be made."


@lru_cache(maxsize=8)
def find_font(folder: Path | None) -> Path | None:
    """A font under ``folder``: Noto Serif CJK (a 宋体-like face) if it is there, else another CJK face,
    else any font (a deployment's own folder of Chinese fonts, ``GONGKAI_FONT_DIR``). Looked up once
    per folder and process (every public download asks; the fonts do not change while it runs)."""
    if folder is None or not folder.is_dir():
        return None
    found = [p for p in folder.rglob("*") if p.suffix.lower() in (".ttc", ".otf", ".ttf")]
    ranked = sorted(found, key=lambda p: ("CJK" not in p.name, "Serif" not in p.name, "Regular" not in p.name, p.name))
    return ranked[0] if ranked else None


@lru_cache(maxsize=8)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The Simplified Chinese face of a collection (Noto's .ttc holds JP, KR, SC, TC, HK)."""
    for index in range(10):
        try:
            face = ImageFont.truetype(path, size, index=index)
        except OSError:
            break
        if (face.getname()[0] or "").endswith(" SC"):
            return face
    return ImageFont.truetype(path, size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> Iterator[str]:
    for paragraph in text.splitlines() or [""]:
        line = ""
        for ch in paragraph:
            if line and font.getlength(line + ch) > width:
                yield line
                line = ""
            line += ch
        yield line


def typeset(title: str, text: str, font_path: Path | None, dpi: float, max_pages: int) -> Iterator[Image.Image]:
    """Pages of ``title`` and ``text`` as images at ``dpi``."""
    if font_path is None:
        raise FontMissing("no CJK font")
    px = dpi / 25.4
    width, height, margin = round(A4_MM[0] * px), round(A4_MM[1] * px), round(MARGIN_MM * px)
    body = _font(str(font_path), round(BODY_PT * dpi / 72))
    heading = _font(str(font_path), round(TITLE_PT * dpi / 72))
    small = _font(str(font_path), round(9 * dpi / 72))
    lines = [(heading, line) for line in _wrap(title, heading, width - 2 * margin)] if title else []
    lines += [(body, "")] + [(body, line) for line in _wrap(text, body, width - 2 * margin)]
    page, draw, y, count = None, None, 0.0, 0
    for font, line in lines:
        step = font.size * LINE_SPACING
        if page is None or y + step > height - margin:
            if page is not None:
                yield page
            count += 1
            if count > max_pages:
                return
            page = Image.new("RGB", (width, height), "white")
            draw = ImageDraw.Draw(page)
            draw.text((margin, margin / 2), NOTICE, font=small, fill=(90, 90, 90))
            y = margin
        assert draw is not None
        draw.text((margin, y), line, font=font, fill="black")
        y += step
    if page is not None:
        yield page
