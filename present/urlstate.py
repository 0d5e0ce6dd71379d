"""Deep links: the view state <-> URL query parameters (``?county=500235&layers=demo_village,...&sel=yy-dv-001``).

``layers`` absent means every category; ``layers=none`` means none.  Unknown values are dropped, never fatal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import config

NONE = "none"


@dataclass(frozen=True)
class ViewState:
    county: str
    layers: tuple[str, ...] = field(default_factory=lambda: tuple(config.CATEGORIES))
    selected: str | None = None  # "f:<entity id>", "t:<town>" or "d:<adcode>"
    basemap: str = "none"


def _first(value: str | Sequence[str] | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value[0] if value else None


def parse_state(
    params: Mapping[str, str | Sequence[str]], available: Sequence[str], basemaps: Sequence[str]
) -> ViewState:
    """State from query parameters; ``available`` adcodes with a plan (municipality first)."""
    county = _first(params.get("county")) or ""
    if county not in available:
        county = available[0] if available else config.MUNICIPAL_ADCODE
    raw_layers = _first(params.get("layers"))
    if raw_layers is None:
        layers = tuple(config.CATEGORIES)
    elif raw_layers == NONE:
        layers = ()
    else:
        wanted = set(raw_layers.split(","))
        layers = tuple(c for c in config.CATEGORIES if c in wanted)
    sel = _first(params.get("sel")) or None
    if sel is not None and (len(sel) > 200 or sel[:2] not in ("f:", "t:", "d:")):
        sel = None
    basemap = _first(params.get("basemap")) or "none"
    if basemap not in basemaps:
        basemap = "none"
    return ViewState(county, layers, sel, basemap)


def state_params(state: ViewState) -> dict[str, str]:
    """Query parameters of a state (defaults left out, so links stay short)."""
    out = {"county": state.county}
    if tuple(state.layers) != tuple(config.CATEGORIES):
        out["layers"] = ",".join(state.layers) if state.layers else NONE
    if state.selected:
        out["sel"] = state.selected
    if state.basemap != "none":
        out["basemap"] = state.basemap
    return out
