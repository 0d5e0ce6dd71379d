"""Streamlit panel for GIS exchange: downloads, the presentation PNG, and importing/matching GIS-team layers.

The only Streamlit code of the exchange feature; everything it does is a plain function of :mod:`gisio`.
``app.py`` calls :func:`render_exchange` and, if it returns an imported layer, shows it on its map::

    imported = render_exchange(features, shown, title=plan.title, county=code, boundaries=bnd)
    if imported is not None:
        imported_layer(imported.gdf, label_field=imported.name_field).add_to(fmap)
"""
from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import streamlit as st

import config
from geo.errors import GeoDataError
from gisio.errors import GisIOError
from gisio.export import FORMATS, crs_choices, export_bytes
from gisio.importer import (
    METHOD_LABELS,
    SUPPORTED_TEXT,
    ImportResult,
    best_matches,
    match_by_name,
    read_upload,
    save_matches,
)
from gisio.png import render_png_bytes

_SOURCE_CRS: dict[str, str] = {
    "": "自动识别",
    "wgs84": "WGS84 经纬度（GPS、天地图）",
    "cgcs2000": "CGCS2000 经纬度（EPSG:4490）",
    "gcj02": "GCJ-02（高德、腾讯地图坐标）",
    **{codes["no_prefix"]: f"CGCS2000 3度带第{z}带 无带号（{codes['no_prefix']}）" for z, codes in config.GK_ZONES.items()},
    **{codes["prefix"]: f"CGCS2000 3度带第{z}带 带带号（{codes['prefix']}）" for z, codes in config.GK_ZONES.items()},
    "EPSG:3857": "Web 墨卡托（EPSG:3857）",
}


def render_exchange(
    features: gpd.GeoDataFrame,
    shown: gpd.GeoDataFrame | None = None,
    *,
    title: str,
    county: str,
    boundaries: gpd.GeoDataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    key: str = "gisio",
    on_saved: Callable[[], None] | None = None,
) -> ImportResult | None:
    """Draw the exchange panel (tabs: 导出 / 演示图 / 导入与匹配).

    Parameters
    ----------
    features
        The whole feature table of the current plan.
    shown
        The rows the app currently shows (its filter); default: all.
    title, county
        Plan title and adcode (file names, PNG title).
    boundaries
        County boundaries (display level is fine).
    indicators
        Indicator table for the GeoPackage export.
    key
        Prefix of widget keys (to place the panel twice).
    on_saved
        Called after matches were saved to the overrides file (default: ``st.cache_data.clear()``, so the app
        reloads locations).

    Returns
    -------
    ImportResult or None
        The imported layer (EPSG:4326) to show on the map, if a file was imported.
    """
    tab_export, tab_png, tab_import = st.tabs(["导出", "演示图", "导入与匹配"])
    with tab_export:
        render_export(features, shown, title=title, boundaries=boundaries, indicators=indicators, key=key)
    with tab_png:
        render_png_panel(shown if shown is not None else features, title=title, county=county,
                         boundaries=boundaries, key=key)  # fmt: skip
    with tab_import:
        return render_import(features, boundaries=boundaries, key=key, on_saved=on_saved)


