"""Town labels: the seat of each registered town, as a small dot with its name; clickable for the mentions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from layers.base import DECIMALS, click_key
from layers.jsonlayer import TOOLTIP_OPTIONS, DataLayer, script_json
from present.markup import esc


@dataclass(frozen=True)
class TownLabel:
    """A town to label: name as the plan writes it, seat position (WGS84 or display datum), mentions count."""

    name: str
    lon: float
    lat: float
    mentions: int = 0


def label_html(name: str) -> str:
    return f'<div class="rr-town"><span class="rr-town-dot"></span><span class="rr-town-name">{esc(name)}</span></div>'


class TownLabelLayer(DataLayer):
    """Town seats as small labelled dots: ``[rows, tooltip options]``, a row being ``[lat, lng, label html,
    tooltip html]`` (the tooltip carries the click key ``t:<name>``)."""

    builder = """
var rows = data[0], tipOpts = data[1];
var group = L.featureGroup();
for (var i = 0; i < rows.length; i++) {
  var r = rows[i];
  var icon = L.divIcon({html: r[2], iconSize: [0, 0], iconAnchor: [0, 0], className: "rr-town-icon"});
  group.addLayer(L.marker([r[0], r[1]], {icon: icon, zIndexOffset: -1000, snapIgnore: false}).bindTooltip(r[3], tipOpts));
}
return group;
"""

    def __init__(self, data: str, name: str = "TownLabelLayer") -> None:
        super().__init__(data, name)


def town_tooltip(town: TownLabel) -> str:
    sub = f"规划中提及 {town.mentions} 处 · 点击查看" if town.mentions else "乡镇驻地"
    return f'<b>{esc(town.name)}</b><span class="rr-tip-sub">{esc(sub)}</span>' + click_key("t", town.name)


def town_labels(towns: Sequence[TownLabel]) -> list[TownLabelLayer]:
    """One clickable label per town (key ``t:<name>``), all in one data-driven layer (none without towns)."""
    if not towns:
        return []
    rows = [[round(t.lat, DECIMALS), round(t.lon, DECIMALS), label_html(t.name), town_tooltip(t)] for t in towns]
    return [TownLabelLayer(script_json([rows, TOOLTIP_OPTIONS]))]
