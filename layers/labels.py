"""Town labels: the seat of each registered town, as a small dot with its name; clickable for the mentions."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import folium

from layers.base import DECIMALS, BoundTooltip, click_key, esc


@dataclass(frozen=True)
class TownLabel:
    """A town to label: name as the plan writes it, seat position (WGS84 or display datum), mentions count."""

    name: str
    lon: float
    lat: float
    mentions: int = 0


def label_html(name: str) -> str:
    return f'<div class="rr-town"><span class="rr-town-dot"></span><span class="rr-town-name">{esc(name)}</span></div>'


def town_labels(towns: Sequence[TownLabel]) -> list[folium.Marker]:
    """One clickable label marker per town (key ``t:<name>``)."""
    out: list[folium.Marker] = []
    for town in towns:
        icon = folium.DivIcon(html=label_html(town.name), icon_size=(0, 0), icon_anchor=(0, 0), class_name="rr-town-icon")
        marker = folium.Marker([round(town.lat, DECIMALS), round(town.lon, DECIMALS)], icon=icon, z_index_offset=-1000)
        sub = f"规划中提及 {town.mentions} 处 · 点击查看" if town.mentions else "乡镇驻地"
        marker.add_child(
            BoundTooltip(f'<b>{esc(town.name)}</b><span class="rr-tip-sub">{esc(sub)}</span>' + click_key("t", town.name))
        )
        out.append(marker)
    return out


def mention_counts(mentions: Mapping[str, Sequence[object]]) -> dict[str, int]:
    return {key: len(items) for key, items in mentions.items()}
