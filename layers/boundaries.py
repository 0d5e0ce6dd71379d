"""Administrative boundaries: the county outline (county views) and the 38 districts (municipal view)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import folium
import geopandas as gpd

import config
from layers.base import BoundTooltip, click_key, esc, parts, polygon_latlngs

# Fills of the municipal designations, in order of first appearance in the plan (colour-blind-aware).
DESIGNATION_PALETTE: tuple[str, ...] = ("#C0392B", "#E67E22", "#8E44AD", "#16A085", "#2C3E50", "#7F8C8D")
PLAN_BORDER = "#B22222"


def _rings(geom) -> list:  # type: ignore[no-untyped-def]
    return [polygon_latlngs(g) for g in parts(geom) if g.geom_type == "Polygon"]


def county_outline(boundaries: gpd.GeoDataFrame, county: str) -> list[folium.Polygon]:
    """The county's outline, with its neighbours drawn faintly for context; nothing here is clickable."""
    out: list[folium.Polygon] = []
    others = boundaries[(boundaries["adcode"] != county) & (boundaries["adcode"] != config.MUNICIPAL_ADCODE)]
    for geom in others.geometry:
        for rings in _rings(geom):
            out.append(
                folium.Polygon(rings, color="#9a9a9a", weight=0.8, fill=True, fill_color="#ffffff",
                               fill_opacity=0.15, interactive=False)  # fmt: skip
            )
    own = boundaries[boundaries["adcode"] == county]
    style = config.BOUNDARY_STYLE
    for geom in own.geometry:
        for rings in _rings(geom):
            out.append(
                folium.Polygon(rings, color=style["color"], weight=2.4, fill=True,
                               fill_color=style["fillColor"], fill_opacity=style["fillOpacity"], interactive=False)  # fmt: skip
            )
    return out


def designation_colors(designations: Sequence[str]) -> dict[str, str]:
    """A fill colour per designation, in the order given."""
    return {d: DESIGNATION_PALETTE[i % len(DESIGNATION_PALETTE)] for i, d in enumerate(designations)}


def district_layers(
    boundaries: gpd.GeoDataFrame,
    with_plan: Mapping[str, str],
    designations: Mapping[str, Sequence[str]],
    colors: Mapping[str, str],
) -> list[folium.Polygon]:
    """The 38 districts, each clickable (key ``d:<adcode>``).

    ``with_plan``: adcode -> plan title of districts that have a county plan (red border, "点击进入").
    ``designations``: adcode -> the municipal plan's designations naming it (fill colour of the first).
    """
    out: list[folium.Polygon] = []
    districts = boundaries[boundaries["adcode"] != config.MUNICIPAL_ADCODE]
    for _, row in districts.iterrows():
        code = row["adcode"]
        des = list(designations.get(code, ()))
        fill = colors.get(des[0], "#ffffff") if des else "#ffffff"
        has_plan = code in with_plan
        lines = [f"<b>{esc(row['name'])}</b>"]
        lines += [f'<span class="rr-tip-sub">{esc(d)}</span>' for d in des]
        if has_plan:
            lines.append('<span class="rr-tip-go">有区县规划 · 点击查看</span>')
        tip = "".join(lines) + click_key("d", code)
        for rings in _rings(row.geometry):
            poly = folium.Polygon(
                rings,
                color=PLAN_BORDER if has_plan else "#666666",
                weight=2.6 if has_plan else 0.9,
                fill=True,
                fill_color=fill,
                fill_opacity=0.55 if des else 0.25,
            )
            poly.add_child(BoundTooltip(tip, sticky=True))
            out.append(poly)
    return out
