"""Exceptions of the gisio package.

Every message is Chinese and names the problem, because it reaches planners through ``st.error`` or the CLI.
``code`` is a stable English key for tests and for the app to react to particular problems.
"""

from __future__ import annotations


class GisIOError(ValueError):
    """An export, import or rendering could not be done; ``str(exc)`` is the message for the user."""

    def __init__(self, message: str, code: str = "gisio") -> None:
        super().__init__(message)
        self.code = code


class ImportRejected(GisIOError):
    """An uploaded file was refused (bad input); nothing was written."""


class FontMissingError(GisIOError):
    """No CJK font is installed, so Chinese text would render as empty boxes (tofu)."""
