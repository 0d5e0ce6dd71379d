"""Typed plan data: plans, registered places, entities and their citations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PLACE_KINDS: dict[str, str] = {
    "town": "镇",
    "township": "乡",
    "subdistrict": "街道",
    "town_level": "乡镇",  # the text names it only in bare form and never says 镇, 乡 or 街道
    "village": "村",
    "community": "社区",
    "district": "区县",
    "area": "片区",
    "river": "河流",
    "road": "道路",
}
TOWN_KINDS = frozenset({"town", "township", "subdistrict", "town_level"})
VILLAGE_KINDS = frozenset({"village", "community"})
LINE_KINDS = frozenset({"river", "road"})
SCOPES = frozenset({"places", "county"})
TOWN_SOURCES = frozenset({"plan", "code_list"})
ATTRIBUTE_KINDS = frozenset({"target", "base", "current", "count", "investment", "other"})


class PlanDataError(ValueError):
    """A plan data file breaks the schema; the message names the file, the entity and the problem."""


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: seed file, section title, line span and a verbatim quote."""

    seed: str
    section: str
    lines: tuple[int, int]
    quote: str

    def as_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "section": self.section, "lines": list(self.lines), "quote": self.quote}


@dataclass(frozen=True)
class Attribute:
    """One figure or statement about an entity, printed text kept verbatim."""

    label: str
    text: str
    value: float | None = None
    unit: str | None = None
    year: int | None = None
    kind: str | None = None
    source: Source | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "text": self.text}
        for key in ("value", "unit", "year", "kind"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.source is not None:
            out["source"] = self.source.as_dict()
        return out


@dataclass(frozen=True)
class Place:
    """A town, village or district named in a plan (the place register)."""

    name: str
    kind: str
    norm: str
    aliases: tuple[str, ...] = ()
    town: str | None = None
    town_note: str | None = None
    district: str | None = None
    town_source: str = "plan"  # plan: the text writes the town | code_list: taken from the official code list

    @property
    def is_town(self) -> bool:
        return self.kind in TOWN_KINDS

    @property
    def is_village(self) -> bool:
        return self.kind in VILLAGE_KINDS

    @property
    def is_line(self) -> bool:
        """A river or road: located, if at all, by a line."""
        return self.kind in LINE_KINDS

    @property
    def key(self) -> str:
        """Unique key within a plan: villages are qualified by their town (同名村 in two towns)."""
        return f"{self.town}/{self.name}" if self.is_village and self.town else self.name


@dataclass(frozen=True)
class Entity:
    """A place-based item of a plan: a demonstration village, a park, a belt, a project …"""

    id: str
    name: str
    category: str
    designation: str | None
    places: tuple[str, ...]
    scope: str
    attributes: tuple[Attribute, ...]
    source: Source
    note: str | None = None


@dataclass(frozen=True)
class Plan:
    """One plan: metadata, place register and entities, validated."""

    county: str
    county_name: str
    seed: str
    title: str
    issuer: str | None
    period: str | None
    source: Source
    places: tuple[Place, ...]
    entities: tuple[Entity, ...]
    indicator_table: str | None = None  # label of the headline indicator table (专栏1, 表2-1 …), as printed
    path: str = ""
    lines: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def is_municipal(self) -> bool:
        return self.county.endswith("0000")

    def entity(self, entity_id: str) -> Entity:
        for ent in self.entities:
            if ent.id == entity_id:
                return ent
        raise KeyError(entity_id)

    def towns(self) -> list[Place]:
        return [p for p in self.places if p.is_town]

    def villages(self) -> list[Place]:
        return [p for p in self.places if p.is_village]
