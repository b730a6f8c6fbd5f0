"""The tier's dashboard in R: every widget shows an alarm or a metric the tier has, every alarm
of the tier is on it, and the widgets fit AWS's grid (DR-DashboardSeesTier)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from drtiers.assembly.dashboards import shown
from drtiers.assembly.reader import TierAssembly
from drtiers.checks.dr import dashboard_sees_the_tier
from drtiers.core.metrics import emits
from drtiers.core.tiers import TIERS
from tests.conftest import Synthesized


@pytest.mark.parametrize("name", list(TIERS))
def test_each_widget_shows_what_the_tier_has(synthesized: Synthesized, name: str) -> None:
    tier = synthesized.read(name)
    (dashboard,) = tier.of_type("AWS::CloudWatch::Dashboard")
    assert dashboard.region == tier.recovery_region  # it outlives P
    alarms = {(a.region, a.prop("AlarmName")) for a in tier.of_type("AWS::CloudWatch::Alarm")}
    items = shown(tier)
    on_dashboard = {i.alarm for i in items if i.alarm is not None}
    alarms = {(region, tier.account, name) for region, name in alarms}
    assert on_dashboard == alarms
    services = {
        (s.region, s.prop("ServiceName"), cluster.prop("ClusterName"))
        for s in tier.of_type("AWS::ECS::Service")
        for cluster in tier.of_type("AWS::ECS::Cluster")
        if cluster.region == s.region
    }
    graphed = {
        (i.region, i.metric[2]["ServiceName"], i.metric[2]["ClusterName"])
        for i in items
        if i.metric is not None and i.metric[0] != "AWS/Events"
    }
    assert graphed == services  # the app's tasks in each region that runs them
    task_metrics = {i.metric[:2] for i in items if i.metric and "ServiceName" in i.metric[2]}
    assert task_metrics == {
        ("AWS/ECS", "CPUUtilization"),
        ("AWS/ECS", "MemoryUtilization"),
        ("ECS/ContainerInsights", "RunningTaskCount"),
        ("ECS/ContainerInsights", "DesiredTaskCount"),
    }
    rules = {
        (r.region, r.prop("Name"))
        for r in tier.of_type("AWS::Events::Rule")
        if str(r.prop("Name", default="")).endswith("-plan-executions")
    }
    plan_runs = {
        (i.region, i.metric[2]["RuleName"])
        for i in items
        if i.metric is not None and i.metric[0] == "AWS/Events"
    }
    assert plan_runs == rules  # how often each region heard of a plan execution
    assert bool(rules) == (name != "backup-restore")  # the tiers with a plan, in P and R
    assert all(emits(m[0], m[1], frozenset(m[2])) for m in (i.metric for i in items) if m)
    assert dashboard_sees_the_tier(tier, TIERS[name]) == []


def test_the_header_says_how_to_read_the_writer_item(synthesized: Synthesized) -> None:
    tier = synthesized.read("multi-site")
    (dashboard,) = tier.of_type("AWS::CloudWatch::Dashboard")
    text = json.dumps(dashboard.prop("DashboardBody"))
    control = "drtiers-multi-site-control"
    assert control in {str(t.prop("TableName")) for t in tier.of_type("AWS::DynamoDB::GlobalTable")}
    assert f"get-item --region {tier.recovery_region} --table-name {control}" in text


def test_widgets_fit_the_grid_without_overlapping(synthesized: Synthesized) -> None:
    (dashboard,) = synthesized.read("warm-standby").of_type("AWS::CloudWatch::Dashboard")
    delimiter, parts = dashboard.prop("DashboardBody")["Fn::Join"]
    widgets = json.loads(delimiter.join(p if isinstance(p, str) else "aws" for p in parts))[
        "widgets"
    ]
    cells: set[tuple[int, int]] = set()
    for w in widgets:
        assert w["x"] >= 0 and w["x"] + w["width"] <= 24
        mine = {
            (x, y)
            for x in range(w["x"], w["x"] + w["width"])
            for y in range(w["y"], w["y"] + w["height"])
        }
        assert not cells & mine
        cells |= mine
        # AWS: an alarm status widget holds 1-100 alarms
        assert w["type"] != "alarm" or 1 <= len(w["properties"]["alarms"]) <= 100


def _renamed(tier: TierAssembly, old: str, new: str) -> TierAssembly:
    broken = copy.deepcopy(tier)
    (dashboard,) = broken.of_type("AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard.properties["DashboardBody"]).replace(old, new)
    dashboard.properties["DashboardBody"] = json.loads(body)
    return broken


def test_a_renamed_alarm_or_service_is_found(synthesized: Synthesized) -> None:
    tier = synthesized.read("pilot-light")
    spec = TIERS["pilot-light"]
    found = dashboard_sees_the_tier(_renamed(tier, "-recovery-ReplicaLag", "-recovery-Lag"), spec)
    assert sorted(v.detail for v in found or []) == [
        "not on the tier's dashboard",
        f"shows alarm drtiers-pilot-light-recovery-Lag of {tier.account} in "
        f"{tier.recovery_region}, which the tier lacks",
    ]
    found = dashboard_sees_the_tier(_renamed(tier, "light-service", "light-svc"), spec)
    assert {v.detail.split(" of ")[0] for v in found or []} == {
        "graphs CPUUtilization",
        "graphs MemoryUtilization",
        "graphs RunningTaskCount",
        "graphs DesiredTaskCount",
    }


def test_no_dashboard_in_r_is_found(synthesized: Synthesized) -> None:
    tier = copy.deepcopy(synthesized.read("backup-restore"))
    tier.resources = [r for r in tier.resources if r.type != "AWS::CloudWatch::Dashboard"]
    (violation,) = dashboard_sees_the_tier(tier, TIERS["backup-restore"]) or []
    assert violation.detail == f"no dashboard in a stack in {tier.recovery_region}"


def _edited(tier: TierAssembly, edit: Callable[[list[dict[str, Any]]], None]) -> TierAssembly:
    """The tier with its dashboard's widgets edited (the body written back as plain JSON)."""
    broken = copy.deepcopy(tier)
    (dashboard,) = broken.of_type("AWS::CloudWatch::Dashboard")
    delimiter, parts = dashboard.properties["DashboardBody"]["Fn::Join"]
    body = json.loads(delimiter.join(p if isinstance(p, str) else "aws" for p in parts))
    edit(body["widgets"])
    dashboard.properties["DashboardBody"] = json.dumps(body)
    return broken


