"""A check as a self-contained HTML page: its verdict, each feature's distributions, OOD and text, its exemplars."""

from driftwatch.report.html import RENDERER_VERSION, render_report, report_path

__all__ = ["RENDERER_VERSION", "render_report", "report_path"]