def render_export(
    features: gpd.GeoDataFrame,
    shown: gpd.GeoDataFrame | None,
    *,
    title: str,
    boundaries: gpd.GeoDataFrame | None,
    indicators: pd.DataFrame | None,
    key: str,
) -> None:
    """Format, scope (current filter or all) and CRS; a button prepares the file, then a download button."""
    fmt = st.selectbox("格式", list(FORMATS), format_func=lambda f: FORMATS[f].label, key=f"{key}-fmt")
    scope_options = ["shown", "all"] if shown is not None else ["all"]
    labels = {"shown": f"当前筛选（{len(shown) if shown is not None else 0} 项）", "all": f"全部（{len(features)} 项）"}
    scope = st.radio("范围", scope_options, horizontal=True, key=f"{key}-scope", format_func=labels.get)
    chosen = shown if scope == "shown" and shown is not None else features
    choices = crs_choices(features, boundaries)
    if FORMATS[fmt].wgs84_only:
        crs = config.WGS84
        st.caption(f"{FORMATS[fmt].label} 固定使用 WGS84 经纬度。")
    else:
        crs = st.selectbox("坐标系", [c for c, _ in choices], format_func=dict(choices).get, key=f"{key}-crs")
    if st.button("生成文件", key=f"{key}-make"):
        try:
            with st.spinner("正在生成…"):
                data, name, mime = export_bytes(chosen, fmt, crs=crs, boundaries=boundaries, indicators=indicators,
                                                title=title)  # fmt: skip
        except GisIOError as exc:
            st.error(str(exc))
            return
        st.session_state[f"{key}-download"] = (data, name, mime)
    prepared = st.session_state.get(f"{key}-download")
    if prepared:
        data, name, mime = prepared
        st.download_button(f"下载 {name}（{len(data) / 1024:.0f} KB）", data, file_name=name, mime=mime,
                           key=f"{key}-dl")  # fmt: skip
        if fmt == "shp":
            st.caption("Shapefile 字段名最长 10 个字符，超长文字截断：字段对照见 zip 中的 FIELDS.txt。")


def render_png_panel(
    features: gpd.GeoDataFrame, *, title: str, county: str, boundaries: gpd.GeoDataFrame | None, key: str
) -> None:
    """The presentation PNG of ``features`` (what the map shows), with a progress bar while it renders."""
    size = st.radio("尺寸", ["1920x1080", "a4"], horizontal=True, key=f"{key}-size",
                    format_func={"1920x1080": "幻灯片 1920×1080", "a4": "A4 横向 300 dpi"}.get)  # fmt: skip
    if st.button("生成演示图", key=f"{key}-png"):
        bar = st.progress(0.0, text="准备…")
        try:
            data = render_png_bytes(
                features, title=title, boundaries=boundaries, county=county, size=size,
                progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
            )  # fmt: skip
        except GisIOError as exc:
            bar.empty()
            st.error(str(exc))
            return
        st.session_state[f"{key}-png-data"] = data
    data = st.session_state.get(f"{key}-png-data")
    if data:
        st.image(data, use_container_width=True)
        st.download_button("下载 PNG", data, file_name=f"rrmap_{county}.png", mime="image/png", key=f"{key}-png-dl")


def imported_key(key: str) -> str:
    """Session-state key of the imported layer: it outlives the upload widget (a closed tab drops the widget)."""
    return f"{key}-imported"


def stored_import(key: str = "gisio") -> ImportResult | None:
    """The layer imported in this session (shown on the map while the exchange tab is closed), if any."""
    stored = st.session_state.get(imported_key(key))
    return stored[1] if stored else None


def _forget_import(key: str) -> None:
    st.session_state.pop(imported_key(key), None)


def _on_upload_change(key: str) -> None:
    # The user removed the file (its × in the uploader): the layer leaves the map too.
    if st.session_state.get(f"{key}-upload") is None:
        _forget_import(key)


