"""Load and validate plan data files (``data/plans/<adcode>.yaml``) against their seeds.

Every problem is reported with the file, the entity (or place) and what is wrong; :func:`validate_file` collects
all problems, :func:`load_plan_file` raises :class:`PlanDataError` listing them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

import config
from plan.model import (
    ATTRIBUTE_KINDS,
    PLACE_KINDS,
    SCOPES,
    TOWN_KINDS,
    TOWN_SOURCES,
    VILLAGE_KINDS,
    Attribute,
    Entity,
    Place,
    Plan,
    PlanDataError,
    Source,
)
from plan.names import normalise

# The C parser when PyYAML has it (5–6× faster on the plan files); same safe semantics as safe_load.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_QUOTE = 60
MAX_DIRECTION = 120
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class _Problems:
    """Collects problems for one file, each prefixed with where it is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{self.path.name}: {where}: {what}")


def read_seed(seed: str, seeds_dir: Path | None = None) -> tuple[str, ...]:
    """Lines of a seed file (1-based line n is ``lines[n - 1]``)."""
    path = (seeds_dir or config.SEEDS_DIR) / seed
    if not path.is_file():
        raise PlanDataError(f"找不到规划原文文件 {path}")
    return tuple(path.read_text(encoding="utf-8").splitlines())


def _source(raw: Any, seed: str, lines: tuple[str, ...], where: str, problems: _Problems) -> Source | None:
    if not isinstance(raw, dict):
        problems.add(where, "missing source (needs section, lines, quote)")
        return None
    missing = [k for k in ("section", "lines", "quote") if not raw.get(k)]
    if missing:
        problems.add(where, f"source is missing {', '.join(missing)}")
        return None
    span = raw["lines"]
    if isinstance(span, int):
        span = [span, span]
    if (
        not isinstance(span, list)
        or len(span) not in (1, 2)
        or not all(isinstance(n, int) for n in span)
        or span[0] > span[-1]
    ):
        problems.add(where, f"source lines must be [first, last] line numbers, got {raw['lines']!r}")
        return None
    first, last = span[0], span[-1]
    quote = str(raw["quote"])
    if len(quote) > MAX_QUOTE:
        problems.add(where, f"quote is {len(quote)} characters (at most {MAX_QUOTE})")
    if first < 1 or last > len(lines):
        problems.add(where, f"source lines {first}-{last} outside the seed (1-{len(lines)})")
    elif not any(quote in lines[i - 1] for i in range(first, last + 1)):
        problems.add(where, f"quote {quote!r} is not verbatim in {seed} lines {first}-{last}")
    return Source(seed=seed, section=str(raw["section"]), lines=(first, last), quote=quote)


def _places(raw: list[Any], problems: _Problems) -> list[Place]:
    places: list[Place] = []
    for i, item in enumerate(raw or [], start=1):
        where = f"place #{i}"
        if not isinstance(item, dict) or not item.get("name"):
            problems.add(where, "needs a name")
            continue
        name = str(item["name"])
        where = f"place {name}"
        kind = item.get("kind")
        if kind not in PLACE_KINDS:
            problems.add(where, f"unknown kind {kind!r} (one of {', '.join(PLACE_KINDS)})")
            continue
        aliases = tuple(str(a) for a in (item.get("aliases") or []))
        town_source = str(item.get("town_source") or "plan")
        if town_source not in TOWN_SOURCES:
            problems.add(where, f"unknown town_source {town_source!r} (plan or code_list)")
        if town_source == "code_list" and not item.get("town_note"):
            problems.add(where, "a town taken from the code list needs a town_note saying why")
        places.append(
            Place(
                name=name,
                kind=kind,
                norm=normalise(name),
                aliases=aliases,
                town=item.get("town") or None,
                town_note=item.get("town_note") or None,
                district=item.get("district") or None,
                town_source=town_source,
            )
        )
    return places


def _check_register(places: list[Place], lines: tuple[str, ...], problems: _Problems) -> None:
    towns = {p.name for p in places if p.kind in TOWN_KINDS}
    town_forms = {form: p.name for p in places if p.kind in TOWN_KINDS for form in (p.name, *p.aliases)}
    districts = {p.name for p in places if p.kind == "district"}
    keys = Counter(p.key for p in places)
    for key, n in keys.items():
        if n > 1:
            problems.add(f"place {key}", f"registered {n} times")
    text = "\n".join(lines)
    for p in places:
        where = f"place {p.name}"
        if p.district and p.district not in districts:
            problems.add(where, f"district {p.district!r} is not a registered district")
        if p.kind not in VILLAGE_KINDS:
            continue
        if p.town:
            if p.town not in towns:
                problems.add(where, f"town {p.town!r} is not a registered town")
            continue
        # The text ties the village to a town when it writes <town><village> with nothing in between.
        for form, town in sorted(town_forms.items(), key=lambda kv: -len(kv[0])):
            if len(form) >= 2 and f"{form}{p.name}" in text:
                problems.add(where, f"village has no town, but the text writes {form}{p.name} (town {town})")
                break
        else:
            if not p.town_note:
                problems.add(where, "village has no town and no town_note saying why")


