"""Which characters of a page the public PDF covers: what the public copy masks, found on the page."""
from __future__ import annotations

from service.rendition.covers import (
    ADDED,
    PageChars,
    Value,
    covered,
    document_values,
    leaks,
    line_boxes,
    present,
    rectangles,
    unplaced,
)

ID = "610429198503120018"
PHONE = "13891234567"


def shown(text: str, cover: set[int]) -> str:
    return "".join("*" if i in cover else ch for i, ch in enumerate(text))


def test_a_page_is_covered_where_the_public_text_is_masked():
    text = f"王明，身份证号{ID}，电话{PHONE}。"
    cover = covered(text, None, [])
    assert shown(text, cover) == "王明，身份证号610429********0018，电话138****4567。"
    assert leaks(text, cover, None, []) == []


def test_a_number_wrapped_onto_two_lines_is_found_by_the_documents_values():
    text = f"身份证号{ID[:10]}\n{ID[10:]}，联系电话 138 9123 4567"
    values = [Value("resident_id", ID), Value("mobile", PHONE)]
    cover = covered(text, None, values)
    assert shown(text, cover) == "身份证号610429****\n****0018，联系电话 138 **** 4567"
    assert leaks(text, cover, None, values) == []
    assert leaks(text, set(), None, values) == ["resident_id:610429********0018", "mobile:138****4567"]


def test_added_words_are_covered_but_their_first_character_and_exempt_numbers_stay():
    masks = {"added": [{"text": "赵德明"}], "exempt": [{"text": "13800138000", "reason": "热线"}]}
    text = "赵德明，服务热线13800138000"
    values = document_values([{"kind": "mobile", "value": "13800138000"}], masks)
    assert values == [Value(ADDED, "赵德明")]
    cover = covered(text, masks, values)
    assert shown(text, cover) == "赵**，服务热线13800138000"
    assert leaks(text, cover, masks, values) == []


def test_full_width_digits_are_the_same_number():
    text = "身份证号６１０４２９１９８５０３１２００１８"
    cover = covered(text, None, [Value("resident_id", ID)])
    assert shown(text, cover) == "身份证号６１０４２９********００１８"


def test_a_covered_character_without_a_box_cannot_be_painted():
    chars = PageChars("号13891234567", [(0, 0, 10, 10)] + [(10 + 5 * i, 0, 15 + 5 * i, 10) for i in range(11)])
    cover = covered(chars.text, None, [])
    assert unplaced(cover, chars) == []
    holed = PageChars(chars.text, [*chars.boxes[:5], None, *chars.boxes[6:]])
    assert unplaced(cover, holed) == [5]


def test_a_run_of_covered_characters_on_one_line_is_one_rectangle():
    chars = PageChars("号13891234567", [(0, 0, 10, 10)] + [(10 + 5 * i, 0, 15 + 5 * i, 10) for i in range(11)])
    cover = covered(chars.text, None, [])      # 138 **** 4567: characters 4..7
    assert rectangles(cover, chars, pad=1) == [(24, -1, 46, 11)]


def test_ocr_line_boxes_share_the_width_out_full_for_cjk_half_for_digits():
    boxes = line_boxes("电话1234", (0, 0, 40, 10))   # 2 full + 4 half widths = 4 units of 10
    assert [round(b[0], 1) for b in boxes] == [-2.5, 7.5, 17.5, 22.5, 27.5, 32.5]
    assert [round(b[2], 1) for b in boxes] == [12.5, 22.5, 27.5, 32.5, 37.5, 42.5]


def test_present_reads_across_line_breaks():
    assert present([Value("mobile", PHONE)], "电话1389\n1234567") == {Value("mobile", PHONE)}
    assert present([Value("mobile", PHONE)], "电话1389") == set()
