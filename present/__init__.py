"""What the app shows beside the map, as plain functions: the attribute panel's HTML, the overview, attribute and
indicator tables, search, filters, the URL's view state, and the cached view object of a plan.

No Streamlit here (the :mod:`ui` package wires these up) and nothing drawn on the map (that is :mod:`layers`).
"""