def _attributes(raw: Any, seed: str, lines: tuple[str, ...], where: str, problems: _Problems) -> list[Attribute]:
    out: list[Attribute] = []
    if raw in (None, []):
        return out
    if not isinstance(raw, list):
        problems.add(where, "attributes must be a list")
        return out
    for i, item in enumerate(raw, start=1):
        at = f"{where} attribute #{i}"
        if not isinstance(item, dict) or not item.get("label") or item.get("text") in (None, ""):
            problems.add(at, "needs label and text")
            continue
        kind = item.get("kind")
        if kind is not None and kind not in ATTRIBUTE_KINDS:
            problems.add(at, f"unknown kind {kind!r}")
        value = item.get("value")
        if value is not None and not isinstance(value, (int, float)):
            problems.add(at, f"value must be a number, got {value!r}")
            value = None
        year = item.get("year")
        if year is not None and not (isinstance(year, int) and 1949 <= year <= 2100):
            problems.add(at, f"year must be a 4-digit year, got {year!r}")
            year = None
        text = str(item["text"])
        if len(text) > MAX_DIRECTION:
            problems.add(at, f"text is {len(text)} characters (at most {MAX_DIRECTION})")
        src = _source(item["source"], seed, lines, at, problems) if item.get("source") else None
        out.append(
            Attribute(
                label=str(item["label"]),
                text=text,
                value=float(value) if value is not None else None,
                unit=item.get("unit"),
                year=year,
                kind=kind,
                source=src,
            )
        )
    return out


def _entities(
    raw: list[Any], seed: str, lines: tuple[str, ...], places: list[Place], problems: _Problems
) -> list[Entity]:
    villages = {form for p in places if p.kind in VILLAGE_KINDS for form in (p.name, *p.aliases)}
    ids: Counter[str] = Counter()
    out: list[Entity] = []
    for i, item in enumerate(raw or [], start=1):
        if not isinstance(item, dict):
            problems.add(f"entity #{i}", "is not a mapping")
            continue
        eid = str(item.get("id") or f"#{i}")
        where = f"entity {eid}"
        ids[eid] += 1
        if not _ID_RE.match(eid):
            problems.add(where, "id must be lowercase ascii letters, digits and '-'")
        if not item.get("name"):
            problems.add(where, "missing name")
        category = item.get("category")
        if category not in config.CATEGORIES:
            problems.add(where, f"unknown category {category!r} (one of {', '.join(config.CATEGORIES)})")
        scope = item.get("scope") or "places"
        if scope not in SCOPES:
            problems.add(where, f"unknown scope {scope!r} (places or county)")
        ent_places = item.get("places") or []
        if not isinstance(ent_places, list):
            problems.add(where, "places must be a list")
            ent_places = []
        if category == "demo_village" and not any(str(p) in villages for p in ent_places):
            problems.add(where, "a demo_village must name a registered village among its places")
        src = _source(item.get("source"), seed, lines, where, problems)
        attrs = _attributes(item.get("attributes"), seed, lines, where, problems)
        if src is None:
            continue
        out.append(
            Entity(
                id=eid,
                name=str(item.get("name") or ""),
                category=str(category),
                designation=item.get("designation") or None,
                places=tuple(str(p) for p in ent_places),
                scope=scope,
                attributes=tuple(attrs),
                source=src,
                note=item.get("note") or None,
            )
        )
    for eid, n in ids.items():
        if n > 1:
            problems.add(f"entity {eid}", f"duplicate id ({n} times)")
    return out


def validate_file(path: Path, seeds_dir: Path | None = None) -> tuple[Plan | None, list[str]]:
    """Parse and validate one plan file; return the plan (when it could be built) and all problems."""
    path = Path(path)
    problems = _Problems(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path.name}: cannot read file: {exc}"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        return None, [f"{path.name}:{at}: not valid YAML ({getattr(exc, 'problem', exc)})"]
    if not isinstance(doc, dict) or not isinstance(doc.get("plan"), dict):
        return None, [f"{path.name}: needs a top-level 'plan' mapping"]
    meta = doc["plan"]
    for key in ("county", "county_name", "seed", "title", "source"):
        if not meta.get(key):
            problems.add("plan", f"missing {key}")
    if problems.items:
        return None, problems.items
    county = str(meta["county"])
    if not re.fullmatch(r"\d{6}", county):
        problems.add("plan", f"county must be a 6-digit adcode, got {county!r}")
    try:
        lines = read_seed(str(meta["seed"]), seeds_dir)
    except PlanDataError as exc:
        return None, [f"{path.name}: plan: {exc}"]
    seed = str(meta["seed"])
    plan_source = _source(meta["source"], seed, lines, "plan", problems)
    places = _places(doc.get("places") or [], problems)
    _check_register(places, lines, problems)
    entities = _entities(doc.get("entities") or [], seed, lines, places, problems)
    if plan_source is None:
        return None, problems.items
    plan = Plan(
        county=county,
        county_name=str(meta["county_name"]),
        seed=seed,
        title=str(meta["title"]),
        issuer=meta.get("issuer") or None,
        period=str(meta["period"]) if meta.get("period") else None,
        source=plan_source,
        places=tuple(places),
        entities=tuple(entities),
        indicator_table=str(meta["indicator_table"]) if meta.get("indicator_table") else None,
        path=str(path),
        lines=lines,
    )
    return plan, problems.items


