"""Exceptions of the geo package.

Messages are written for the people who read them: Chinese where they reach the app's UI.
"""

from __future__ import annotations


class GeoDataError(ValueError):
    """Geographic data is missing, malformed or in an unsupported reference system."""
