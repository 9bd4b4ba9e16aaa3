
import pytest

from build_pdf import build_pdf
from service import config
from service.parsers import FileTooLarge, TypeMismatch
from service.pipeline import extract

GONGWEN_LINES = [
    "XX县人民政府文件",
    "长政发〔2023〕12号",
    "XX县人民政府关于印发《XX县政府信息公开工作",
    "管理办法》的通知",
    "各乡镇人民政府，县政府各部门：",
    "现将《XX县政府信息公开工作管理办法》印发给你们，请认真贯彻执行。",
    "XX县人民政府",
    "2023年12月5日",
]


def test_pdf_through_the_whole_intake(tmp_path):
    path = build_pdf(tmp_path / "通知.pdf", [GONGWEN_LINES])
    result = extract(path)
    assert result.media_type == "application/pdf" and result.plugin == "pdf/1"
    assert result.metadata["doc_number"].value == "长政发〔2023〕12号"
    assert result.metadata["date"].value == "2023-12-05"
    assert result.title == "XX县人民政府关于印发《XX县政府信息公开工作管理办法》的通知"
    assert "请认真贯彻执行" in result.text
    assert len(result.sha256) == 64 and result.size == path.stat().st_size


def test_isolated_and_in_process_agree(tmp_path):
    path = build_pdf(tmp_path / "a.pdf", [GONGWEN_LINES, ["第二页正文。"]])
    assert extract(path).document == extract(path, isolate=False).document


def test_analysis_text_is_simplified_and_width_folded(tmp_path):
    path = tmp_path / "繁體.txt"
    path.write_text("政府資訊公開條例　第２０條", encoding="utf-8")
    result = extract(path)
    assert result.text == "政府資訊公開條例 第２０條"  # display keeps the document's characters
    assert result.analysis_text == "政府资讯公开条例 第20条"


def test_the_name_given_at_upload_is_checked_against_the_bytes(tmp_path):
    path = build_pdf(tmp_path / "upload.bin", [["正文"]])
    with pytest.raises(TypeMismatch):
        extract(path, filename="通知.txt")
    assert extract(path, filename="通知.pdf").media_type == "application/pdf"


def test_size_limit_is_checked_before_parsing(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("政" * 2000, encoding="utf-8")
    settings = config.load({"max_upload_bytes": 1000})
    with pytest.raises(FileTooLarge) as info:
        extract(path, settings=settings)
    assert info.value.code == "file_too_large"
