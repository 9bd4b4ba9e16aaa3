from pathlib import Path

import pytest

from service import sniff as s
from service.parsers import AmbiguousType, EmptyFile, Encrypted, LegacyOfficeFormat, TypeMismatch, UnsupportedType


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_paragraph("测试")
    d.save(path)
    return path


def test_real_pdf_is_pdf(data_dir):
    assert s.sniff(data_dir / "pdf" / "samples__simple1.pdf").media_type == s.PDF


def test_docx_by_content_even_without_extension(tmp_path):
    path = make_docx(tmp_path / "upload")
    assert s.sniff(path).media_type == s.DOCX


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "gbk"])
def test_chinese_text_in_common_office_encodings(tmp_path, encoding):
    path = write(tmp_path, "通知.txt", "关于做好政府信息公开工作的通知\n各乡镇人民政府：".encode(encoding))
    assert s.sniff(path).media_type == s.TEXT


def test_pdf_named_docx_is_type_mismatch(data_dir):
    with pytest.raises(TypeMismatch) as info:
        s.sniff(data_dir / "hostile" / "pdf_renamed.docx")
    assert info.value.code == "type_mismatch"
    assert "PDF" in info.value.message and ".docx" in info.value.message


def test_docx_named_pdf_is_type_mismatch(tmp_path):
    path = make_docx(tmp_path / "report.pdf")
    with pytest.raises(TypeMismatch):
        s.sniff(path)


def test_pdf_that_is_also_a_zip_is_ambiguous(data_dir):
    with pytest.raises(AmbiguousType) as info:
        s.sniff(data_dir / "hostile" / "polyglot_pdf_docx.pdf")
    assert info.value.code == "ambiguous_type"


def test_ole2_is_legacy_office_not_corrupt(data_dir):
    with pytest.raises(LegacyOfficeFormat) as info:
        s.sniff(data_dir / "hostile" / "ole2_header.docx")
    assert info.value.code == "legacy_office_format"


def test_legacy_doc_with_doc_extension_gets_its_own_code(tmp_path, data_dir):
    path = write(tmp_path, "旧文件.doc", (data_dir / "hostile" / "ole2_header.docx").read_bytes())
    with pytest.raises(LegacyOfficeFormat):
        s.sniff(path)


def test_encrypted_office_file_is_encrypted(tmp_path):
    # An encrypted .docx is an OLE2 container holding an "EncryptedPackage" stream.
    body = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64
    path = write(tmp_path, "加密.docx", body)
    with pytest.raises(Encrypted):
        s.sniff(path)


def test_empty_file(tmp_path):
    with pytest.raises(EmptyFile):
        s.sniff(write(tmp_path, "a.pdf", b""))


def test_an_image_ocr_cannot_read_is_unsupported_and_named(tmp_path):
    with pytest.raises(UnsupportedType) as info:
        s.sniff(write(tmp_path, "scan.bin", b"GIF89a" + b"\x00" * 100))
    assert "GIF" in info.value.message


@pytest.mark.parametrize("name, head, media_type", [
    ("扫描件.png", b"\x89PNG\r\n\x1a\n", s.PNG), ("照片.jpg", b"\xff\xd8\xff\xe0", s.JPEG),
    ("照片.JPEG", b"\xff\xd8\xff\xe1", s.JPEG), ("扫描.tif", b"II*\x00", s.TIFF), ("扫描.tiff", b"MM\x00*", s.TIFF),
    ("upload", b"\x89PNG\r\n\x1a\n", s.PNG),
])
def test_scanned_images_by_their_signature(tmp_path, name, head, media_type):
    assert s.sniff(write(tmp_path, name, head + b"\x00" * 100)).media_type == media_type


def test_an_image_named_pdf_is_type_mismatch_and_a_pdf_named_png_too(tmp_path, data_dir):
    with pytest.raises(TypeMismatch) as info:
        s.sniff(write(tmp_path, "通知.pdf", b"\xff\xd8\xff\xe0" + b"\x00" * 100))
    assert "JPEG" in info.value.message
    with pytest.raises(TypeMismatch):
        s.sniff(data_dir / "pdf" / "samples__simple1.pdf", "扫描件.png")


def test_an_image_that_is_also_a_pdf_is_ambiguous(tmp_path):
    with pytest.raises(AmbiguousType):
        s.sniff(write(tmp_path, "x.png", b"\x89PNG\r\n\x1a\n%PDF-1.7\n" + b"\x00" * 100))


def test_pdf_with_damaged_header_still_goes_to_the_pdf_parser(data_dir):
    # qpdf's bad-direct-root starts "UPDF-1" but is full of PDF syntax.
    assert s.sniff(data_dir / "hostile" / "qpdf__bad-direct-root.pdf").media_type == s.PDF


def test_unknown_extension_trusts_the_bytes(data_dir, tmp_path):
    path = write(tmp_path, "scan.dat", (data_dir / "pdf" / "samples__simple1.pdf").read_bytes())
    assert s.sniff(path).media_type == s.PDF
