"""The editing panel of the selected item: 标绘 a point, line or area, move or reshape it, delete it, its history.

The edit mode is a state of the session (:class:`Key`): while it is on, the selected plan item is the edited one
and the map is the edit mode's map (:mod:`layers.drawing`).  The version an edit is based on is pinned when the
item is loaded (:class:`Base`), so a save that someone else's save overtook is refused by the store
(optimistic versioning) instead of overwriting it.  Nothing is saved but by the save button.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import shapely
import streamlit as st
from shapely.geometry.base import BaseGeometry

from geo.boundaries import county_polygon
from geo.crs import gcj02_to_wgs84_geometry, wgs84_to_gcj02_geometry
from geo.errors import GeoDataError
from geo.usergeo import (
    HOW_LABELS,
    KIND_LABELS,
    beijing_time,
    checked_geometry,
    geometry_from_geojson,
    geometry_kind,
    kind_for_category,
)
from layers.drawing import EditTarget, pending_drawing
from layers.mapview import BASEMAPS, basemap_available
from present.countyview import CountyView
from present.markup import esc
from store.db import Store
from store.errors import StoreError, VersionConflict
from store.model import StoredItem
from ui import data, identity, state


class Key(StrEnum):
    """Session-state and widget keys of the editor."""

    MODE = "edit_mode"  # True while the edit mode is on
    BASE = "edit_base"  # the Base the current edit is based on
    KINDS = "edit_kinds"  # item id -> kind chosen by the user (overrides the category's)
    FLASH = "edit_flash"  # (item id, version, message) of the last write, shown while the item is at that version
    CONFLICT = "edit_conflict"  # item id -> the message of a refused save, until the latest version is loaded
    KIND = "edit_kind_choice"
    NOTE = "edit_note"
    START = "edit_start"
    SAVE = "edit_save"
    DELETE = "edit_delete"
    RELOAD = "edit_reload"
    DISCARD = "edit_discard"
    STOP = "edit_stop"
    REVERT = "edit_revert"


@dataclass(frozen=True)
class Base:
    """What an edit starts from: the store's version (0: no user geometry yet) and the geometry shown as
    editable (WGS84): the user geometry, or else where the item is drawn now (a town seat, a schematic line)."""

    item_id: str
    version: int
    geometry: BaseGeometry | None
    stored: bool  # the geometry is the store's (it can be deleted)
    token: int = 0  # bumped by "放弃修改" to put the loaded geometry back on the map


def editing_item() -> str | None:
    """The id of the item being edited, or None outside the edit mode."""
    if not st.session_state.get(Key.MODE):
        return None
    selected = state.selected()
    return selected[2:] if selected and selected.startswith("f:") else None


def start(item_id: str) -> None:
    """Enter the edit mode for ``item_id`` (selects it and zooms to it)."""
    state.select(f"f:{item_id}", focus=True)
    st.session_state[Key.MODE] = True
    st.session_state.pop(Key.BASE, None)


def stop() -> None:
    st.session_state[Key.MODE] = False
    st.session_state.pop(Key.BASE, None)


def _flash(item_id: str, version: int, message: str) -> None:
    st.session_state[Key.FLASH] = (item_id, version, message)


def _gcj() -> bool:
    basemap = state.basemap()
    return BASEMAPS[basemap].gcj02 and basemap_available(basemap, data.tianditu_key())[0]


def load_base(store: Store | None, view: CountyView, item_id: str, *, token: int = 0) -> Base:
    """The store's state of the item, or (no user geometry) where the view draws it now."""
    item = store.get(item_id) if store is not None else None
    if item is not None and not item.deleted and item.geometry is not None:
        return Base(item_id, item.version, item.geometry, True, token)
    hit = view.features[view.features["id"] == item_id]
    current = hit.geometry.iloc[0] if not hit.empty else None
    return Base(item_id, item.version if item is not None else 0, current, False, token)


def base(store: Store | None, view: CountyView, item_id: str) -> Base:
    """The pinned base of the edit of ``item_id`` (loaded on first use)."""
    pinned = st.session_state.get(Key.BASE)
    if not isinstance(pinned, Base) or pinned.item_id != item_id:
        pinned = load_base(store, view, item_id)
        st.session_state[Key.BASE] = pinned
    return pinned


def chosen_kind(view: CountyView, item_id: str, geometry: BaseGeometry | None) -> str:
    """The kind of drawing offered: the user's choice, else the current geometry's, else the category's."""
    chosen = (st.session_state.get(Key.KINDS) or {}).get(item_id)
    if chosen in KIND_LABELS:
        return str(chosen)
    kind = geometry_kind(geometry)
    if kind:
        return kind
    hit = view.features[view.features["id"] == item_id]
    return kind_for_category(str(hit["category"].iloc[0])) if not hit.empty else "point"


