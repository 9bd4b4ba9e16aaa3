"""The 2021 national format of the 政府信息公开工作年度报告 (国办公开办函〔2021〕30号): its tables,
the figures a clerk enters into them, and the arithmetic the format requires.

Figures gongkai does not hold are entered once a year (``parse_figures`` reads them from a form
and says which field is wrong); ``problems`` lists what does not add up, naming the row and the
column, so a report is never generated while its totals disagree (《条例》第四十七条 holds the
office to account for a wrong report). Stored figures are plain JSON::

    {"rules": {"issued", "repealed", "effective"},          # 规章 (a county issues none)
     "licensing", "penalty", "coercion",                      # 本年处理决定数量
     "fees": "12.50",                                         # 行政事业性收费, 万元
     "processing_fees": "0",                                  # 信息处理费 charged, 元 (国办函〔2020〕109号)
     "applications": {row: {column: n}},                      # section 三, the rows entered
     "appeals": {group: {outcome: n}}}                        # section 四
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from service.errors import GongkaiError

SECTION_TITLES = ("一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                  "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项")

#: Section 三's columns (申请人情况); 总计 is their sum.
APPLICANTS = (("natural", "自然人"), ("commercial", "商业企业"), ("research", "科研机构"),
              ("public_welfare", "社会公益组织"), ("legal_service", "法律服务机构"), ("other_org", "其他"))
APPLICANT_NAMES = dict(APPLICANTS)
#: The columns 法人或其他组织 spans.
ORGANISATIONS = ("commercial", "research", "public_welfare", "legal_service", "other_org")


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    group: str = ""        # the 办理结果 heading it sits under: （三）不予公开 …; "" for none


#: The rows of section 三 a clerk enters, in the format's order. 三、本年度办理结果 spans the
#: result rows; （七）总计 is computed (``TOTAL_LABEL``).
NEW = Row("new", "一、本年新收政府信息公开申请数量")
CARRIED_IN = Row("carried_in", "二、上年结转政府信息公开申请数量")
RESULTS = (
    Row("open", "（一）予以公开"),
    Row("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    Row("withheld_secret", "1.属于国家秘密", "（三）不予公开"),
    Row("withheld_law", "2.其他法律行政法规禁止公开", "（三）不予公开"),
    Row("withheld_safety", "3.危及“三安全一稳定”", "（三）不予公开"),
    Row("withheld_third_party", "4.保护第三方合法权益", "（三）不予公开"),
    Row("withheld_internal", "5.属于三类内部事务信息", "（三）不予公开"),
    Row("withheld_process", "6.属于四类过程性信息", "（三）不予公开"),
    Row("withheld_enforcement", "7.属于行政执法案卷", "（三）不予公开"),
    Row("withheld_query", "8.属于行政查询事项", "（三）不予公开"),
    Row("unavailable_not_held", "1.本机关不掌握相关政府信息", "（四）无法提供"),
    Row("unavailable_to_make", "2.没有现成信息需要另行制作", "（四）无法提供"),
    Row("unavailable_unclear", "3.补正后申请内容仍不明确", "（四）无法提供"),
    Row("unprocessed_petition", "1.信访举报投诉类申请", "（五）不予处理"),
    Row("unprocessed_repeat", "2.重复申请", "（五）不予处理"),
    Row("unprocessed_publication", "3.要求提供公开出版物", "（五）不予处理"),
    Row("unprocessed_mass", "4.无正当理由大量反复申请", "（五）不予处理"),
    Row("unprocessed_confirm", "5.要求行政机关确认或重新出具已获取信息", "（五）不予处理"),
    Row("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "（六）其他处理"),
    Row("other_no_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "（六）其他处理"),
    Row("other_other", "3.其他", "（六）其他处理"),
)
CARRIED_OUT = Row("carried_out", "四、结转下年度继续办理")
APPLICATION_ROWS = (NEW, CARRIED_IN, *RESULTS, CARRIED_OUT)
RESULTS_LABEL = "三、本年度办理结果"
TOTAL_LABEL = "（七）总计"
BALANCE_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"

#: Section 四: 行政复议, and 行政诉讼 未经复议直接起诉 / 复议后起诉, each by outcome; 总计 is their sum.
APPEAL_GROUPS = (("reconsideration", "行政复议"), ("litigation_direct", "未经复议直接起诉"),
                 ("litigation_after", "复议后起诉"))
OUTCOMES = (("upheld", "结果维持"), ("corrected", "结果纠正"), ("other", "其他结果"), ("pending", "尚未审结"))

#: Section 二's entered rows (第二十条第（五）（六）项): 本年处理决定数量.
DECISIONS = (("licensing", "行政许可", "（五）"), ("penalty", "行政处罚", "（六）"), ("coercion", "行政强制", "（六）"))
DECISION_NAMES = {key: name for key, name, _ in DECISIONS}
RULE_COLUMNS = (("issued", "本年制发件数"), ("repealed", "本年废止件数"), ("effective", "现行有效件数"))

MAX_COUNT = 10_000_000
MAX_MONEY = Decimal("100000000")


class FiguresInvalid(GongkaiError):
    code = "report_figures_invalid"
    http_status = 422
    message_zh = "年度报告数据有误：{what}"
    message_en = "Invalid annual report figures: {what}"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(None, what="；".join(errors.values()))


def field_label(name: str) -> str:
    """The words a clerk reads for a form field's name (``app.new.natural`` → 一、本年新收…「自然人」)."""
    parts = name.split(".")
    if parts[0] == "app" and len(parts) == 3:
        row = next((r for r in APPLICATION_ROWS if r.key == parts[1]), None)
        if row:
            return f"{row.group + ' ' if row.group else ''}{row.label}「{APPLICANT_NAMES.get(parts[2], parts[2])}」"
    if parts[0] == "appeal" and len(parts) == 3:
        return f"{dict(APPEAL_GROUPS).get(parts[1], parts[1])}「{dict(OUTCOMES).get(parts[2], parts[2])}」"
    if parts[0] == "rules" and len(parts) == 2:
        return f"规章「{dict(RULE_COLUMNS).get(parts[1], parts[1])}」"
    labels = {key: f"{name_zh}（本年处理决定数量）" for key, name_zh, _ in DECISIONS}
    labels.update(fees="行政事业性收费（万元）", processing_fees="信息处理费（元）")
    return labels.get(name, name)


