"""The 导出与导入 tab: downloads, the print layout (PNG/PDF), and importing/matching GIS-team layers.

Everything it does is a plain function of :mod:`gisio` (and :mod:`layers.htmlmap` for the offline HTML map).
``app.py`` calls :func:`render_exchange` and, if it returns an imported layer, shows it on its map.  Widget keys
are declared once, in :class:`Keys`, with a prefix so that the panel could be placed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import config
from geo.crs import crs_label, known_crs
from geo.errors import GeoDataError
from gisio.encoding import CHOICES as ENCODINGS
from gisio.errors import GisIOError
from gisio.export import FORMATS, crs_choices, export_bytes
from gisio.match import METHOD_LABELS, Match, best_matches, match_by_name, save_matches
from gisio.normalise import ImportResult
from gisio.printmap import PAGE_LABELS, PAPER_MM, Extent, render_map_bytes
from gisio.qgis_project import qgis_status
from gisio.read import SUPPORTED_TEXT, read_upload
from layers.htmlmap import drawn_count, map_html
from plan.model import Plan
from present.markup import md
from ui import data, identity

# What each delivery holds, told under the download button.
FORMAT_NOTES: dict[str, str] = {
    "gpkg": "每类要素按点/线/面分层，无几何的条目单独成表；打开即带样式，含中文别名、数据字典、数据说明和元数据。",
    "qgis": "解压后用 QGIS 打开 .qgz：图层、样式、行政区划和带图例/比例尺/指北针的打印布局都已设好。",
    "shp": "每类要素按点/线/面各一个 Shapefile（旁附 QML/SLD 样式），无几何的条目在 _nogeom.dbf；字段对照见 FIELDS.txt。",
    "geojson": "每个图层一个 GeoJSON 文件（WGS84），无几何的条目在 _nogeom.geojson，旁附 QML/SLD 样式。",
    "xlsx": "第一张表为全部条目，第二张为数据字典，另有指标长表和数据说明。",
    "csv": "UTF-8（带 BOM，Excel 可直接打开）；以 = + - @ 开头的文字已加 ' 防止被当作公式。",
}


class Keys:
    """The session-state keys of one exchange panel (``prefix`` tells two panels apart)."""

    def __init__(self, prefix: str = "gisio") -> None:
        self.prefix = prefix
        self.format = f"{prefix}-fmt"
        self.scope = f"{prefix}-scope"
        self.crs = f"{prefix}-crs"
        self.make = f"{prefix}-make"
        self.download = f"{prefix}-download"
        self.download_button = f"{prefix}-dl"
        self.print_title = f"{prefix}-print-title"
        self.print_subtitle = f"{prefix}-print-subtitle"
        self.print_extent = f"{prefix}-print-extent"
        self.print_page = f"{prefix}-print-page"
        self.print_format = f"{prefix}-print-fmt"
        self.print_dpi = f"{prefix}-print-dpi"
        self.print_make = f"{prefix}-print"
        self.print_data = f"{prefix}-print-data"
        self.print_download = f"{prefix}-print-dl"
        self.upload = f"{prefix}-upload"
        self.saved_message = f"{prefix}-saved-msg"
        self.source_crs = f"{prefix}-src-crs"
        self.encoding = f"{prefix}-enc"
        self.imported = f"{prefix}-imported"  # outlives the upload widget (a closed tab drops the widget)
        self.forget = f"{prefix}-forget"
        self.name_field = f"{prefix}-name-field"
        self.matches = f"{prefix}-matches"
        self.match_cache = f"{prefix}-match-cache"  # (what was matched, its matches and notes)
        self.save = f"{prefix}-save"


AUTO_CRS = ""  # the import CRS choice "detect it"
AUTO_ENCODING = ""  # the import encoding choice "detect it"
# The matching table lists at most this many candidates (best first): a browser table of 100,000 rows is of use
# to no one, and every entity can be matched within the first rows.
MAX_MATCH_ROWS = 2000


def source_crs_label(code: str) -> str:
    return "自动识别" if code == AUTO_CRS else crs_label(code)


@dataclass(frozen=True)
class PrintContext:
    """What the print layout needs besides the features: default texts, town seats and the live map's view."""

    subtitle: str = ""
    source: str | None = None
    towns: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    view_extent: Extent | None = None  # the live map's current bounds (WGS84), when it has reported them


