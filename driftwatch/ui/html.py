"""Building HTML from Python values: every string is escaped unless it is already `Html`, so no value slips in raw.

Jinja2 is not a dependency of the daemon, and two pages do not justify adding one: a tiny element builder over
`html.escape` keeps the escaping in one place and the pages readable.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Union

Child = Union["Html", str, int, float, None, Iterable["Child"]]
# Elements HTML writes without a closing tag, and SVG shapes written as empty elements.
_VOID = frozenset({"br", "col", "hr", "img", "input", "link", "meta"})
_EMPTY_SVG = frozenset({"circle", "line", "rect", "path", "polyline", "polygon"})


class Html(str):
    """Markup that is already escaped: joined into pages as it is."""

    __slots__ = ()


def text(value: object) -> Html:
    """`value` as escaped text (quotes included, so it is safe in attributes too)."""
    return Html(html.escape(str(value), quote=True))


def join(children: Iterable[Child]) -> Html:
    """Children as markup: `Html` as it is, other values escaped, None dropped, nested iterables flattened."""
    out: list[str] = []
    for child in children:
        if child is None:
            continue
        if isinstance(child, Html):
            out.append(child)
        elif isinstance(child, str | int | float):
            out.append(text(child))
        else:
            out.append(join(child))
    return Html("".join(out))


def el(tag: str, *children: Child, **attrs: object) -> Html:
    """One element; `class_` is `class`, `_` in other names is `-`, True is a bare attribute, None/False omit it."""
    parts = [tag]
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        name = "class" if name == "class_" else name.replace("_", "-")
        parts.append(name if value is True else f'{name}="{text(value)}"')
    opening = " ".join(parts)
    if tag in _VOID:
        return Html(f"<{opening}>")
    if tag in _EMPTY_SVG and not children:
        return Html(f"<{opening}/>")
    return Html(f"<{opening}>{join(children)}</{tag}>")


def when(epoch_seconds: float | None) -> str:
    """A UTC time as on-call engineers compare it with alerts: `2024-05-01 12:03:04Z`."""
    if epoch_seconds is None or not math.isfinite(epoch_seconds):
        return "-"
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def percent(share: float | None, digits: int = 1) -> str:
    """A 0-1 share as a percentage; `-` when there is none."""
    if share is None or not math.isfinite(share):
        return "-"
    return f"{share * 100:.{digits}f}%"


def number(x: float | None) -> str:
    """A score, p-value or threshold with as many significant digits as tell it apart."""
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if math.isnan(x):
        return "-"
    return f"{x:.3g}"
