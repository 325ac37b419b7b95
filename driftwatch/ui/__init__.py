"""Server-rendered pages for people: the monitors, and one monitor's checks over a time range (docs/api.md#pages)."""

from __future__ import annotations

from driftwatch.ui.pages import install_pages

__all__ = ["install_pages"]