def render_exchange(
    features: gpd.GeoDataFrame,
    shown: gpd.GeoDataFrame | None = None,
    *,
    title: str,
    county: str,
    boundaries: gpd.GeoDataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    printing: PrintContext | None = None,
    keys: Keys | None = None,
    on_saved: Callable[[], None] | None = None,
    plans: Sequence[Plan] = (),
) -> ImportResult | None:
    """Draw the exchange panel (tabs: 导出 / 出图 / 导入与匹配).

    Parameters
    ----------
    features
        The whole feature table of the current plan.
    shown
        The rows the app currently shows (its layers and filters); default: all.  The print layout draws these.
    title, county
        Plan title and adcode (file names, the page's default title).
    boundaries
        County boundaries (display level is fine).
    indicators
        Indicator table for the GeoPackage export.
    printing
        Subtitle, source note, town seats and the live map's extent for the print layout.
    keys
        The panel's widget keys (default: prefix ``gisio``).
    on_saved
        Called after matches were saved to the store (the views follow the store's revision by themselves).
    plans
        The plan(s) shown: their title, issuer and source go into every export's 数据说明 and metadata.

    Returns
    -------
    ImportResult or None
        The imported layer (EPSG:4326) to show on the map, if a file was imported.
    """
    keys = keys or Keys()
    tab_export, tab_print, tab_import = st.tabs(["导出", "出图（PNG / PDF）", "导入与匹配"])
    with tab_export:
        render_export(
            features, shown, title=title, boundaries=boundaries, indicators=indicators, keys=keys, plans=plans
        )
    with tab_print:
        render_print_panel(
            shown if shown is not None else features,
            title=title,
            county=county,
            boundaries=boundaries,
            printing=printing or PrintContext(),
            keys=keys,
        )
    with tab_import:
        return render_import(features, boundaries=boundaries, keys=keys, on_saved=on_saved)


def render_export(
    features: gpd.GeoDataFrame,
    shown: gpd.GeoDataFrame | None,
    *,
    title: str,
    boundaries: gpd.GeoDataFrame | None,
    indicators: pd.DataFrame | None,
    keys: Keys,
    plans: Sequence[Plan] = (),
) -> None:
    """Format, scope (current filter or all) and CRS (CGCS2000 first, the default); a button prepares the file,
    then a download button.  The QGIS project needs QGIS on this machine: without it the option says so."""
    fmt = st.selectbox("格式", list(FORMATS), format_func=lambda f: FORMATS[f].label, key=keys.format)
    if fmt in FORMAT_NOTES:
        st.caption(FORMAT_NOTES[fmt])
    scope_options = ["shown", "all"] if shown is not None else ["all"]
    labels = {"shown": f"当前筛选（{len(shown) if shown is not None else 0} 项）", "all": f"全部（{len(features)} 项）"}
    scope = st.radio("范围", scope_options, horizontal=True, key=keys.scope, format_func=labels.get)
    chosen = shown if scope == "shown" and shown is not None else features
    choices = crs_choices(features, boundaries)
    crs: str | None = config.WGS84
    if FORMATS[fmt].wgs84_only:
        st.caption(f"{FORMATS[fmt].label} 固定使用 WGS84 经纬度。")
    else:
        labels_of = dict(choices)
        crs = st.selectbox("坐标系", list(labels_of), format_func=lambda c: labels_of[c], key=keys.crs)
    unavailable = ""
    if FORMATS[fmt].needs_qgis:
        status = qgis_status()
        unavailable = "" if status.available else status.message
    if unavailable:
        st.warning(unavailable)
    if st.button("生成文件", key=keys.make, disabled=bool(unavailable)):
        try:
            with st.spinner("正在生成…"):
                payload, name, mime = export_bytes(
                    chosen,
                    fmt,
                    crs=crs,
                    boundaries=boundaries,
                    indicators=indicators,
                    title=title,
                    html=map_html(chosen, boundaries=boundaries, title=title) if fmt == "html" else None,
                    plans=plans,
                )
        except GisIOError as exc:
            st.error(str(exc))
            return
        st.session_state[keys.download] = (payload, name, mime)
    prepared = st.session_state.get(keys.download)
    if prepared:
        payload, name, mime = prepared
        st.download_button(
            f"下载 {name}（{len(payload) / 1024:.0f} KB）", payload, file_name=name, mime=mime, key=keys.download_button
        )