def render_import(
    features: gpd.GeoDataFrame,
    *,
    boundaries: gpd.GeoDataFrame | None,
    key: str,
    on_saved: Callable[[], None] | None,
) -> ImportResult | None:
    """Upload with CRS/encoding choice; shows what was detected and repaired, then the matching table.

    The result is kept in the session (with the file name, size, CRS and encoding it was read with), so the
    layer stays on the map when the tab is closed and a rerun does not read the file again.
    """
    # No `type=` filter: Streamlit would refuse other files itself, in English, and hide read_upload's Chinese
    # messages (e.g. "zip the .shp with its .shx/.dbf/.prj"); read_upload checks the type.
    upload = st.file_uploader(
        f"上传图层（{config.MAX_UPLOAD_MB:g} MB 以内）", help=f"支持 {SUPPORTED_TEXT}", key=f"{key}-upload",
        on_change=_on_upload_change, args=(key,),
    )  # fmt: skip
    saved_msg = st.session_state.pop(f"{key}-saved-msg", None)
    if saved_msg:
        st.success(saved_msg)
    col1, col2 = st.columns(2)
    crs = col1.selectbox("坐标系", list(_SOURCE_CRS), format_func=_SOURCE_CRS.get, key=f"{key}-src-crs")
    encoding = col2.selectbox("属性编码", ["", "UTF-8", "GBK"], format_func=lambda e: e or "自动识别",
                              key=f"{key}-enc")  # fmt: skip
    stored = st.session_state.get(imported_key(key))
    if upload is not None:
        signature = (upload.name, upload.size, crs, encoding)
        if stored is None or stored[0] != signature:
            try:
                result = read_upload(upload.getvalue(), upload.name, crs=crs or None, encoding=encoding or None,
                                     boundaries=boundaries)  # fmt: skip
            except GisIOError as exc:
                _forget_import(key)
                st.error(str(exc))
                return None
            st.session_state[imported_key(key)] = (signature, result)
    elif stored is not None:
        st.caption(f"地图上显示的是本次会话已导入的 {stored[1].filename}；换坐标系或编码请重新上传该文件。")
        st.button("移除导入图层", key=f"{key}-forget", on_click=_forget_import, args=(key,))
    else:
        return None
    result = st.session_state[imported_key(key)][1]
    st.success(result.summary())
    for line in result.warnings:
        st.warning(line)
    if result.crs_ambiguous and not crs:
        options = "、".join(c.label for c in result.crs_candidates)
        st.info(f"坐标系是推断的；若位置不对，请在上方选择坐标系（可能是：{options}）。")
    if result.repairs:
        with st.expander(f"已修复 {len(result.repairs)} 个无效几何"):
            st.write("\n".join(f"- {line}" for line in result.repairs))
    render_matching(result, features, boundaries=boundaries, key=key, on_saved=on_saved)
    return result


def render_matching(
    result: ImportResult,
    features: gpd.GeoDataFrame,
    *,
    boundaries: gpd.GeoDataFrame | None,
    key: str,
    on_saved: Callable[[], None] | None,
) -> None:
    """Match imported points to plan entities by id/name; save the ticked ones as exact locations."""
    columns = [c for c in result.gdf.columns if c != "geometry"]
    if not columns:
        return
    default = columns.index(result.name_field) if result.name_field in columns else 0
    name_field = st.selectbox("名称字段", columns, index=default, key=f"{key}-name-field")
    matches, notes = match_by_name(result, features, name_field)
    for note in notes:
        st.caption(note)
    if not matches:
        st.info("没有可与规划条目匹配的点。")
        return
    safe = set(best_matches(matches))
    table = pd.DataFrame(
        {
            "采用": [m in safe for m in matches],
            "导入名称": [m.imported_name for m in matches],
            "规划条目": [f"{m.entity_name}（{m.entity_id}）" for m in matches],
            "匹配方式": [METHOD_LABELS[m.method] for m in matches],
            "得分": [m.score for m in matches],
            "经度": [m.lon for m in matches],
            "纬度": [m.lat for m in matches],
        }
    )
    edited = st.data_editor(table, disabled=[c for c in table.columns if c != "采用"], hide_index=True,
                            key=f"{key}-matches")  # fmt: skip
    chosen = [m for m, take in zip(matches, edited["采用"]) if take]
    if st.button(f"保存 {len(chosen)} 个精确坐标", key=f"{key}-save", disabled=not chosen):
        duplicates = {m.entity_id for m in chosen if sum(o.entity_id == m.entity_id for o in chosen) > 1}
        if duplicates:
            st.error(f"同一规划条目选了多个点：{'、'.join(sorted(duplicates))}，请只保留一个")
            return
        try:
            saved = save_matches(chosen, boundaries=None)
        except (GisIOError, GeoDataError) as exc:
            st.error(str(exc))
            return
        # Rerun the whole page so the map and tables already place the saved items; say so after the rerun.
        st.session_state[f"{key}-saved-msg"] = f"已保存 {len(saved)} 个精确坐标到 {config.OVERRIDES_PATH.name}"
        (on_saved or st.cache_data.clear)()
        st.rerun()
