"""service/annual_format.py: the 2021 format's figures read from a form, and its arithmetic checks."""
import pytest

from service import annual_format as F


def balanced_form() -> dict[str, str]:
    """自然人: 5 new + 1 carried in = 3 open + 1 partial + 1 not held + 1 carried out;
    商业企业: 2 new = 1 不予公开 (third party) + 1 repeat."""
    form = F.form_fields(F.empty_figures())
    form.update({"app.new.natural": "5", "app.carried_in.natural": "1", "app.open.natural": "3",
                 "app.partial.natural": "1", "app.unavailable_not_held.natural": "1",
                 "app.carried_out.natural": "1", "app.new.commercial": "2",
                 "app.withheld_third_party.commercial": "1", "app.unprocessed_repeat.commercial": "1"})
    return form


def test_a_balanced_form_reads_back_with_its_totals():
    figures = F.parse_figures(balanced_form())
    assert F.problems(figures) == []
    assert F.result_total(figures, "natural") == 5 and F.result_total(figures, "commercial") == 2
    rows = {r["key"]: r for r in F.application_rows(figures)}
    assert rows["new"]["values"] == [5, 2, 0, 0, 0, 0, 7]
    assert rows["total"]["values"] == [5, 2, 0, 0, 0, 0, 7] and rows["total"]["label"] == "（七）总计"
    assert rows["carried_out"]["values"] == [1, 0, 0, 0, 0, 0, 1]
    assert rows["withheld_third_party"]["group"] == "（三）不予公开"
    assert [r["key"] for r in F.application_rows(figures)][:3] == ["new", "carried_in", "open"]
    assert len(F.application_rows(figures)) == 2 + 21 + 1 + 1   # 一, 二, 21 result rows, （七）总计, 四
    assert F.form_fields(figures)["app.new.natural"] == "5"    # the form shows what was saved


def test_the_column_rule_names_the_column_and_the_rows_that_disagree():
    form = balanced_form()
    form["app.open.natural"] = "2"          # one 自然人 application handled fewer than received
    problems = F.problems(F.parse_figures(form))
    assert problems == ["三、收到和处理政府信息公开申请情况「自然人」列：一、本年新收政府信息公开申请数量（5）加"
                        "二、上年结转政府信息公开申请数量（1）为 6，不等于三、本年度办理结果（七）总计（4）加"
                        "四、结转下年度继续办理（1）为 5"]


def test_last_years_carried_out_must_be_this_years_carried_in():
    last = F.parse_figures({**F.form_fields(F.empty_figures()), "app.new.natural": "2", "app.open.natural": "1",
                            "app.carried_out.natural": "1"})
    this = F.parse_figures(balanced_form())          # carried in: 1 自然人, as last year carried out
    assert F.problems(this, last, 2024) == []
    last["applications"]["carried_out"]["natural"] = 2
    assert F.problems(this, last, 2024) == [
        "二、上年结转政府信息公开申请数量「自然人」列为 1，与 2024 年度报告的四、结转下年度继续办理（2）不一致"]


def test_every_wrong_field_is_named_at_once_and_empty_fields_are_zero():
    with pytest.raises(F.FiguresInvalid) as refused:
        F.parse_figures({"app.new.natural": "三", "appeal.reconsideration.upheld": "-1", "fees": "1.23456",
                         "processing_fees": "abc", "licensing": "12", "rules.issued": ""})
    assert refused.value.errors == {
        "app.new.natural": "一、本年新收政府信息公开申请数量「自然人」须为 0 至 10,000,000 的整数",
        "appeal.reconsideration.upheld": "行政复议「结果维持」须为 0 至 10,000,000 的整数",
        "fees": "行政事业性收费（万元）须为不小于 0 的金额（万元，至多 4 位小数）",
        "processing_fees": "信息处理费（元）须为不小于 0 的金额（元，至多 2 位小数）"}
    assert refused.value.http_status == 422 and "年度报告数据有误" in refused.value.message
    figures = F.parse_figures({"licensing": " 12 ", "fees": "1,234.5", "processing_fees": ""})
    assert figures["licensing"] == 12 and figures["fees"] == "1234.5" and figures["processing_fees"] == "0"
    assert figures["penalty"] == 0 and figures["rules"] == {"issued": 0, "repealed": 0, "effective": 0}
    for bad in ("NaN", "Infinity", "1e400", "-0.5"):
        with pytest.raises(F.FiguresInvalid):
            F.parse_figures({"fees": bad})


def test_appeals_have_a_total_per_group():
    form = F.form_fields(F.empty_figures())
    form.update({"appeal.reconsideration.upheld": "2", "appeal.reconsideration.pending": "1",
                 "appeal.litigation_after.corrected": "1"})
    assert F.appeal_values(F.parse_figures(form)) == [2, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1]
    assert F.field_label("appeal.litigation_direct.other") == "未经复议直接起诉「其他结果」"
