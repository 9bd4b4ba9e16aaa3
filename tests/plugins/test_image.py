"""Image files (.png/.jpg/.tif) read by OCR, through the sandbox as the worker parses them.
Pages are cut from the real scans in tests/data/scans (the top of a page: OCR costs seconds per page)."""
import time
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from service import config
from service.parsers import CorruptFile, ResourceLimit
from service.pipeline import extract

SCANS = Path(__file__).resolve().parents[1] / "data" / "scans"


def page_top(name: str, dpi: int = 150, share: float = 0.3) -> Image.Image:
    """The top ``share`` of the first page of a scan, rendered at ``dpi`` (its title and first lines)."""
    page = pdfium.PdfDocument(str(SCANS / f"{name}.pdf"))[0]
    width, height = page.get_size()
    image = page.render(scale=dpi / 72 * 842 / height).to_pil().convert("L")
    return image.crop((0, 0, image.width, int(image.height * share)))


def test_a_png_of_a_page_gives_its_text_with_boxes_in_image_pixels(tmp_path):
    image = page_top("031")
    path = tmp_path / "扫描件.png"
    image.save(path)
    extraction = extract(path)
    assert extraction.media_type == "image/png" and extraction.plugin == "image/1"
    assert "森林防火" in extraction.text and "秘密" in extraction.text
    assert "ocr_text" in [w.code for w in extraction.warnings]
    doc = extraction.document
    assert doc.page_count == 1 and {p.page for p in doc.paragraphs} == {1}
    for line in doc.ocr_lines:
        x0, y0, x1, y1 = line.box
        assert 0 <= x0 < x1 <= image.width + 1 and 0 <= y0 < y1 <= image.height + 1


def test_a_large_jpeg_is_read_at_ocr_size_and_its_boxes_stay_in_its_own_pixels(tmp_path):
    image = page_top("028", dpi=300)
    path = tmp_path / "照片.jpg"
    image.save(path, quality=85)
    extraction = extract(path)
    assert "晋城市人民政府办公室" in extraction.text
    assert max(line.box[2] for line in extraction.document.ocr_lines) > image.width / 2  # not the reduced size


def test_a_phone_photo_is_turned_upright_by_its_exif_orientation(tmp_path):
    image = page_top("031", share=0.2)
    path = tmp_path / "手机拍照.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": the pixels lie on their side
    image.transpose(Image.Transpose.ROTATE_90).save(path, exif=exif, quality=90)
    assert "森林防火" in extract(path).text


def test_a_multi_page_tiff_gives_pages(tmp_path):
    first, second = page_top("031", share=0.2), page_top("028", share=0.15)
    path = tmp_path / "多页扫描.tif"
    first.save(path, save_all=True, append_images=[second], compression="tiff_lzw")
    extraction = extract(path)
    doc = extraction.document
    assert doc.page_count == 2
    assert {line.page for line in doc.ocr_lines} == {1, 2}
    assert "森林防火" in " ".join(p.text for p in doc.paragraphs if p.page == 1)
    assert "晋城市" in " ".join(p.text for p in doc.paragraphs if p.page == 2)


def test_a_tiff_with_more_pages_than_allowed_is_resource_limit(tmp_path):
    frames = [Image.new("L", (64, 64), 255) for _ in range(5)]
    path = tmp_path / "pages.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.raises(ResourceLimit):
        extract(path, settings=config.load({"parse_max_pages": 4}))


def test_a_decompression_bomb_ends_coded_without_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("1", (10_000, 10_000), 1).save(path, optimize=True)
    assert path.stat().st_size < 200_000
    started = time.monotonic()
    with pytest.raises(ResourceLimit) as info:
        extract(path)
    assert time.monotonic() - started < 20
    assert "10000" in info.value.message


def test_a_truncated_image_is_corrupt(tmp_path):
    whole = tmp_path / "whole.png"
    page_top("031", share=0.1).save(whole)
    path = tmp_path / "truncated.png"
    path.write_bytes(whole.read_bytes()[:2000])
    with pytest.raises(CorruptFile):
        extract(path)