def shared_ids(plans: Iterable[Plan]) -> list[str]:
    """One problem per entity id used by more than one plan (a combined export holds every plan's items)."""
    owners: dict[str, list[str]] = {}
    for plan in plans:
        for entity in plan.entities:
            owners.setdefault(entity.id, []).append(Path(plan.path).name or plan.county)
    return [
        f"entity {eid}: id used in several plan files ({', '.join(files)})"
        for eid, files in owners.items()
        if len(files) > 1
    ]


def load_plan_file(path: Path, seeds_dir: Path | None = None) -> Plan:
    """Load one plan file, raising :class:`PlanDataError` that lists every problem."""
    plan, problems = validate_file(path, seeds_dir)
    if problems or plan is None:
        shown = "\n".join(problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise PlanDataError(f"{len(problems)} problem(s) in {Path(path).name}:\n{shown}{more}")
    return plan


def plan_path(county: str, plans_dir: Path | None = None) -> Path:
    return (plans_dir or config.PLANS_DIR) / f"{county}.yaml"


@lru_cache(maxsize=16)
def _cached(path: str, mtime: float, seeds_dir: str) -> Plan:
    return load_plan_file(Path(path), Path(seeds_dir))


def load_plan(county: str, plans_dir: Path | None = None, seeds_dir: Path | None = None) -> Plan:
    """Load the plan of ``county`` (adcode); cached until the file changes."""
    path = plan_path(county, plans_dir)
    if not path.is_file():
        raise PlanDataError(f"没有 {county} 的规划数据文件（{path}）")
    return _cached(str(path), path.stat().st_mtime, str(seeds_dir or config.SEEDS_DIR))


def available_plans(plans_dir: Path | None = None) -> list[str]:
    """Adcodes with a plan file, municipality first."""
    codes = sorted(p.stem for p in (plans_dir or config.PLANS_DIR).glob("*.yaml") if re.fullmatch(r"\d{6}", p.stem))
    return sorted(codes, key=lambda c: (not c.endswith("0000"), c))


def load_plans(plans_dir: Path | None = None, seeds_dir: Path | None = None) -> dict[str, Plan]:
    """All plans, keyed by adcode."""
    return {code: load_plan(code, plans_dir, seeds_dir) for code in available_plans(plans_dir)}


def plan_header(county: str, plans_dir: Path | None = None) -> dict[str, Any]:
    """The ``plan:`` block of a plan file, read on its own (title, seed, indicator table …), unvalidated.

    The view selector lists every plan by name; parsing each whole file (and checking every quote against its
    seed) only for that made the first page load of a fresh server wait.

    Raises
    ------
    PlanDataError
        There is no plan file for ``county``, or its ``plan:`` block cannot be read on its own.
    """
    path = plan_path(county, plans_dir)
    head: list[str] = []
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if head and line[:1].strip() and not line.startswith("#"):
                    break  # the next top-level key: the block is complete
                if head or line.startswith("plan:"):
                    head.append(line)
        block = yaml.load("".join(head), Loader=_YAML_LOADER) if head else None
    except FileNotFoundError:
        raise PlanDataError(f"没有 {county} 的规划数据文件（{path}）") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PlanDataError(f"{path.name}: 无法读取 plan 部分（{exc}）") from None
    meta = block.get("plan") if isinstance(block, dict) else None
    if not isinstance(meta, dict):
        raise PlanDataError(f"{path.name}: 缺少 plan 部分")
    return meta


def plan_name(county: str, plans_dir: Path | None = None) -> str:
    """The county name of a plan, read from the file's ``plan:`` block only (:func:`plan_header`).

    Falls back to the full loader when the block lacks the name, so a broken file still gives its
    :class:`PlanDataError`.
    """
    try:
        name = plan_header(county, plans_dir).get("county_name")
    except PlanDataError:
        name = None
    if isinstance(name, str) and name:
        return name
    return load_plan(county, plans_dir).county_name
