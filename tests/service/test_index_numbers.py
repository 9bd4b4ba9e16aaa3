"""索引号 by a deployment's scheme: the template checked when the settings load, the 统一社会信用代码
checked by its GB 32100 check character, numbers made by the template at publication."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service import accounts, config
from service.db import Department, Document, transaction
from service.errors import ConfigError
from service.index_numbers import (
    DEFAULT_TEMPLATE,
    Scheme,
    TemplateInvalid,
    check_template,
    credit_check_char,
    valid_credit_code,
)
from service.localtime import now
from service.review import CreditCodeMissing, publish
from service.taxonomy import from_settings

#: 统一社会信用代码 as published (the first from the issue's 索引号 113708280043326001/2024-02411).
REAL = ["113708280043326001", "91350100M000100Y43"]
NATIONAL = "{credit_code}/{year}-{seq:05d}"


def test_real_credit_codes_pass_their_check_character_and_altered_ones_do_not():
    assert all(valid_credit_code(code) for code in REAL)
    assert not valid_credit_code("113708280043326002")        # a wrong check character
    assert not valid_credit_code("11370828004332600")         # 17 characters
    assert not valid_credit_code("I13708280043326001")        # I is not in GB 32100's set
    assert credit_check_char("11370828004332600") == "1"


@pytest.mark.parametrize("template", [DEFAULT_TEMPLATE, NATIONAL, "{credit_code}-{category_code}-{year}-{seq:04d}",
                                      "{org_code}/{year}-{seq:05d}", "{org_code}-{year}-{seq:06d}",
                                      "330201-{dept_code}-{category_code}-{year}-{seq}", "{dept_code}{year}{seq}"])
def test_templates_that_can_number(template):
    check_template(template)


@pytest.mark.parametrize(("template", "says"), [
    ("{year}-{seq:05d}", "{credit_code}、{org_code} 或 {dept_code}"),
    ("{dept_code}-{year}", "{seq}"),
    ("{dept_code}-{seq}-{seq}", "{seq}"),
    ("{dept_code}-{yr}-{seq}", "未知占位符 {yr}"),
    ("{dept_code}-{year:>8}-{seq}", "格式有误"),
    ("{dept_code}-{year}-{seq:05x}", "格式有误"),
    ("{dept_code-{seq}", "格式有误"),
    ("{dept_code}" + "x" * 70 + "{seq}", "超过 100 个字符"),
])
def test_templates_that_cannot_are_refused_saying_why(template, says):
    with pytest.raises(TemplateInvalid, match=said(says)):
        check_template(template)


def said(text: str) -> str:
    return re.escape(text)


def test_a_bad_template_stops_the_settings_from_loading():
    with pytest.raises(ConfigError) as refused:
        config.load(environ={"GONGKAI_INDEX_NUMBER_TEMPLATE": "{year}-{seq}"})
    assert "GONGKAI_INDEX_NUMBER_TEMPLATE" in refused.value.message
    assert config.load(environ={"GONGKAI_INDEX_NUMBER_TEMPLATE": NATIONAL}).index_number_template == NATIONAL


def test_departments_get_a_checked_unique_credit_code(sessions):
    with transaction(sessions) as s:
        accounts.add_department(s, "zfb", "县政府办", "admin", credit_code=" 113708280043326001 ")
        with pytest.raises(accounts.AccountInputError, match="无效"):
            accounts.add_department(s, "mzj", "县民政局", "admin", credit_code="113708280043326002")
        with pytest.raises(accounts.AccountInputError, match="已属于部门「县政府办」"):
            accounts.add_department(s, "mzj", "县民政局", "admin", credit_code="113708280043326001")
        accounts.add_department(s, "mzj", "县民政局", "admin")
        accounts.set_credit_code(s, "mzj", "91350100m000100y43", "admin")
    with transaction(sessions, readonly=True) as s:
        codes = dict(s.execute(select(Department.code, Department.credit_code)).all())
    assert codes == {"zfb": "113708280043326001", "mzj": "91350100M000100Y43"}


def approved(sessions, credit_code: str | None, n: int = 2) -> list[int]:
    with transaction(sessions) as s:
        dept = accounts.add_department(s, "zfb", "县政府办", "admin", credit_code=credit_code)
        s.flush()
        docs = [Document(department_id=dept.id, filename=f"{i}.pdf", sha256=f"{i:064x}", size=1, status="approved",
                         category="工作动态") for i in range(n)]
        s.add_all(docs)
        s.flush()
        return [d.id for d in docs]


def test_the_national_scheme_numbers_by_credit_code_year_and_sequence(sessions):
    ids = approved(sessions, REAL[0])
    scheme = Scheme(NATIONAL)
    for doc_id in ids:
        with transaction(sessions) as s:
            publish(s, s.get(Document, doc_id, with_for_update=True), "审核员", scheme=scheme)
    with transaction(sessions, readonly=True) as s:
        numbers = sorted(s.execute(select(Document.index_number)).scalars())
    year = now().year
    assert numbers == [f"113708280043326001/{year}-00001", f"113708280043326001/{year}-00002"]


def test_the_older_form_numbers_by_the_organisation_code_inside_the_credit_code(sessions):
    ids = approved(sessions, REAL[0], n=1)       # 11370828 0043326 00 1: the organisation code is 004332600
    with transaction(sessions) as s:
        publish(s, s.get(Document, ids[0], with_for_update=True), "审核员",
                scheme=Scheme("{org_code}/{year}-{seq:05d}"))
        assert s.get(Document, ids[0]).index_number == f"004332600/{now().year}-00001"


def test_a_category_code_comes_from_the_taxonomy(sessions):
    ids = approved(sessions, REAL[0], n=1)
    scheme = Scheme.of("{credit_code}-{category_code}-{year}-{seq:04d}", from_settings(config.load(environ={})))
    with transaction(sessions) as s:
        publish(s, s.get(Document, ids[0], with_for_update=True), "审核员", scheme=scheme)
        assert s.get(Document, ids[0]).index_number == f"113708280043326001-work_news-{now().year}-0001"


def test_a_scheme_with_the_credit_code_refuses_a_department_without_one(sessions):
    ids = approved(sessions, None, n=1)
    with pytest.raises(CreditCodeMissing) as refused, transaction(sessions) as s:
        publish(s, s.get(Document, ids[0], with_for_update=True), "审核员", scheme=Scheme(NATIONAL))
    assert "县政府办" in refused.value.message and "统一社会信用代码" in refused.value.message
    with transaction(sessions, readonly=True) as s:
        assert s.get(Document, ids[0]).status == "approved"
