"""The Streamlit face of the app: the only package that imports Streamlit.

One module per part of the page, each owning its session-state keys: :mod:`ui.state` (view state shared by all
parts and mirrored in the URL), :mod:`ui.data` (cached loaders), :mod:`ui.sidebar`, :mod:`ui.mapview`,
:mod:`ui.panel`, :mod:`ui.tabs` and :mod:`ui.exchange`.  Everything they show is computed by plain functions of
:mod:`plan`, :mod:`geo`, :mod:`gisio`, :mod:`layers` and :mod:`present`.
"""
