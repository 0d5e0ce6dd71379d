"""The attribute panel beside the map: escaped HTML for a feature, a town or a district."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import config
from config import category_color
from plan.designations import LEVEL_NAMES, designation_level
from plan.mentions import Mention
from present.markup import esc, text
from present.reasons import explain, explain_note

PANEL_CSS = """<style>
.rr-panel { font-size: 14px; line-height: 1.55; }
.rr-panel .rr-cat { display: inline-block; color: #fff; border-radius: 3px; padding: 0 6px; font-size: 12px; }
.rr-panel h3 { margin: 4px 0 2px 0; font-size: 20px; }
.rr-panel .rr-des { color: #8B0000; font-weight: 600; }
.rr-panel table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 13px; }
.rr-panel th, .rr-panel td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
.rr-panel th { background: #f4f4f4; white-space: nowrap; width: 1%; }
.rr-panel blockquote { margin: 6px 0; padding: 4px 10px; border-left: 4px solid #B22222; background: #faf7f5; }
.rr-panel .rr-cite { color: #555; font-size: 12px; }
.rr-panel .rr-muted { color: #777; font-size: 12px; }
.rr-panel ol { padding-left: 1.3em; margin: 4px 0; }
.rr-panel li { margin-bottom: 4px; }
.rr-panel details.rr-gis { margin-top: 8px; color: #555; font-size: 12px; }
.rr-panel details.rr-gis summary { cursor: pointer; }
</style>"""


def _span(lines: Sequence[int]) -> str:
    if not lines:
        return ""
    first, last = lines[0], lines[-1]
    return f"第 {first} 行" if first == last else f"第 {first}–{last} 行"


def citation_html(plan_title: str, source: Mapping[str, Any]) -> str:
    """Plan title, chapter/section/专栏, line span and the verbatim quote."""
    return (
        f'<div class="rr-cite">出处：《{esc(plan_title)}》<br>{esc(source.get("section", ""))} · '
        f"{esc(_span(source.get('lines') or []))}</div>"
        f"<blockquote>“{esc(source.get('quote', ''))}”</blockquote>"
    )


def feature_panel_html(row: Mapping[str, Any], plan_title: str) -> str:
    """Full attribute panel of one feature row (see geo.features.FEATURE_COLUMNS)."""
    cat = row["category"]
    level = designation_level(row.get("designation"))
    # data-key: which item the panel shows, as the map's click keys name it (the load benchmark waits on it).
    head = (
        f'<div class="rr-panel" data-key="f:{esc(row["id"])}"><span class="rr-cat" style="background:{category_color(cat)}">'
        f"{esc(config.CATEGORIES.get(cat, cat))}</span>"
        f"<h3>{esc(row['name'])}</h3>"
    )
    rows = []
    if text(row.get("designation")):
        rows.append(
            (
                "称号/类型",
                f'<span class="rr-des">{esc(row["designation"])}</span>'
                + (f' <span class="rr-muted">（{LEVEL_NAMES[level]}）</span>' if level else ""),
            )
        )
    if row.get("places"):
        rows.append(("地点", esc("、".join(row["places"]))))
    rows.append(("区县", esc(row.get("county_name", ""))))
    reason = explain(row.get("reason"))
    note = explain_note(row.get("note"))
    rows.append(
        (
            "定位",
            esc(config.PRECISIONS.get(row["precision"], row["precision"]))
            + (f'<br><span class="rr-muted">{esc(reason.planner)}</span>' if reason.planner else ""),
        )
    )
    codes = [c for c in row.get("codes") or [] if isinstance(c, Mapping)]
    if codes:
        rows.append(
            (
                "区划代码",
                "<br>".join(
                    f'{esc(c.get("official_name"))} <span class="rr-muted">{esc(c.get("code"))}</span>' for c in codes
                ),
            )
        )
    table = "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"
    if text(row.get("location_source")):
        table += (
            '<details class="rr-gis"><summary>给 GIS 人员：位置来源</summary>'
            f'<div class="rr-muted">{esc(row["location_source"])}</div></details>'
        )
    attrs = row.get("attributes") or []
    attr_html = ""
    if attrs:
        body = "".join(
            f"<tr><th>{esc(a.get('label'))}</th><td>{esc(a.get('text'))}"
            + (f' <span class="rr-muted">{esc(a.get("year"))}年</span>' if a.get("year") else "")
            + (
                f'<br><span class="rr-muted">{esc(a["source"].get("section", ""))} {esc(_span(a["source"].get("lines") or []))}</span>'
                if a.get("source")
                else ""
            )
            + "</td></tr>"
            for a in attrs
        )
        attr_html = f"<b>属性</b><table>{body}</table>"
    shown_note = f'<div class="rr-muted">说明：{esc(note.planner)}</div>' if note.planner else ""
    details = [("定位依据", reason.detail), ("数据整理说明", note.detail)]
    return (
        head
        + table
        + attr_html
        + citation_html(plan_title, row["source"])
        + shown_note
        + gis_detail_html([(label, value) for label, value in details if value], row.get("id"))
        + "</div>"
    )


def gis_detail_html(lines: Sequence[tuple[str, str]], entity_id: object = None) -> str:
    """A folded "给 GIS 人员" detail: the data's own wording (ids, files, fields), escaped."""
    if not lines:
        return ""
    ident = f"<div>条目编号：<code>{esc(entity_id)}</code></div>" if entity_id else ""
    body = "".join(f"<div>{esc(label)}：{esc(value)}</div>" for label, value in lines)
    return f'<details class="rr-gis"><summary>给 GIS 人员</summary>{ident}{body}</details>'


def town_panel_html(name: str, mentions: Sequence[Mention], plan_title: str, *, items: Sequence[str] = ()) -> str:
    """'规划中关于此地的表述': every sentence of the plan naming the town, with its line number."""
    head = f'<div class="rr-panel"><span class="rr-cat" style="background:#333">乡镇</span><h3>{esc(name)}</h3>'
    listed = ""
    if items:
        listed = "<b>规划要素</b><ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"
    if not mentions:
        body = '<div class="rr-muted">规划原文中没有其他提及此地的句子。</div>'
    else:
        body = (
            f"<b>规划中关于此地的表述（{len(mentions)} 处）</b>"
            f'<div class="rr-cite">《{esc(plan_title)}》</div><ol>'
            + "".join(f'<li>{esc(m.sentence)} <span class="rr-muted">第 {m.line} 行</span></li>' for m in mentions)
            + "</ol>"
        )
    return head + listed + body + "</div>"


def district_panel_html(name: str, items: Sequence[tuple[str, str | None]], has_plan: bool) -> str:
    """A district of the municipal view: the municipal plan's items naming it."""
    head = f'<div class="rr-panel"><span class="rr-cat" style="background:#555">区县</span><h3>{esc(name)}</h3>'
    if items:
        body = (
            "<b>市级规划中涉及本区县的内容</b><ul>"
            + "".join(
                f"<li>{esc(n)}" + (f' — <span class="rr-des">{esc(d)}</span>' if d else "") + "</li>" for n, d in items
            )
            + "</ul>"
        )
    else:
        body = '<div class="rr-muted">市级规划未点名本区县。</div>'
    tail = "" if has_plan else '<div class="rr-muted">暂无本区县的规划数据。</div>'
    return head + body + tail + "</div>"
