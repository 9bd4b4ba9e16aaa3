"""索引号: the number every published document carries, built from a deployment's template.

Disclosure practice numbers documents by a national or provincial scheme, most often
``统一社会信用代码/年份-流水号`` (``113708280043326001/2024-02411``); provinces have their own.
A deployment sets its scheme as a template (``GONGKAI_INDEX_NUMBER_TEMPLATE``) with these
placeholders:

- ``{credit_code}``: the department's 统一社会信用代码 (18 characters, GB 32100 check character);
- ``{org_code}``: its 组织机构代码, characters 9–17 of the 统一社会信用代码 (the older form
  中国政府网 still numbers by: ``000014349/2024-00035``);
- ``{dept_code}``: the department's code in gongkai;
- ``{year}``: the year of publication (Beijing time; the annual report's year);
- ``{category_code}``: the category's code in the taxonomy;
- ``{seq}`` or ``{seq:05d}``: the sequence within the department and year, zero-padded to a width.

The template is checked when the settings load: it must hold ``{seq}`` and one of the
department placeholders (numbers of two departments must never collide), and nothing else.
Numbers once given never change (a template changed later applies to later publications).
"""
from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_TEMPLATE = "{dept_code}-{year}-{seq:05d}"
PLACEHOLDERS = ("credit_code", "org_code", "dept_code", "year", "category_code", "seq")
#: Placeholders filled from the 统一社会信用代码 (a department without one cannot be numbered).
FROM_CREDIT_CODE = ("credit_code", "org_code")
_SEQ_SPEC = re.compile(r"0?[1-9]?d?")

#: GB 32100-2015: the 31 characters of a 统一社会信用代码 (no I, O, S, V, Z), and the weights of
#: its first 17 characters for the check character.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class TemplateInvalid(ValueError):
    """The template cannot make index numbers; the message says why (in Chinese, for the operator)."""


def fields_of(template: str) -> list[tuple[str, str]]:
    """The (placeholder, format spec) pairs of ``template``."""
    try:
        return [(name, spec or "") for _text, name, spec, _conv in string.Formatter().parse(template)
                if name is not None]
    except ValueError as exc:
        raise TemplateInvalid(f"索引号模板格式有误（{exc}）") from exc


def check_template(template: str) -> None:
    found = fields_of(template)
    names = [name for name, _spec in found]
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        raise TemplateInvalid(f"索引号模板含未知占位符 {'、'.join('{' + n + '}' for n in unknown)}；"
                              f"可用：{'、'.join('{' + p + '}' for p in PLACEHOLDERS)}")
    if names.count("seq") != 1:
        raise TemplateInvalid("索引号模板须含一个 {seq}（流水号）")
    if not {"credit_code", "org_code", "dept_code"} & set(names):
        raise TemplateInvalid("索引号模板须含 {credit_code}、{org_code} 或 {dept_code}，否则不同部门的索引号会重复")
    for name, spec in found:
        if spec and (name != "seq" or not _SEQ_SPEC.fullmatch(spec)):
            raise TemplateInvalid(f"索引号模板中 {{{name}:{spec}}} 的格式有误；流水号可写作 {{seq:05d}}")
    if len(render(template, credit_code="X" * 18, dept_code="x" * 32, year=2026, category_code="x" * 32,
                  seq=99999)) > 100:
        raise TemplateInvalid("索引号模板生成的索引号超过 100 个字符")


def render(template: str, *, credit_code: str, dept_code: str, year: int, category_code: str, seq: int) -> str:
    return template.format(credit_code=credit_code, org_code=credit_code[8:17], dept_code=dept_code, year=year,
                           category_code=category_code, seq=seq)


def uses_credit_code(template: str) -> bool:
    return any(name in FROM_CREDIT_CODE for name, _spec in fields_of(template))


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(ch) * w for ch, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def valid_credit_code(code: str) -> bool:
    """Whether ``code`` is a 统一社会信用代码: 18 characters of GB 32100's set, the last its check character."""
    return (len(code) == 18 and all(ch in CREDIT_CHARS for ch in code)
            and credit_check_char(code[:17]) == code[17])


@dataclass(frozen=True)
class Scheme:
    """A deployment's numbering: its template and the taxonomy's category codes (by name)."""

    template: str = DEFAULT_TEMPLATE
    category_codes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, template: str, taxonomy) -> Scheme:
        return cls(template, {c.name: c.code for c in taxonomy.categories})

    def number(self, *, credit_code: str | None, dept_code: str, year: int, category: str | None, seq: int) -> str:
        return render(self.template, credit_code=credit_code or "", dept_code=dept_code, year=year,
                      category_code=self.category_codes.get(category or "", category or ""), seq=seq)