def empty_figures() -> dict[str, Any]:
    return {"rules": {k: 0 for k, _ in RULE_COLUMNS}, **{k: 0 for k, _, _ in DECISIONS}, "fees": "0",
            "processing_fees": "0",
            "applications": {r.key: {c: 0 for c, _ in APPLICANTS} for r in APPLICATION_ROWS},
            "appeals": {g: {o: 0 for o, _ in OUTCOMES} for g, _ in APPEAL_GROUPS}}


def form_fields(figures: dict[str, Any]) -> dict[str, str]:
    """``figures`` as the form's flat field names and values (what ``parse_figures`` reads back)."""
    fields = {f"rules.{k}": str(figures["rules"].get(k, 0)) for k, _ in RULE_COLUMNS}
    fields.update({k: str(figures.get(k, 0)) for k, _, _ in DECISIONS})
    fields.update(fees=str(figures.get("fees", "0")), processing_fees=str(figures.get("processing_fees", "0")))
    for row in APPLICATION_ROWS:
        for col, _ in APPLICANTS:
            fields[f"app.{row.key}.{col}"] = str(figures["applications"].get(row.key, {}).get(col, 0))
    for group, _ in APPEAL_GROUPS:
        for outcome, _ in OUTCOMES:
            fields[f"appeal.{group}.{outcome}"] = str(figures["appeals"].get(group, {}).get(outcome, 0))
    return fields


def _count(value: str) -> int:
    value = (value or "").strip() or "0"
    if not value.isdigit() or int(value) > MAX_COUNT:
        raise ValueError
    return int(value)


def _money(value: str, places: int) -> str:
    text = (value or "").strip().replace(",", "").replace("，", "") or "0"
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError from exc
    if not amount.is_finite() or amount < 0 or amount > MAX_MONEY or -amount.as_tuple().exponent > places:
        raise ValueError
    return format(amount, "f")


def parse_figures(form: Any) -> dict[str, Any]:
    """The figures a form sent (``form.get(name)``); an empty field is 0. Raises ``FiguresInvalid``
    with every wrong field (name → sentence) at once."""
    figures, errors = empty_figures(), {}

    def count(name: str) -> int:
        try:
            return _count(form.get(name, ""))
        except ValueError:
            errors[name] = f"{field_label(name)}须为 0 至 {MAX_COUNT:,} 的整数"
            return 0

    figures["rules"] = {k: count(f"rules.{k}") for k, _ in RULE_COLUMNS}
    for key, _, _ in DECISIONS:
        figures[key] = count(key)
    for key, places, unit in (("fees", 4, "万元"), ("processing_fees", 2, "元")):
        try:
            figures[key] = _money(form.get(key, ""), places)
        except ValueError:
            errors[key] = f"{field_label(key)}须为不小于 0 的金额（{unit}，至多 {places} 位小数）"
    figures["applications"] = {r.key: {c: count(f"app.{r.key}.{c}") for c, _ in APPLICANTS} for r in APPLICATION_ROWS}
    figures["appeals"] = {g: {o: count(f"appeal.{g}.{o}") for o, _ in OUTCOMES} for g, _ in APPEAL_GROUPS}
    if errors:
        raise FiguresInvalid(errors)
    return figures


