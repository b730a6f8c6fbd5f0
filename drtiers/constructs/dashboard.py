"""A tier's dashboard: its alarms in every region, each alarm's metric with its threshold, and
the app's tasks in both regions, on one CloudWatch dashboard declared in a stack in R, which can
be changed while P is lost. "All dashboards in your account are global, not region-specific"
(PutDashboard, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html,
read 2026-12-05): its name, ``<app>-<tier>``, must be unique in the account.

Widgets name alarms and services by their fixed names, never by a reference across regions.
The body follows AWS's dashboard body structure (metric widgets, "annotations.alarms" for a
graph of one alarm, alarm status widgets): https://docs.aws.amazon.com/AmazonCloudWatch/latest/
APIReference/CloudWatch-Dashboard-Body-Structure.html (read 2026-12-05).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

GRID = 24  # a dashboard's width, in grid units
_SIZES = {"text": (GRID, 2), "alarm": (12, 4), "metric": (8, 6)}
ECS, INSIGHTS = "AWS/ECS", "ECS/ContainerInsights"


@dataclass(frozen=True)
class WatchedAlarm:
    region: str
    name: str
    description: str


@dataclass(frozen=True)
class WatchedService:
    region: str
    cluster: str
    service: str


def alarm_arn(region: str, account: str, name: str) -> str:
    return f"arn:{Aws.PARTITION}:cloudwatch:{region}:{account}:alarm:{name}"


class TierDashboard(Construct):
    """The dashboard ``name`` (one per tier and region): a header (with the command that reads
    the writer-region item), an alarm status widget per region, a graph of each alarm, the
    tasks' CPU and memory and their running and desired counts per region, and how often each
    region heard of a Region switch plan execution."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        header: str,
        account: str,
        alarms: Sequence[WatchedAlarm],
        services: Sequence[WatchedService],
        plan_rules: Sequence[tuple[str, str]] = (),
        writer_item: str = "",
    ) -> None:
        super().__init__(scope, id_)
        text = header
        if writer_item:  # a dashboard reads metrics only, never a table's item
            text += f"\n\nThe writer-region item, in this region: `{writer_item}`"
        widgets: list[tuple[str, dict[str, Any]]] = [("text", {"markdown": text})]
        for region in sorted({a.region for a in alarms}):
            here = sorted(a.name for a in alarms if a.region == region)
            widgets.append(
                (
                    "alarm",
                    {
                        "title": f"Alarms in {region}",
                        "alarms": [alarm_arn(region, account, n) for n in here],
                        "sortBy": "stateUpdatedTimestamp",
                    },
                )
            )
        widgets += [("metric", _alarm_graph(a, account)) for a in alarms]
        widgets += [("metric", _tasks(s)) for s in services]
        widgets += [("metric", _task_counts(s)) for s in services]
        widgets += [("metric", _plan_runs(region, rule)) for region, rule in plan_rules]
        self.dashboard = cloudwatch.CfnDashboard(
            self,
            "Dashboard",
            dashboard_name=name,
            dashboard_body=Stack.of(self).to_json_string({"widgets": _laid_out(widgets)}),
        )


def _alarm_graph(alarm: WatchedAlarm, account: str) -> dict[str, Any]:
    return {
        "title": f"{alarm.description} ({alarm.region})",
        "view": "timeSeries",
        "region": alarm.region,
        "annotations": {"alarms": [alarm_arn(alarm.region, account, alarm.name)]},
    }


def _graph(
    title: str, region: str, stat: str, period: int, rows: list[list[str]]
) -> dict[str, Any]:
    """A time-series widget of ``rows`` (namespace, metric, dimension pairs) in ``region``."""
    return {
        "title": title,
        "view": "timeSeries",
        "region": region,
        "stat": stat,
        "period": period,
        "metrics": rows,
    }


def _tasks(service: WatchedService) -> dict[str, Any]:
    return _service_graph(
        service, "CPU and memory (%)", ECS, ("CPUUtilization", "MemoryUtilization")
    )


def _task_counts(service: WatchedService) -> dict[str, Any]:
    """Running against desired tasks, from Container Insights (on in every tier's cluster):
    "RunningTaskCount", "DesiredTaskCount", dimensions "ServiceName, ClusterName"
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html,
    read 2026-12-05 from AWS's documentation repository)."""
    return _service_graph(
        service,
        "running and desired (none shown while no task runs)",
        INSIGHTS,
        ("RunningTaskCount", "DesiredTaskCount"),
    )


def _service_graph(
    service: WatchedService, what: str, namespace: str, metrics: Sequence[str]
) -> dict[str, Any]:
    """The app's tasks in the service's region: ``metrics`` of ``namespace`` by cluster and
    service, averaged each minute."""
    dimensions = ["ClusterName", service.cluster, "ServiceName", service.service]
    return _graph(
        f"The app's tasks in {service.region}: {what}",
        service.region,
        "Average",
        60,
        [[namespace, metric, *dimensions] for metric in metrics],
    )


def _plan_runs(region: str, rule: str) -> dict[str, Any]:
    """How often the rule that hears of Region switch plan executions in ``region`` matched:
    "TriggeredRules", dimension "RuleName" (the default bus's), https://docs.aws.amazon.com/
    eventbridge/latest/userguide/eb-monitoring.html (read 2026-12-05)."""
    return _graph(
        f"Region switch plan execution events in {region}",
        region,
        "Sum",
        300,
        [["AWS/Events", "TriggeredRules", "RuleName", rule]],
    )


def _laid_out(widgets: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Left to right, a new row when a widget does not fit."""
    laid, x, y, row = [], 0, 0, 0
    for type_, properties in widgets:
        width, height = _SIZES[type_]
        if x + width > GRID:
            x, y, row = 0, y + row, 0
        laid.append(
            {
                "type": type_,
                "x": x,
                "y": y,
                "width": width,
                "height": height,
                "properties": properties,
            }
        )
        x, row = x + width, max(row, height)
    return laid
