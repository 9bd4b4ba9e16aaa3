import pytest

from plugins.ocr_fixes import tidy


@pytest.mark.parametrize("read, meant", [
    ("年均分别增长7%丶6.8%°开发区", "年均分别增长7%、6.8%。开发区"),
    ("一一经济运行稳中有进", "——经济运行稳中有进"),
    ("山西省政府工作报告一一2026年2月2日", "山西省政府工作报告——2026年2月2日"),
    ("“两新\"政策持续扩围，“两重＂项目", "“两新”政策持续扩围，“两重”项目"),
    ("利用外资比“十三五“时期增长71%。", "利用外资比“十三五”时期增长71%。"),
])
def test_known_confusions_are_put_right(read, meant):
    assert tidy(read) == meant


@pytest.mark.parametrize("line", ["最高气温25°C以上", "数据一一对应", '英文 "quoted" text', "“甲”和“乙”", "第1页"])
def test_what_is_right_is_kept(line):
    assert tidy(line) == line
