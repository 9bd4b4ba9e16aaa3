"""The public form of a text: personal numbers masked in place, everything else untouched."""
from __future__ import annotations

import pytest

from service.analysis.masking import is_personal, mask_found, public_form
from service.analysis.privacy import scan_text

NOTICE = ("赵德明，公民身份号码410522197002140036，手机号15937214003，"
          "银行卡号 6222021234567894。秘密★1年 联系电话0372-5123456。")


@pytest.mark.parametrize("kind, found, masked", [
    ("resident_id", "410522197002140036", "410522********0036"),
    ("resident_id", "11010519491231002X", "110105********002X"),
    # full-width digits stay full-width
    ("resident_id", "４１０５２２１９７００２１４００３６", "４１０５２２********００３６"),
    ("mobile", "15937214003", "159****4003"),
    ("mobile", "159-3721-4003", "159-****-4003"),                                     # separators stay
    ("bank_card", "6222021234567894", "************7894"),
    ("bank_card", "6222 0212 3456 7894", "**** **** **** 7894"),
])
def test_a_number_keeps_only_the_digits_its_kind_shows(kind, found, masked):
    assert mask_found(kind, found) == masked and len(masked) == len(found)


def test_the_public_form_masks_every_personal_number_the_gate_finds_and_nothing_else():
    public, count = public_form(NOTICE)
    assert count == 3 and len(public) == len(NOTICE)
    assert public == ("赵德明，公民身份号码410522********0036，手机号159****4003，"
                      "银行卡号 ************7894。秘密★1年 联系电话0372-5123456。")
    found = [value for kind, value, _s, _e in scan_text(NOTICE) if kind != "secrecy"]
    assert found and not any(value in public for value in found)
    assert [kind for kind, *_ in scan_text(public)] == ["secrecy"]    # nothing personal is left to find


def test_empty_text_and_text_without_numbers_come_back_as_they_are():
    assert public_form(None) == ("", 0) and public_form("") == ("", 0)
    assert public_form("关于做好2025年防汛工作的通知") == ("关于做好2025年防汛工作的通知", 0)


def test_only_personal_findings_are_masked_in_the_public_copy():
    assert is_personal({"kind": "resident_id"}) and is_personal({"kind": "mobile"})
    assert is_personal({"kind": "bank_card"})
    assert not is_personal({"kind": "secrecy"}) and not is_personal({"kind": "internal"})


def test_a_reviewer_adds_a_name_everywhere_and_exempts_a_number_that_is_not_personal():
    text = "赵德明，手机号15937214003；赵德明签收。单位服务手机 138 0013 8000。"
    masks = {"added": [{"text": "赵德明"}], "exempt": [{"text": "13800138000", "reason": "单位服务号码"}]}
    public, count = public_form(text, masks)
    assert public == "赵**，手机号159****4003；赵**签收。单位服务手机 138 0013 8000。" and count == 3
    assert public_form(text)[0].endswith("138 **** 8000。")          # without the exemption it is masked
