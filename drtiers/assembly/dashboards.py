"""A tier's CloudWatch dashboards as written: the alarms and metrics each widget shows, by
region, and what in a body AWS would refuse. AWS's dashboard body structure:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
(read 2026-12-05), quoted below as [Body]."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from drtiers.assembly.reader import Resource, TierAssembly

MAX_WIDGETS = 500  # [Body]: "between 0 and 500 widget objects"
MAX_ALARMS = 100  # [Body]: an alarm widget's alarms, "The array can have 1-100 ARNs"


@dataclass(frozen=True)
class Shown:
    dashboard: Resource
    region: str
    alarm: tuple[str, str, str] | None = None  # (region, account, name) of an alarm shown
    metric: tuple[str, str, dict[str, str]] | None = None  # namespace, name, dimensions


@dataclass(frozen=True)
class Dashboard:
    resource: Resource
    shown: list[Shown]
    refused: list[str]  # what in the body AWS would refuse, or the reader cannot read


def _body(dashboard: Resource) -> dict[str, Any] | None:
    """The body's JSON, the partition written as ``aws`` (the only token drtiers puts in it);
    None for a body built otherwise."""
    body = dashboard.prop("DashboardBody")
    if isinstance(body, dict) and "Fn::Join" in body:
        delimiter, parts = body["Fn::Join"]
        if not all(isinstance(p, str) or p == {"Ref": "AWS::Partition"} for p in parts):
            return None
        body = delimiter.join(p if isinstance(p, str) else "aws" for p in parts)
    return json.loads(body) if isinstance(body, str) else None


def _alarm(arn: str) -> tuple[str, str, str]:
    """(region, account, name) of ``arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>``."""
    parts = arn.split(":", 6)
    return parts[3], parts[4], parts[6]


def _metric(row: list[Any]) -> tuple[str, str, dict[str, str]] | None:
    """A metrics row as written in full (namespace, name, dimension pairs, options); None for
    an expression, the "." shorthand or an odd row, which this reader does not follow."""
    names = [r for r in row if not isinstance(r, dict)]  # a trailing dict holds options
    if len(names) < 2 or len(names) % 2 or "." in names:
        return None
    namespace, metric, *pairs = names
    return namespace, metric, dict(zip(pairs[::2], pairs[1::2], strict=True))


def _widget(dashboard: Resource, widget: dict[str, Any]) -> Iterator[Shown | str]:
    """What one widget shows, and what AWS would refuse in it (as a string)."""
    type_, props = widget.get("type"), widget.get("properties", {})
    if type_ == "alarm":
        arns = props.get("alarms", [])
        if not 1 <= len(arns) <= MAX_ALARMS:
            yield f"an alarm widget lists {len(arns)} alarms (AWS: 1-{MAX_ALARMS})"
        yield from (Shown(dashboard, _alarm(a)[0], alarm=_alarm(a)) for a in arns)
    if type_ != "metric":
        return
    region = props.get("region")
    if not isinstance(region, str):
        yield "a metric widget has no region (AWS requires one)"
        return
    graphed = props.get("annotations", {}).get("alarms", [])
    rows = props.get("metrics", [])
    if len(graphed) > 1 or bool(graphed) == bool(rows):
        yield "a metric widget must graph either one alarm or metrics, not both or neither"
    for arn in graphed:
        if _alarm(arn)[0] != region:
            yield f"a widget in {region} graphs the alarm {_alarm(arn)[2]} of another region"
        yield Shown(dashboard, region, alarm=_alarm(arn))
    for row in rows:
        metric = _metric(row)
        yield (
            f"a metric row drtiers cannot read: {row}"
            if metric is None
            else Shown(dashboard, region, metric=metric)
        )


def dashboards(tier: TierAssembly) -> list[Dashboard]:
    """Every dashboard of the tier with what its widgets show; a body the reader cannot resolve
    shows nothing and is refused."""
    found = []
    for resource in tier.of_type("AWS::CloudWatch::Dashboard"):
        body = _body(resource)
        widgets = (body or {}).get("widgets", [])
        items = [x for w in widgets for x in _widget(resource, w)]
        refused = [x for x in items if isinstance(x, str)]
        if body is None:
            refused.append("a body drtiers cannot read")
        if len(widgets) > MAX_WIDGETS:
            refused.append(f"{len(widgets)} widgets (AWS: at most {MAX_WIDGETS})")
        found.append(Dashboard(resource, [x for x in items if isinstance(x, Shown)], refused))
    return found


def shown(tier: TierAssembly) -> list[Shown]:
    return [item for dashboard in dashboards(tier) for item in dashboard.shown]