def edit_target(view: CountyView) -> EditTarget | None:
    """What the map edits (display datum), or None outside the edit mode."""
    item_id = editing_item()
    if item_id is None or view.features[view.features["id"] == item_id].empty:
        return None
    pinned = base(data.store(), view, item_id)
    geom = pinned.geometry
    if geom is not None and _gcj():
        geom = wgs84_to_gcj02_geometry(geom)
    return EditTarget(item_id, pinned.version, chosen_kind(view, item_id, pinned.geometry), geom, pinned.token)


def _on_kind(item_id: str) -> None:
    kinds = dict(st.session_state.get(Key.KINDS) or {})
    kinds[item_id] = st.session_state.get(f"{Key.KIND}-{item_id}")
    st.session_state[Key.KINDS] = kinds


def _reload(view: CountyView, item_id: str, discard: bool = False) -> None:
    old = st.session_state.get(Key.BASE)
    token = (old.token + 1) if isinstance(old, Base) and discard else 0
    st.session_state[Key.BASE] = load_base(data.store(), view, item_id, token=token)
    conflicts = dict(st.session_state.get(Key.CONFLICT) or {})
    conflicts.pop(item_id, None)
    st.session_state[Key.CONFLICT] = conflicts


def _conflict(item_id: str, message: str) -> None:
    conflicts = dict(st.session_state.get(Key.CONFLICT) or {})
    conflicts[item_id] = message
    st.session_state[Key.CONFLICT] = conflicts


def _describe(geom: BaseGeometry | None) -> str:
    """``线（3 个节点）``, ``点``, ``无``."""
    kind = geometry_kind(geom)
    if geom is None or kind is None:
        return "无"
    if kind == "point":
        return KIND_LABELS[kind]
    n = len(shapely.get_coordinates(geom))
    if kind == "area":  # each ring repeats its first vertex
        n -= len(shapely.get_parts(shapely.get_rings(geom)))
    return f"{KIND_LABELS[kind]}（{n} 个节点）"


def _stored_item(store: Store | None, item_id: str) -> StoredItem | None:
    try:
        return store.get(item_id) if store is not None else None
    except StoreError:
        return None


def render_flash(item_id: str, version: int | None) -> None:
    """What the last write of this session did to the item, while the item is still at the version it wrote (the
    map's own reruns after a save must not wipe the message before it is read)."""
    flash = st.session_state.get(Key.FLASH)
    if flash and flash[0] == item_id and flash[1] == version:
        st.success(flash[2])


def render_editor(view: CountyView, row: dict[str, Any], map_value: Any) -> None:
    """The 位置标绘 section of a selected item's panel (``row``: its feature-table row)."""
    store = data.store()
    item_id = str(row["id"])
    if store is None:
        st.caption(f"标绘不可用：{data.store_problem()}")
        return
    current = _stored_item(store, item_id)
    render_flash(item_id, current.version if current is not None else None)
    if editing_item() != item_id:
        st.button("标绘 / 修改位置", key=f"{Key.START}-{item_id}", on_click=start, args=(item_id,), type="primary")
        render_history(view, item_id, store)
        return
    pinned = base(store, view, item_id)
    kind = chosen_kind(view, item_id, pinned.geometry)
    st.markdown(f"**正在为“{esc(row['name'])}”标绘**")
    st.radio(
        "标绘为",
        list(KIND_LABELS),
        index=list(KIND_LABELS).index(kind),
        format_func=lambda k: {
            "point": "点（村、镇、站点）",
            "line": "线（产业带、道路、管线）",
            "area": "面（园区、片区）",
        }[k],
        horizontal=True,
        key=f"{Key.KIND}-{item_id}",
        on_change=_on_kind,
        args=(item_id,),
    )
    tool = {
        "point": "放置标记",
        "line": "绘制线（单击加点，单击最后一点结束）",
        "area": "绘制面（单击加点，单击第一点闭合）",
    }[kind]
    st.caption(f"用地图左上角的工具{tool}；已有的位置可用“编辑”工具拖动节点或移动标记。画好后点“保存”。")
    who = identity.render_name_input()
    note = st.text_input("备注（可选，如依据的图纸或资料）", key=Key.NOTE, max_chars=200)
    drawing = pending_drawing(map_value, item_id, pinned.version)
    conflict = (st.session_state.get(Key.CONFLICT) or {}).get(item_id)
    if conflict:
        st.error(conflict)
        st.button("载入最新版本", key=Key.RELOAD, on_click=_reload, args=(view, item_id))
    if drawing is not None:
        st.info("地图上有尚未保存的标绘。")
    else:
        st.caption(
            f"当前位置：{_describe(pinned.geometry)}"
            + (f"（用户几何，第 {pinned.version} 版）" if pinned.stored else "")
        )
    top, bottom = st.columns(2), st.columns(2)
    if top[0].button("保存", key=Key.SAVE, type="primary", disabled=drawing is None or bool(conflict), width="stretch"):
        action = drawing.action if drawing else ""
        _save(view, item_id, pinned, drawing.geometry if drawing else None, action, who, note)
    if top[1].button("删除位置", key=Key.DELETE, disabled=not pinned.stored or bool(conflict), width="stretch"):
        _delete(view, item_id, pinned, who, note)
    bottom[0].button(
        "放弃修改",
        key=Key.DISCARD,
        on_click=_reload,
        args=(view, item_id, True),
        disabled=drawing is None,
        width="stretch",
    )
    bottom[1].button("退出标绘", key=Key.STOP, on_click=stop, width="stretch")
    render_history(view, item_id, store, pinned=pinned)