EXTENT_LABELS = {"county": "规划范围（全县/全市）", "view": "当前地图视图"}
FORMAT_LABELS = {"png": "PNG 图片", "pdf": "PDF（矢量，可打印）"}


def render_print_panel(
    features: gpd.GeoDataFrame,
    *,
    title: str,
    county: str,
    boundaries: gpd.GeoDataFrame | None,
    printing: PrintContext,
    keys: Keys,
) -> None:
    """The print layout of ``features`` (what the map shows): title, extent, page, format; a preview and download.

    Title and subtitle are kept per view (their keys carry the adcode), so each plan starts from its own.
    """
    left, right = st.columns(2)
    page_title = left.text_input("标题", value=title, key=f"{keys.print_title}-{county}")
    subtitle = right.text_input("副标题", value=printing.subtitle, key=f"{keys.print_subtitle}-{county}")
    extents = ["county", "view"]
    extent = left.radio(
        "范围",
        extents,
        key=keys.print_extent,
        format_func=EXTENT_LABELS.get,
        horizontal=True,
        help="当前地图视图：与上方地图此刻显示的范围相同（平移、缩放地图后再生成）。",
    )
    if extent == "view" and printing.view_extent is None:
        left.caption("地图尚未报告当前视图（平移或缩放一下地图），将按规划范围出图。")
    pages: list[str] = list(PAGE_LABELS)
    page = right.selectbox("版面", pages, key=keys.print_page, format_func=lambda p: PAGE_LABELS[p])
    fmt = left.radio("格式", list(FORMAT_LABELS), key=keys.print_format, format_func=FORMAT_LABELS.get, horizontal=True)
    dpi: int | None = None
    if page in PAPER_MM:
        dpi = right.radio(
            "分辨率", [150, 300], index=1, key=keys.print_dpi, format_func=lambda d: f"{d} dpi", horizontal=True
        )
    elif fmt == "pdf":
        right.caption("幻灯片版面的 PDF 为 12.8 × 7.2 英寸（16:9）。")
    st.caption(
        f"图层与筛选同地图：当前显示 {len(features)} 项（在侧栏切换图层、搜索与筛选）。"
        "图例只列出图上画出的内容及其数量。"
    )
    if st.button("生成出图", key=keys.print_make, type="primary"):
        bar = st.progress(0.0, text="准备…")
        try:
            payload = render_map_bytes(
                features,
                title=page_title.strip() or title,
                subtitle=subtitle.strip() or None,
                boundaries=boundaries,
                county=county,
                extent=printing.view_extent if extent == "view" else None,
                towns=printing.towns,
                page=page,
                dpi=dpi,
                fmt=fmt,
                source_note=printing.source,
                progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
            )
        except GisIOError as exc:
            bar.empty()
            st.error(str(exc))
            return
        bar.empty()
        st.session_state[keys.print_data] = (payload, fmt, county)
    stored = st.session_state.get(keys.print_data)
    if stored and stored[2] == county:
        payload, made_fmt, _county = stored
        if made_fmt == "png":
            st.image(payload, width="stretch")
        else:
            st.caption(f"PDF 已生成（{len(payload) / 1024:.0f} KB），请下载后查看或打印。")
        st.download_button(
            f"下载 {made_fmt.upper()}",
            payload,
            file_name=f"rrmap_{county}.{made_fmt}",
            mime="application/pdf" if made_fmt == "pdf" else "image/png",
            key=keys.print_download,
        )


def uploader_css() -> str:
    """Streamlit's uploader writes "Upload" and "50MB per file" in English: the page shows them in Chinese (the
    limit is the widget's own, ``max_upload_size``, so both texts say the same)."""
    limit = f"{config.MAX_UPLOAD_MB:g}"
    return f"""<style>
[data-testid="stFileUploaderDropzone"] button {{ font-size: 0; }}
[data-testid="stFileUploaderDropzone"] button::after {{ content: "选择文件"; font-size: 0.9rem; }}
[data-testid="stFileUploaderDropzoneInstructions"] * {{ font-size: 0; }}
[data-testid="stFileUploaderDropzoneInstructions"]::after {{ content: "拖放文件到此处，或点击“选择文件”；每个文件不超过 {limit} MB";
  font-size: 0.8rem; color: #666; }}
</style>"""


