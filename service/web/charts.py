"""The annual report's charts as inline SVG, drawn on the server: no chart library, no script, no
CDN; they print as sharply as the text around them.

``category_bars`` (主动公开 by category), ``month_columns`` (by month) and ``department_share``
(each department's share of the year, one stacked bar with a legend) take the plain statistics
of ``service.report.AnnualReport.to_dict``.
"""
from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

PALETTE = ("#1f5fa8", "#d9822b", "#2e8b57", "#a23b72", "#6b7b8c", "#c0392b", "#7d5ba6", "#16a2b8", "#b8860b",
           "#556b2f")
FONT = 'font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, SimHei, sans-serif" font-size="12"'


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
                  f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {FONT}>'
                  f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def category_bars(stats: dict[str, Any]) -> Markup:
    """Horizontal bars, one per category with documents, in the taxonomy's order."""
    rows = [(c["category"], c["published"]) for c in stats["categories"] if c["published"]]
    if not rows:
        return Markup("")
    peak, label_w, bar_w, row_h = max(n for _, n in rows), 170, 360, 24
    body = []
    for i, (name, n) in enumerate(rows):
        y = i * row_h
        width = max(1.0, n / peak * bar_w)
        body.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(name)}</text>'
                    f'<rect x="{label_w}" y="{y + 4}" width="{width:.1f}" height="16" fill="{PALETTE[0]}"/>'
                    f'<text x="{label_w + width + 6:.1f}" y="{y + 16}">{n}</text>')
    return _svg(label_w + bar_w + 60, len(rows) * row_h + 4, f"{stats['year']}年主动公开政府信息按类别", body)


def month_columns(stats: dict[str, Any]) -> Markup:
    """Twelve columns, January to December."""
    months = stats["months"]
    peak, col_w, chart_h, top = max(months) or 1, 40, 160, 18
    body = [f'<line x1="0" y1="{top + chart_h}" x2="{12 * col_w}" y2="{top + chart_h}" stroke="#999"/>']
    for i, n in enumerate(months):
        h = n / peak * chart_h
        x = i * col_w
        body.append(f'<rect x="{x + 8}" y="{top + chart_h - h:.1f}" width="{col_w - 16}" height="{h:.1f}" '
                    f'fill="{PALETTE[1]}"/>'
                    f'<text x="{x + col_w / 2}" y="{top + chart_h - h - 4:.1f}" text-anchor="middle">{n}</text>'
                    f'<text x="{x + col_w / 2}" y="{top + chart_h + 16}" text-anchor="middle">{i + 1}月</text>')
    return _svg(12 * col_w, top + chart_h + 24, f"{stats['year']}年主动公开政府信息按月", body)


def department_share(stats: dict[str, Any]) -> Markup:
    """One bar split by department (largest first), with a legend of names, counts and shares."""
    departments = [d for d in stats["departments"] if d["total"]]
    total = sum(d["total"] for d in departments)
    if not total:
        return Markup("")
    width, x, body = 560, 0.0, []
    for i, d in enumerate(departments):
        w = d["total"] / total * width
        body.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="22" fill="{PALETTE[i % len(PALETTE)]}">'
                    f'<title>{escape(d["name"])} {d["total"]}</title></rect>')
        x += w
    for i, d in enumerate(departments):
        y = 40 + i * 20
        body.append(f'<rect x="0" y="{y - 11}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
                    f'<text x="18" y="{y}">{escape(d["name"])} {d["total"]} 条（{d["total"] / total:.0%}）</text>')
    return _svg(width, 40 + len(departments) * 20, f"{stats['year']}年主动公开政府信息各部门占比", body)