def _save(
    view: CountyView, item_id: str, pinned: Base, geometry: dict[str, Any] | None, action: str, who: str, note: str
) -> None:
    store = data.store()
    if store is None or geometry is None:
        return
    if not who:
        st.error("请先填写你的姓名（记入修改历史），未保存。")
        return
    try:
        geom = geometry_from_geojson(geometry)
        if _gcj():
            geom = gcj02_to_wgs84_geometry(geom)  # drawn on the GCJ-02 basemap: stored in WGS84
        polygon = county_polygon(view.county, "full")
        geom = checked_geometry(geom, polygon=polygon, county_name=view.plan.county_name)
        how = (
            "drawn"
            if action == "created" or not pinned.stored
            else ("moved" if geometry_kind(geom) == "point" else "edited")
        )
        saved = store.save(
            item_id,
            geom,
            county=view.county,
            precision="drawn",
            expected_version=pinned.version,
            who=who,
            how=how,
            note=note,
        )
    except VersionConflict as exc:
        _conflict(item_id, str(exc))
        st.rerun(scope="fragment")  # show the message with the button that loads the latest version
    except (GeoDataError, StoreError) as exc:
        st.error(str(exc))
        return
    _done(view, saved, f"已保存：{_describe(saved.geometry)}，第 {saved.version} 版（{HOW_LABELS[saved.how]}）。")


def _delete(view: CountyView, item_id: str, pinned: Base, who: str, note: str) -> None:
    store = data.store()
    if store is None:
        return
    if not who:
        st.error("请先填写你的姓名（记入修改历史），未删除。")
        return
    try:
        saved = store.delete(item_id, expected_version=pinned.version, who=who, note=note)
    except VersionConflict as exc:
        _conflict(item_id, str(exc))
        st.rerun(scope="fragment")
    except StoreError as exc:
        st.error(str(exc))
        return
    _done(view, saved, f"已删除该条目的位置（第 {saved.version} 版；可在修改历史中恢复）。")


def _revert(view: CountyView, item_id: str, to_version: int, current: int) -> None:
    store = data.store()
    who = identity.current_user()
    if store is None:
        return
    if not who:
        st.error("请先填写你的姓名（记入修改历史），未恢复。")
        return
    try:
        saved = store.revert(item_id, to_version=to_version, expected_version=current, who=who)
    except VersionConflict as exc:
        st.error(str(exc))
        return
    except StoreError as exc:
        st.error(str(exc))
        return
    _done(view, saved, f"已恢复为第 {to_version} 版的位置（现为第 {saved.version} 版）。")


def _done(view: CountyView, saved: StoredItem, message: str) -> None:
    """After a write: load the new version, say so after the rerun, and rerun the whole page (header, tables,
    worklist and map all change)."""
    st.session_state[Key.BASE] = load_base(data.store(), view, saved.item_id)
    st.session_state.pop(Key.NOTE, None)
    _flash(saved.item_id, saved.version, message)
    st.rerun()


def render_history(view: CountyView, item_id: str, store: Store, *, pinned: Base | None = None) -> None:
    """The item's saved versions, newest first, each with a revert button."""
    try:
        changes = store.history(item_id)
    except StoreError as exc:
        st.caption(f"修改历史暂不可读：{exc}")
        return
    if not changes:
        return
    current = _stored_item(store, item_id)
    with st.expander(f"修改历史（{len(changes)} 个版本）", expanded=pinned is not None):
        if pinned is None and not identity.current_user():
            identity.render_name_input("-history")
        for change in reversed(changes):
            where = (
                f"；来源：{change.source_file} 第 {change.source_row} 行"
                if change.source_file and change.source_row
                else ""
            )
            label = (
                f"第 {change.version} 版 · {beijing_time(change.changed_at)} · {change.who} · "
                f"{HOW_LABELS.get(change.how, change.how)} · {_describe(change.geom_after)}"
            )
            st.markdown(
                esc(label) + (f"<br><small>{esc(change.note)}{esc(where)}</small>" if change.note or where else ""),
                unsafe_allow_html=True,
            )
            if current is not None and change.version != current.version:
                if st.button(f"恢复为第 {change.version} 版", key=f"{Key.REVERT}-{item_id}-{change.version}"):
                    _revert(view, item_id, change.version, current.version)