def stored_import(keys: Keys | None = None) -> ImportResult | None:
    """The layer imported in this session (shown on the map while the exchange tab is closed), if any."""
    stored = st.session_state.get((keys or Keys()).imported)
    return stored[1] if stored else None


def _forget_import(keys: Keys) -> None:
    st.session_state.pop(keys.imported, None)


def _on_upload_change(keys: Keys) -> None:
    # The user removed the file (its × in the uploader): the layer leaves the map too.
    if st.session_state.get(keys.upload) is None:
        _forget_import(keys)


def encoding_options(result: ImportResult | None) -> list[str]:
    """The encoding choices: detect, then what decodes the file (best first), then the other encodings."""
    found = list(result.encoding_candidates) if result is not None else []
    return [AUTO_ENCODING, *found, *[e for e in ENCODINGS if e not in found]]


def encoding_label(code: str, result: ImportResult | None) -> str:
    if code == AUTO_ENCODING:
        detected = result.encoding if result is not None and result.encoding else None
        return f"自动识别（{detected}）" if detected else "自动识别"
    if result is not None and code in result.encoding_candidates:
        return f"{code}（可解码）"
    return code


def render_import(
    features: gpd.GeoDataFrame,
    *,
    boundaries: gpd.GeoDataFrame | None,
    keys: Keys,
    on_saved: Callable[[], None] | None,
) -> ImportResult | None:
    """Upload with CRS/encoding choice; shows what was detected and repaired, then the matching table.

    The result is kept in the session (with the file name, size, CRS and encoding it was read with), so the
    layer stays on the map when the tab is closed and a rerun does not read the file again.  The encoding
    choice offers what the file was found to decode with (after it was read once).  Every text that came from the
    file is escaped for Markdown before Streamlit shows it.
    """
    # No `type=` filter: Streamlit would refuse other files itself, in English, and hide read_upload's Chinese
    # messages (e.g. "zip the .shp with its .shx/.dbf/.prj"); read_upload checks the type.
    st.html(uploader_css())
    upload = st.file_uploader(
        f"上传图层（{config.MAX_UPLOAD_MB:g} MB 以内）",
        help=f"支持 {SUPPORTED_TEXT}",
        max_upload_size=int(config.MAX_UPLOAD_MB),  # the widget's own limit text then says the same
        key=keys.upload,
        on_change=_on_upload_change,
        args=(keys,),
    )
    saved_msg = st.session_state.pop(keys.saved_message, None)
    if saved_msg:
        st.success(saved_msg)
    col1, col2 = st.columns(2)
    crs = col1.selectbox("坐标系", [AUTO_CRS, *known_crs()], format_func=source_crs_label, key=keys.source_crs)
    # The encoding select is drawn after the read (in its column), so it can offer what the file decodes with.
    encoding = st.session_state.get(keys.encoding, AUTO_ENCODING)
    stored = st.session_state.get(keys.imported)
    result: ImportResult | None = None
    if upload is not None:
        signature = (upload.name, upload.size, crs, encoding)
        if stored is None or stored[0] != signature:
            try:
                result = read_upload(
                    upload.getvalue(), upload.name, crs=crs or None, encoding=encoding or None, boundaries=boundaries
                )
            except GisIOError as exc:
                _forget_import(keys)
                _encoding_select(col2, keys, None)
                st.error(md(str(exc)))
                return None
            st.session_state[keys.imported] = (signature, result)
        result = st.session_state[keys.imported][1]
    elif stored is not None:
        result = stored[1]
    _encoding_select(col2, keys, result)
    if result is None:
        return None
    if upload is None:
        st.caption(f"地图上显示的是本次会话已导入的 {md(result.filename)}；换坐标系或编码请重新上传该文件。")
        st.button("移除导入图层", key=keys.forget, on_click=_forget_import, args=(keys,))
    st.success(md(result.summary()))
    for line in result.warnings:
        st.warning(md(line))
    if result.crs_ambiguous and not crs:
        options = "、".join(c.label for c in result.crs_candidates)
        st.info(f"坐标系是推断的；若位置不对，请在上方选择坐标系（可能是：{md(options)}）。")
    drawn, located = drawn_count(result.gdf)
    if drawn < located:
        st.info(
            f"图层有 {located:,} 个带几何的要素，地图上只画出前 {drawn:,} 个（RRMAP_MAX_DRAWN_IMPORTED）；匹配使用全部要素。"
        )
    if result.repairs:
        st.warning(f"已修复或舍弃 {len(result.repairs)} 个无效几何（属性都已保留），明细见下方。")
        with st.expander(f"几何修复明细（{len(result.repairs)} 条）"):
            st.markdown("\n".join(f"- {md(line)}" for line in result.repairs[:500]))
            if len(result.repairs) > 500:
                st.caption(f"另有 {len(result.repairs) - 500} 条未列出。")
    render_matching(result, features, boundaries=boundaries, keys=keys, on_saved=on_saved)
    return result


