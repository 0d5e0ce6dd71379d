"""The legend drawn on the map (bottom right): categories with symbol and count, levels, precision, boundaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from branca.element import MacroElement
from jinja2 import Template

import config
from config import category_color
from layers.base import marker_html
from plan.designations import LEVEL_NAMES
from present.markup import esc


class MapLegend(MacroElement):
    """A Leaflet control holding ready-made (escaped) legend HTML."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "rr-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}"""
    )

    def __init__(self, html_text: str) -> None:
        super().__init__()
        self._name = "MapLegend"
        self.html = html_text


def _shape(category: str, kind: str, approximate: bool = False) -> str:
    color = category_color(category)
    if kind == "line":
        dash = "border-top-style:dashed;" if approximate else ""
        return f'<span class="rr-lg-line" style="border-top-color:{color};{dash}"></span>'
    if kind == "area":
        return f'<span class="rr-lg-area" style="border-color:{color};background:{color}55"></span>'
    return f'<span class="rr-lg-pin">{marker_html(category, 0, approximate)}</span>'


def legend_html(
    counts: Mapping[str, int],
    *,
    kinds: Mapping[str, str] | None = None,
    designations: Mapping[str, str] | None = None,
    title: str = "图例",
    municipal: bool = False,
    seats: bool = True,
    drawn: bool = False,
) -> str:
    """Legend markup (collapsible).

    ``counts``: category -> number of items drawn; ``kinds``: category -> 'point' | 'line' | 'area' (default
    point); ``designations``: designation -> fill colour (municipal view); ``seats``: town seats are drawn;
    ``drawn``: items drawn by users are on the map (their dotted/dash-dot symbol is explained).
    The symbol key (hollow = approximate, sizes by level) is listed only when points are drawn.
    """
    kinds = kinds or {}
    rows = [f"<details open><summary>{esc(title)}</summary>"]
    for cat, n in counts.items():
        label = config.CATEGORIES.get(cat, cat)
        rows.append(
            f'<div class="rr-lg-row">{_shape(cat, kinds.get(cat, "point"))}<span>{esc(label)}</span>'
            f'<span class="rr-lg-n">{int(n)}</span></div>'
        )
    if designations:
        rows.append('<div class="rr-lg-sub">市级规划中的称号</div>')
        for des, color in designations.items():
            rows.append(
                f'<div class="rr-lg-row"><span class="rr-lg-area" style="border-color:#666;background:{esc(color)}"></span>'
                f"<span>{esc(des)}</span></div>"
            )
    if municipal:
        rows.append(
            '<div class="rr-lg-row"><span class="rr-lg-area" style="border:2px solid #B22222;background:#fff"></span>'
            "<span>有区县规划（点击进入）</span></div>"
        )
    elif any(kinds.get(cat, "point") == "point" for cat in counts):
        rows.append('<div class="rr-lg-sub">符号</div>')
        rows.append(
            f'<div class="rr-lg-row"><span class="rr-lg-pin">{marker_html("other", 0, False)}</span><span>实心：位置即规划所指</span></div>'
        )
        rows.append(
            f'<div class="rr-lg-row"><span class="rr-lg-pin">{marker_html("other", 0, True)}</span><span>空心虚线：近似（乡镇驻地/示意）</span></div>'
        )
        sizes = "".join(f'<span class="rr-lg-pin">{marker_html("other", lvl, False)}</span>' for lvl in (1, 2, 3, 4))
        rows.append(f'<div class="rr-lg-row rr-lg-sizes">{sizes}</div>')
        rows.append(
            '<div class="rr-lg-note">大小/外环：' + "、".join(LEVEL_NAMES[lvl] for lvl in (1, 2, 3, 4)) + "</div>"
        )
    if seats and not municipal:
        rows.append(
            '<div class="rr-lg-row"><span class="rr-town"><span class="rr-town-dot"></span></span><span>乡镇驻地</span></div>'
        )
    if not counts and not designations and not municipal:
        rows.append('<div class="rr-lg-note">当前图层与筛选下，图上没有规划要素。</div>')
    if drawn:  # whatever its kind: a dotted badge, a dash-dot line or outline
        pin = marker_html("other", 0, False).replace("rr-pin ", "rr-pin rr-drawn ", 1)
        rows.append(
            f'<div class="rr-lg-row"><span class="rr-lg-pin">{pin}</span><span>点线边框/点划线：用户标绘（非测量）</span></div>'
        )
    rows.append("</details>")
    return "".join(rows)


def count_by_category(categories: Sequence[str]) -> dict[str, int]:
    """Count per category, in the order of config.CATEGORIES."""
    out = dict.fromkeys(config.CATEGORIES, 0)
    for cat in categories:
        out[cat] = out.get(cat, 0) + 1
    return {c: n for c, n in out.items() if n}