def _graphs(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [w["properties"] for w in widgets if "annotations" in w["properties"]]


@pytest.mark.parametrize(
    ("edit", "refused"),
    [
        (
            lambda ws: _graphs(ws)[0]["annotations"]["alarms"].append(
                _graphs(ws)[1]["annotations"]["alarms"][0]
            ),
            "AWS refuses a metric widget must graph either one alarm or metrics, not both or "
            "neither",
        ),
        (
            lambda ws: _graphs(ws)[0].pop("region"),
            "AWS refuses a metric widget has no region (AWS requires one)",
        ),
        (
            lambda ws: [w["properties"].update(alarms=[]) for w in ws if w["type"] == "alarm"],
            "AWS refuses an alarm widget lists 0 alarms (AWS: 1-100)",
        ),
    ],
)
def test_a_body_aws_refuses_is_found(
    synthesized: Synthesized, edit: Callable[[list[dict[str, Any]]], None], refused: str
) -> None:
    tier = synthesized.read("warm-standby")
    found = dashboard_sees_the_tier(_edited(tier, edit), TIERS["warm-standby"]) or []
    assert refused in {v.detail for v in found}


def test_an_alarm_of_another_account_is_found(synthesized: Synthesized) -> None:
    tier = synthesized.read("multi-site")
    broken = _renamed(tier, f":{tier.account}:alarm:", ":111122223333:alarm:")
    found = dashboard_sees_the_tier(broken, TIERS["multi-site"]) or []
    alarms = tier.of_type("AWS::CloudWatch::Alarm")
    assert len([v for v in found if v.detail == "not on the tier's dashboard"]) == len(alarms)
    assert all(
        "111122223333" in v.detail
        for v in found
        if v.resource is not None and v.resource.type == "AWS::CloudWatch::Dashboard"
    )