def _encoding_select(column: DeltaGenerator, keys: Keys, result: ImportResult | None) -> None:
    options = encoding_options(result)
    if st.session_state.get(keys.encoding, AUTO_ENCODING) not in options:
        st.session_state[keys.encoding] = AUTO_ENCODING
    column.selectbox("属性编码", options, format_func=lambda e: encoding_label(e, result), key=keys.encoding)


def _matches_for(
    result: ImportResult, features: gpd.GeoDataFrame, name_field: str, keys: Keys
) -> tuple[list[Match], list[str]]:
    """Matches of the imported layer, kept in the session: a rerun (a map click) does not match again."""
    what = (
        st.session_state[keys.imported][0] if keys.imported in st.session_state else result.filename,
        len(result.gdf),
        name_field,
        hash((tuple(features["id"]), tuple(features["name"]), tuple(features["county"].astype(str)))),
    )
    cached = st.session_state.get(keys.match_cache)
    if cached and cached[0] == what:
        return cached[1], cached[2]
    matches, notes = match_by_name(result, features, name_field=name_field)
    st.session_state[keys.match_cache] = (what, matches, notes)
    return matches, notes


def render_matching(
    result: ImportResult,
    features: gpd.GeoDataFrame,
    *,
    boundaries: gpd.GeoDataFrame | None,
    keys: Keys,
    on_saved: Callable[[], None] | None,
) -> None:
    """Match imported points to plan entities by id/name; save the ticked ones as exact locations."""
    columns = [c for c in result.gdf.columns if c != "geometry"]
    if not columns:
        return
    default = columns.index(result.name_field) if result.name_field in columns else 0
    name_field = st.selectbox("名称字段", columns, index=default, key=keys.name_field)
    try:
        matches, notes = _matches_for(result, features, str(name_field), keys)
    except GisIOError as exc:
        st.error(md(str(exc)))
        return
    for note in notes:
        st.caption(md(note))
    if not matches:
        st.info("没有可与规划条目匹配的点。")
        return
    safe = set(best_matches(matches))
    if len(matches) > MAX_MATCH_ROWS:
        st.caption(f"共 {len(matches):,} 条候选，表中列出得分最高的 {MAX_MATCH_ROWS:,} 条。")
        matches = sorted(matches, key=lambda m: (-m.score, m.row))[:MAX_MATCH_ROWS]
    table = pd.DataFrame(
        {
            "采用": [m in safe for m in matches],
            "导入名称": [m.imported_name for m in matches],
            "几何": [m.kind for m in matches],
            "规划条目": [f"{m.entity_name}（{m.entity_id}）" for m in matches],
            "匹配方式": [METHOD_LABELS[m.method] for m in matches],
            "得分": [m.score for m in matches],
            "经度": [m.lon for m in matches],
            "纬度": [m.lat for m in matches],
        }
    )
    edited = st.data_editor(
        table, disabled=[c for c in table.columns if c != "采用"], hide_index=True, key=keys.matches
    )
    chosen = [m for m, take in zip(matches, edited["采用"]) if take]
    store = data.store()
    if store is None:
        st.caption(f"保存不可用：{data.store_problem()}")
        return
    who = identity.render_name_input("-import")
    if st.button(f"保存 {len(chosen)} 个精确位置", key=keys.save, disabled=not chosen):
        if not who:
            st.error("请先填写你的姓名（记入每个条目的修改历史），未保存。")
            return
        try:
            saved = save_matches(chosen, store=store, who=who, imported=result)
        except (GisIOError, GeoDataError) as exc:
            st.error(str(exc))
            return
        # Rerun the whole page so the map and tables already place the saved items; say so after the rerun.
        st.session_state[keys.saved_message] = (
            f"已保存 {len(saved)} 个精确位置（导入自 {result.filename}，每条记入修改历史，可恢复）"
        )
        if on_saved is not None:
            on_saved()
        st.rerun()
