"""Place names on the live map: town seats (a dot with the name; a click shows what the plan says there) and, on
the municipal map, district names (a click opens the district).

Every name carries the class ``rr-label-name`` and a priority (``data-p``): the view control
(:mod:`layers.viewcontrol`) hides names that would overlap one of higher priority at the current zoom.
"""

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


@dataclass(frozen=True)
class DistrictLabel:
    """A district to name on the municipal map: name, label point (display datum), adcode, whether it has a plan."""

    name: str
    lon: float
    lat: float
    adcode: str
    has_plan: bool = False
    priority: float = 0.0


def label_html(name: str, priority: float = 0) -> str:
    return (
        f'<div class="rr-town"><span class="rr-town-dot"></span>'
        f'<span class="rr-town-name rr-label-name" data-p="{priority:g}">{esc(name)}</span></div>'
    )


def district_label_html(label: DistrictLabel) -> str:
    cls = "rr-district-name rr-label-name" + (" rr-has-plan" if label.has_plan else "")
    return f'<div class="rr-district"><span class="{cls}" data-p="{label.priority:g}">{esc(label.name)}</span></div>'


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
    """One clickable label per town (key ``t:<name>``), all in one data-driven layer (none without towns).

    Towns the plan names more often win when names would overlap."""
    if not towns:
        return []
    rows = [
        [round(t.lat, DECIMALS), round(t.lon, DECIMALS), label_html(t.name, t.mentions), town_tooltip(t)] for t in towns
    ]
    return [TownLabelLayer(script_json([rows, TOOLTIP_OPTIONS]))]


def district_tooltip(label: DistrictLabel) -> str:
    sub = "有区县规划 · 点击进入" if label.has_plan else "点击查看市级规划中的相关内容"
    return f'<b>{esc(label.name)}</b><span class="rr-tip-sub">{esc(sub)}</span>' + click_key("d", label.adcode)


def district_labels(labels: Sequence[DistrictLabel]) -> list[TownLabelLayer]:
    """District names of the municipal map, clickable like the districts themselves (key ``d:<adcode>``)."""
    if not labels:
        return []
    rows = [
        [round(d.lat, DECIMALS), round(d.lon, DECIMALS), district_label_html(d), district_tooltip(d)] for d in labels
    ]
    return [TownLabelLayer(script_json([rows, TOOLTIP_OPTIONS]), "DistrictLabelLayer")]