def result_total(figures: dict[str, Any], column: str) -> int:
    """（七）总计 of one column: every 办理结果 row."""
    return sum(figures["applications"][r.key][column] for r in RESULTS)


def row_total(figures: dict[str, Any], row: str) -> int:
    """A row's 总计: the sum over the applicants."""
    if row == "total":
        return sum(result_total(figures, c) for c, _ in APPLICANTS)
    return sum(figures["applications"][row][c] for c, _ in APPLICANTS)


def appeal_total(figures: dict[str, Any], group: str) -> int:
    return sum(figures["appeals"][group][o] for o, _ in OUTCOMES)


def problems(figures: dict[str, Any], previous: dict[str, Any] | None = None,
             previous_year: int | None = None) -> list[str]:
    """What does not add up, each naming its row and column: the format's column rule (一 + 二 =
    三（七）总计 + 四), and 二、上年结转 against the year before's 四、结转下年度 when that year's
    figures are saved. Empty when the report may be generated."""
    found = []
    apps = figures["applications"]
    for col, name in APPLICANTS:   # the 总计 column is their sum: it balances when they do
        new, carried_in, carried_out = apps[NEW.key][col], apps[CARRIED_IN.key][col], apps[CARRIED_OUT.key][col]
        handled = result_total(figures, col)
        if new + carried_in != handled + carried_out:
            found.append(f"三、收到和处理政府信息公开申请情况「{name}」列：{NEW.label}（{new}）加{CARRIED_IN.label}"
                         f"（{carried_in}）为 {new + carried_in}，不等于{RESULTS_LABEL}{TOTAL_LABEL}（{handled}）"
                         f"加{CARRIED_OUT.label}（{carried_out}）为 {handled + carried_out}")
    if previous is not None:
        for col, name in APPLICANTS:
            before = previous["applications"][CARRIED_OUT.key][col]
            if apps[CARRIED_IN.key][col] != before:
                found.append(f"{CARRIED_IN.label}「{name}」列为 {apps[CARRIED_IN.key][col]}，与 {previous_year} "
                             f"年度报告的{CARRIED_OUT.label}（{before}）不一致")
    return found


def application_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Section 三's body as it is laid out: every row with its label, the 办理结果 heading it sits
    under (``group``, "" for none; ``result`` True for rows under 三、本年度办理结果) and its seven
    values (the six applicant columns and 总计), （七）总计 included."""
    def values(cells: list[int]) -> list[int]:
        return [*cells, sum(cells)]

    apps = figures["applications"]
    rows = [{"key": NEW.key, "label": NEW.label, "group": "", "result": False,
             "values": values([apps[NEW.key][c] for c, _ in APPLICANTS])},
            {"key": CARRIED_IN.key, "label": CARRIED_IN.label, "group": "", "result": False,
             "values": values([apps[CARRIED_IN.key][c] for c, _ in APPLICANTS])}]
    rows += [{"key": r.key, "label": r.label, "group": r.group, "result": True,
              "values": values([apps[r.key][c] for c, _ in APPLICANTS])} for r in RESULTS]
    rows.append({"key": "total", "label": TOTAL_LABEL, "group": "", "result": True,
                 "values": values([result_total(figures, c) for c, _ in APPLICANTS])})
    rows.append({"key": CARRIED_OUT.key, "label": CARRIED_OUT.label, "group": "", "result": False,
                 "values": values([apps[CARRIED_OUT.key][c] for c, _ in APPLICANTS])})
    return rows


def appeal_values(figures: dict[str, Any]) -> list[int]:
    """Section 四's fifteen values: per group (复议, 直接起诉, 复议后起诉) the four outcomes and 总计."""
    values = []
    for group, _ in APPEAL_GROUPS:
        outcomes = [figures["appeals"][group][o] for o, _ in OUTCOMES]
        values += [*outcomes, sum(outcomes)]
    return values
