"""The plan-actions function's code, run here against a recording stand-in for boto3: what it
calls, with what, for each action the plan, the probe schedule and the alarm's rule send."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

Calls = list[tuple[str, str, str, dict[str, Any]]]  # (service, region, operation, arguments)


class FakeClient:
    def __init__(self, service: str, region: str, calls: Calls, answers: dict[str, Any]) -> None:
        self.service, self.region, self.calls, self.answers = service, region, calls, answers

    def __getattr__(self, operation: str) -> Any:
        def call(**arguments: Any) -> Any:
            self.calls.append((self.service, self.region, operation, arguments))
            answer = self.answers.get(f"{self.service}.{operation}", {})
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


@pytest.fixture
def lambda_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Calls, dict[str, Any]]]:
    """The module with boto3 replaced (the Lambda runtime provides the real one)."""
    calls: Calls = []
    answers: dict[str, Any] = {}
    boto3 = types.ModuleType("boto3")
    boto3.client = lambda service, region_name="here", config=None: FakeClient(  # type: ignore[attr-defined]
        service, region_name, calls, answers
    )
    monkeypatch.setitem(sys.modules, "boto3", boto3)
    monkeypatch.delitem(sys.modules, "drtiers.lambdas.plan_actions", raising=False)
    module = importlib.import_module("drtiers.lambdas.plan_actions")
    yield module, calls, answers
    sys.modules.pop("drtiers.lambdas.plan_actions", None)


def test_declare_writes_the_writer_region_item_and_the_declared_metric(
    lambda_module: tuple[Any, Calls, dict[str, Any]],
) -> None:
    module, calls, _ = lambda_module
    event = {
        "action": "declare",
        "region": "us-west-2",
        "table": "drtiers-warm-standby-table",
        "metric": {
            "region": "us-west-2",
            "namespace": "drtiers",
            "name": "RecoveryWritable",
            "dimensions": {"Tier": "warm-standby"},
            "value": 1,
        },
        "InvokedBy": "arc-region-switch",  # Region switch merges these beside the payload
        "StepName": "declare-writer",
    }
    assert module.handler(event, None) == {"done": "declare"}
    (put, metric) = calls
    assert put[:3] == ("dynamodb", "us-west-2", "put_item")
    assert put[3]["Item"]["region"] == {"S": "us-west-2"}
    assert put[3]["Item"]["sk"] == {"S": "writer-region"}
    assert metric[:3] == ("cloudwatch", "us-west-2", "put_metric_data")
    assert metric[3]["MetricData"][0]["Value"] == 1.0


def test_scale_sets_the_minimum_before_the_count(
    lambda_module: tuple[Any, Calls, dict[str, Any]],
) -> None:
    module, calls, answers = lambda_module
    answers["application-autoscaling.describe_scalable_targets"] = {
        "ScalableTargets": [{"MinCapacity": 1, "MaxCapacity": 4}]
    }
    event = {"action": "scale", "region": "us-east-1", "cluster": "c", "service": "s", "count": 2}
    module.handler(event, None)
    operations = [c[2] for c in calls]
    assert operations == ["describe_scalable_targets", "register_scalable_target", "update_service"]
    assert (calls[1][3]["MinCapacity"], calls[1][3]["MaxCapacity"]) == (2, 4)
    assert calls[2][3]["desiredCount"] == 2


def test_dial_changes_only_the_named_regions_group_through_us_west_2(
    lambda_module: tuple[Any, Calls, dict[str, Any]],
) -> None:
    module, calls, answers = lambda_module
    answers["globalaccelerator.list_accelerators"] = {
        "Accelerators": [
            {"Name": "other", "AcceleratorArn": "a0"},
            {"Name": "e", "AcceleratorArn": "a1"},
        ]
    }
    answers["globalaccelerator.list_listeners"] = {"Listeners": [{"ListenerArn": "l1"}]}
    answers["globalaccelerator.list_endpoint_groups"] = {
        "EndpointGroups": [
            {"EndpointGroupRegion": "us-east-1", "EndpointGroupArn": "g-p"},
            {"EndpointGroupRegion": "us-west-2", "EndpointGroupArn": "g-r"},
        ]
    }
    event = {
        "action": "dial",
        "accelerator": "e",
        "region": "us-east-1",
        "percent": 0,
        "api_region": "us-west-2",
    }
    module.handler(event, None)
    updates = [c for c in calls if c[2] == "update_endpoint_group"]
    assert updates == [
        (
            "globalaccelerator",
            "us-west-2",
            "update_endpoint_group",
            {"EndpointGroupArn": "g-p", "TrafficDialPercentage": 0.0},
        )
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 1003.5

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_probe_puts_one_point_per_period_on_its_boundary_and_0_when_p_does_not_answer(
    lambda_module: tuple[Any, Calls, dict[str, Any]],
) -> None:
    module, calls, answers = lambda_module
    answers["ecs.describe_services"] = {"services": [{"loadBalancers": [{"targetGroupArn": "tg"}]}]}
    answers["elbv2.describe_target_health"] = {
        "TargetHealthDescriptions": [
            {"TargetHealth": {"State": "healthy"}},
            {"TargetHealth": {"State": "unhealthy"}},
            {"TargetHealth": {"State": "healthy"}},
        ]
    }
    event = {
        "region": "us-east-1",
        "cluster": "c",
        "service": "s",
        "namespace": "drtiers",
        "metric": "PrimaryHealthyTargets",
        "tier": "multi-site",
        "every": 10,
    }
    clock = Clock()
    module.probe(event, clock)
    points = [c[3]["MetricData"][0] for c in calls if c[2] == "put_metric_data"]
    assert [p["Value"] for p in points] == [2.0] * 6
    assert all(p["StorageResolution"] == 1 for p in points)
    assert clock.now == 1060  # six probes, each on a 10 s boundary
    calls.clear()
    answers["ecs.describe_services"] = ConnectionError("us-east-1 does not answer")
    module.probe(event, Clock())
    assert [c[3]["MetricData"][0]["Value"] for c in calls if c[2] == "put_metric_data"] == [0.0] * 6


@pytest.mark.parametrize(
    ("writer", "started"), [(None, True), ("us-east-1", True), ("us-west-2", False)]
)
def test_the_alarm_starts_the_failover_gracefully_unless_already_failed_over(
    lambda_module: tuple[Any, Calls, dict[str, Any]], writer: str | None, started: bool
) -> None:
    module, calls, answers = lambda_module
    answers["dynamodb.get_item"] = {"Item": {"region": {"S": writer}}} if writer else {}
    answers["arc-region-switch.list_plans_in_region"] = {
        "plans": [
            {"name": "other", "arn": "arn:other"},
            {"name": "drtiers-multi-site", "arn": "arn:aws:arc-region-switch::1:plan/x:abc"},
        ]
    }
    event = {
        "action": "start-plan",
        "plan": "drtiers-multi-site",
        "primary_region": "us-east-1",
        "recovery_region": "us-west-2",
        "table": "drtiers-multi-site-table",
    }
    module.handler(event, None)
    starts = [c for c in calls if c[2] == "start_plan_execution"]
    if not started:
        assert starts == []
        return
    ((service, region, _, arguments),) = starts
    assert (service, region) == ("arc-region-switch", "us-west-2")
    assert arguments["planArn"] == "arn:aws:arc-region-switch::1:plan/x:abc"
    assert (arguments["action"], arguments["mode"], arguments["targetRegion"]) == (
        "activate",
        "graceful",  # an ungraceful execution would skip the function steps
        "us-west-2",
    )


def test_an_unknown_action_is_refused(lambda_module: tuple[Any, Calls, dict[str, Any]]) -> None:
    module, _, _ = lambda_module
    with pytest.raises(ValueError, match="unknown action 'reboot'"):
        module.handler({"action": "reboot"}, None)


def test_the_deployed_code_is_this_module() -> None:
    """What the construct deploys inline is the file these tests run."""
    from pathlib import Path

    from drtiers.constructs import region_switch

    source = Path(region_switch.__file__).resolve().parents[1] / "lambdas" / "plan_actions.py"
    assert source.read_text() == region_switch._CODE
    assert "def handler(" in region_switch._CODE


def test_drain_fails_while_the_stacks_queues_hold_messages(
    lambda_module: tuple[Any, Calls, dict[str, Any]],
) -> None:
    """The plan runs a failing step again every minute: draining is failing until empty."""
    module, calls, answers = lambda_module
    prefix = "drtiers-pilot-light-recovery"
    url = f"https://sqs.us-west-2.amazonaws.com/123456789012/{prefix}-WorkQueue-abc"
    answers["sqs.list_queues"] = {"QueueUrls": [url]}
    answers["sqs.get_queue_attributes"] = {
        "Attributes": {
            "ApproximateNumberOfMessages": "3",
            "ApproximateNumberOfMessagesNotVisible": "1",
        }
    }
    event = {"action": "drain", "region": "us-west-2", "prefix": prefix}
    with pytest.raises(RuntimeError, match="4 messages left in 1 queues"):
        module.handler(event, None)
    assert calls[0] == ("sqs", "us-west-2", "list_queues", {"QueueNamePrefix": prefix})
    assert calls[1][2:] == (
        "get_queue_attributes",
        {
            "QueueUrl": url,
            "AttributeNames": [
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        },
    )
    answers["sqs.get_queue_attributes"] = {
        "Attributes": {
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
        }
    }
    assert module.handler(event, None) == {"done": "drain"}
