from pathlib import Path

import pytest

from service.parsing import sniff as s
from service.parsers import AmbiguousType, CorruptFile, EmptyFile, Encrypted, TypeMismatch, UnsupportedType

TESTS = Path(__file__).resolve().parents[2]
from build_ole2 import build_ole2, word_fib  # noqa: E402


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


def test_bare_ole2_header_is_corrupt_not_a_parse_attempt(data_dir):
    # 512 bytes of OLE2 header and nothing behind it: no directory to read.
    with pytest.raises(CorruptFile):
        s.sniff(data_dir / "hostile" / "ole2_header.docx")


@pytest.mark.parametrize("name", ["通知.doc", "通知.wps", "通知"])
def test_word_binary_is_msword_as_doc_wps_or_without_extension(tmp_path, name):
    path = build_ole2(tmp_path / name, {"WordDocument": word_fib(), "1Table": b""})
    assert s.sniff(path).media_type == s.MSWORD


def test_real_doc_and_wps_are_msword(data_dir):
    assert s.sniff(data_dir / "legacy" / "000.doc").media_type == s.MSWORD
    assert s.sniff(data_dir / "legacy" / "030.wps").media_type == s.MSWORD


@pytest.mark.parametrize("stream,label", [("Workbook", "Excel"), ("Book", "Excel"),
                                          ("PowerPoint Document", "PowerPoint")])
def test_excel_or_powerpoint_named_doc_is_type_mismatch(tmp_path, stream, label):
    path = build_ole2(tmp_path / "通知.doc", {stream: b""})
    with pytest.raises(TypeMismatch) as info:
        s.sniff(path)
    assert label in info.value.message and ".doc" in info.value.message


@pytest.mark.parametrize("name,stream", [("报表.xls", "Workbook"), ("报表.et", "Workbook"),
                                         ("汇报.ppt", "PowerPoint Document")])
def test_excel_and_powerpoint_binaries_are_unsupported_and_named(tmp_path, name, stream):
    with pytest.raises(UnsupportedType) as info:
        s.sniff(build_ole2(tmp_path / name, {stream: b""}))
    assert "97-2003" in info.value.message


@pytest.mark.parametrize("flags", [0x0100, 0x8000])  # fEncrypted, fObfuscated
def test_word_binary_with_encryption_flag_is_encrypted(tmp_path, flags):
    with pytest.raises(Encrypted):
        s.sniff(build_ole2(tmp_path / "加密.doc", {"WordDocument": word_fib(flags)}))


def test_real_password_protected_doc_is_encrypted(data_dir):
    with pytest.raises(Encrypted):
        s.sniff(data_dir / "legacy" / "encrypted.doc")


def test_encrypted_ooxml_package_is_encrypted(tmp_path):
    # An encrypted .docx is an OLE2 container holding an "EncryptedPackage" stream.
    path = build_ole2(tmp_path / "加密.docx", {"EncryptionInfo": b"\x04\x00", "EncryptedPackage": b"\x00" * 64})
    with pytest.raises(Encrypted):
        s.sniff(path)


def test_truncated_doc_is_corrupt(tmp_path, data_dir):
    path = write(tmp_path, "截断.doc", (data_dir / "legacy" / "030.doc").read_bytes()[:7000])
    with pytest.raises(CorruptFile):
        s.sniff(path)


def test_other_ole2_containers_are_unsupported(tmp_path):
    with pytest.raises(UnsupportedType):
        s.sniff(build_ole2(tmp_path / "邮件.msg", {"__properties_version1.0": b""}))


def test_rtf_is_rtf_not_text(tmp_path, data_dir):
    assert s.sniff(data_dir / "legacy" / "030.rtf").media_type == s.RTF
    with pytest.raises(TypeMismatch):
        s.sniff(write(tmp_path, "通知.txt", (data_dir / "legacy" / "030.rtf").read_bytes()))


@pytest.mark.parametrize("name", ["通知.doc", "通知.wps"])
def test_rtf_saved_as_doc_or_wps_is_read_as_rtf(tmp_path, data_dir, name):
    assert s.sniff(write(tmp_path, name, (data_dir / "legacy" / "030.rtf").read_bytes())).media_type == s.RTF


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


# --- OFD (GB/T 33190): a zip judged by its OFD.xml ---------------------------------------

def test_real_ofd_is_ofd_by_its_entry_file(data_dir, tmp_path):
    assert s.sniff(data_dir / "ofd" / "converter-n.ofd").media_type == s.OFD
    # The year-less namespace some writers use; and no extension at all.
    assert s.sniff(data_dir / "ofd" / "sign-namespace_no_std.ofd").media_type == s.OFD
    path = write(tmp_path, "upload", (data_dir / "ofd" / "converter-1.ofd").read_bytes())
    assert s.sniff(path).media_type == s.OFD


def test_zip_with_an_ofd_xml_outside_the_ofd_namespace_is_just_a_zip(tmp_path):
    import zipfile

    path = tmp_path / "fake.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("OFD.xml", '<?xml version="1.0"?><OFD xmlns="http://example.com/ofd"/>')
    assert s.sniff(path).media_type == s.ZIP
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("sub/OFD.xml", '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>')
    assert s.sniff(path).media_type == s.ZIP


def test_ofd_named_docx_and_docx_named_ofd_are_type_mismatch(data_dir, tmp_path):
    path = write(tmp_path, "通知.docx", (data_dir / "ofd" / "converter-n.ofd").read_bytes())
    with pytest.raises(TypeMismatch) as exc:
        s.sniff(path)
    assert "OFD" in exc.value.message
    with pytest.raises(TypeMismatch):
        s.sniff(make_docx(tmp_path / "通知.ofd"))


def test_truncated_ofd_goes_to_the_ofd_parser(data_dir, tmp_path):
    data = (data_dir / "ofd" / "converter-n.ofd").read_bytes()
    assert s.sniff(write(tmp_path, "cut.ofd", data[: len(data) // 2])).media_type == s.OFD


def test_ofd_with_encrypted_entries_goes_to_the_ofd_parser(data_dir, tmp_path):
    data = bytearray((data_dir / "ofd" / "converter-helloworld.ofd").read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the "encrypted" flag
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset] |= 0x01
            start += 4
    assert s.sniff(write(tmp_path, "locked.ofd", bytes(data))).media_type == s.OFD
