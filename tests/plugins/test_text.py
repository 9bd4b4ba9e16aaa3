import pytest

from plugins.text import TextParser, decode_text
from service.parsers import ParseContext, ParseLimits, ResourceLimit, UnknownEncoding

CTX = ParseContext(media_type="text/plain")
SAMPLE = "关于做好2024年政府信息公开工作的通知\n各乡镇人民政府，县直各部门：\n\n　　现将有关事项通知如下。"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "utf-16"])
def test_encodings_used_in_chinese_offices(tmp_path, encoding):
    path = tmp_path / "a.txt"
    path.write_bytes(SAMPLE.encode(encoding))
    doc = TextParser().parse(path, CTX)
    assert [p.text for p in doc.paragraphs] == ["关于做好2024年政府信息公开工作的通知", "各乡镇人民政府，县直各部门：",
                                                "现将有关事项通知如下。"]


def test_traditional_big5_is_decoded_by_detection():
    text, encoding = decode_text(("政府資訊公開條例第二十條規定，"
                                  "行政機關應當主動公開本行政機關的資訊。").encode("big5") * 3)
    assert "政府資訊公開" in text and encoding


def test_undecodable_bytes_are_refused():
    with pytest.raises(UnknownEncoding):
        decode_text(bytes(range(128, 256)) * 20)


def test_empty_text_is_flagged(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("\n\n   \n", encoding="utf-8")
    assert [w.code for w in TextParser().parse(path, CTX).warnings] == ["no_text_layer"]


def test_size_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("政" * 100, encoding="utf-8")
    with pytest.raises(ResourceLimit):
        TextParser().parse(path, ParseContext(media_type="text/plain", limits=ParseLimits(max_text_bytes=100)))
