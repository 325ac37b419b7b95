"""How values look and tables are shaped: thresholds, value mappings, units, transformations, overrides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.models import common as common_m
from grafana_foundation_sdk.models import dashboard as dashboard_m


def thresholds(*steps: tuple[float | None, str]) -> dashboard_b.ThresholdsConfig:
    """Absolute thresholds; the first step's value is None (the base color)."""
    return (
        dashboard_b.ThresholdsConfig()
        .mode(dashboard_m.ThresholdsMode.ABSOLUTE)
        .steps([dashboard_m.Threshold(value=value, color=color) for value, color in steps])
    )


def by_thresholds() -> dashboard_b.FieldColor:
    return dashboard_b.FieldColor().mode(dashboard_m.FieldColorModeId.THRESHOLDS)


def value_texts(*entries: tuple[str, str, str]) -> list[dashboard_m.ValueMapping]:
    """Value mappings from (value, text, color) triples."""
    return [
        dashboard_m.ValueMap(
            options={
                value: dashboard_m.ValueMappingResult(text=text, color=color, index=i)
                for i, (value, text, color) in enumerate(entries)
            }
        )
    ]


DRIFT_STATES = value_texts(("0", "no drift", "green"), ("1", "DRIFT", "red"))
FEATURE_STATES = value_texts(("0", "ok", "green"), ("1", "drifted", "red"))
READY_STATES = value_texts(("0", "not ready", "red"), ("1", "ready", "green"))
REASON_STATES = value_texts(("0", "off", "orange"), ("1", "on", "green"))

# Units: Grafana ids where one fits, else a custom suffix.
PERCENT = "percentunit"
SECONDS = "s"
BYTES = "bytes"
ROWS_PER_SECOND = "suffix: rows/s"


# Transformations: the SDK types a transformer's options as `object` (each transformer has its own), so the
# options are TypedDicts here, in the shape Grafana stores them.


class OrganizeOptions(TypedDict):
    excludeByName: dict[str, bool]
    renameByName: dict[str, str]
    indexByName: dict[str, int]


class SortField(TypedDict):
    field: str
    desc: bool


class SortByOptions(TypedDict):
    sort: list[SortField]


def merge() -> dashboard_m.DataTransformerConfig:
    """Join the instant table queries on their common label columns into one row per label set."""
    return dashboard_m.DataTransformerConfig(id_val="merge", options={})


def organize(
    *, exclude: Sequence[str] = (), rename: dict[str, str] | None = None, order: Sequence[str] = ()
) -> dashboard_m.DataTransformerConfig:
    """Hide, rename and order table columns; every name is a column's name before renaming."""
    options = OrganizeOptions(
        excludeByName={name: True for name in exclude},
        renameByName=dict(rename or {}),
        indexByName={name: i for i, name in enumerate(order)},
    )
    return dashboard_m.DataTransformerConfig(id_val="organize", options=options)


def sort_by(field: str, *, desc: bool) -> dashboard_m.DataTransformerConfig:
    options = SortByOptions(sort=[SortField(field=field, desc=desc)])
    return dashboard_m.DataTransformerConfig(id_val="sortBy", options=options)


# Overrides: a property's value is `object` in the SDK; the values are SDK models wherever one exists.


def unit_override(unit: str) -> dashboard_m.DynamicConfigValue:
    return dashboard_m.DynamicConfigValue(id_val="unit", value=unit)


def cell_background() -> dashboard_m.DynamicConfigValue:
    return dashboard_m.DynamicConfigValue(
        id_val="custom.cellOptions", value=common_m.TableColoredBackgroundCellOptions()
    )


def cell_text_color() -> dashboard_m.DynamicConfigValue:
    return dashboard_m.DynamicConfigValue(id_val="custom.cellOptions", value=common_m.TableColorTextCellOptions())


def thresholds_override(*steps: tuple[float | None, str]) -> list[dashboard_m.DynamicConfigValue]:
    return [
        dashboard_m.DynamicConfigValue(id_val="thresholds", value=thresholds(*steps).build()),
        dashboard_m.DynamicConfigValue(id_val="color", value=by_thresholds().build()),
    ]


def mappings_override(mappings: list[dashboard_m.ValueMapping]) -> dashboard_m.DynamicConfigValue:
    return dashboard_m.DynamicConfigValue(id_val="mappings", value=mappings)


def fixed_color(color: str) -> dashboard_m.DynamicConfigValue:
    value = dashboard_b.FieldColor().mode(dashboard_m.FieldColorModeId.FIXED).fixed_color(color).build()
    return dashboard_m.DynamicConfigValue(id_val="color", value=value)


def dashed_line() -> dashboard_m.DynamicConfigValue:
    return dashboard_m.DynamicConfigValue(
        id_val="custom.lineStyle", value=common_b.LineStyle().fill("dash").dash([10, 10]).build()
    )


def log_scale() -> common_b.ScaleDistributionConfig:
    return common_b.ScaleDistributionConfig().type(common_m.ScaleDistribution.LOG).log(10)
