"""Events routed to the tier's topic: the rules match AWS's own sample events, write one line
from fields those events have, and can deliver to an encrypted topic; every tier routes them
in both regions (DR-PeopleAreTold)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from drtiers.assembly.notices import notices
from drtiers.assembly.reader import TierAssembly
from drtiers.checks.dr import people_are_told
from drtiers.constructs.events import EventRoutes, one_line
from drtiers.core.tiers import TIERS
from tests.conftest import Synthesized

SAMPLES = Path(__file__).parent / "fixtures" / "events"
DB_ARN = "arn:aws:rds:us-east-1:123456789012:db:my-db-instance"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def matches(pattern: Any, event: Any) -> bool:
    """EventBridge's matching for the pattern forms drtiers writes: a field's list of values
    (any one equal, or any element of a list field) and nested fields."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(
            key in event and matches(value, event[key]) for key, value in pattern.items()
        )
    values = event if isinstance(event, list) else [event]
    return any(v in pattern for v in values)


def field(event: Any, path: str) -> Any:
    """A JSONPath of the simple form EventBridge's input paths use ($.a.b[0].c)."""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.removeprefix("$.")):
        event = event[int(part[1:-1])] if part.startswith("[") else event[part]
    return event


def render(transformer: dict[str, Any], event: dict[str, Any]) -> str:
    """What the topic receives: the template with each path's value, as EventBridge fills a
    template that is a JSON string."""
    text = transformer["InputTemplate"]
    for key, path in transformer["InputPathsMap"].items():
        text = text.replace(f"<{key}>", str(field(event, path)))
    return json.loads(text)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def routed() -> dict[str, Any]:
    stack = cdk.Stack(cdk.App(), "Test", env={"account": "123456789012", "region": "us-east-1"})
    key = kms.Key(stack, "Key")
    topic = sns.Topic(stack, "Topic", master_key=key)
    routes = EventRoutes(stack, "Events", topic=topic, key=key, label="app-tier us-east-1")
    routes.database([DB_ARN])
    routes.plan_executions("app-tier-plan-executions")
    return cdk.assertions.Template.from_stack(stack).to_json()["Resources"]  # type: ignore[no-any-return]


def rule(resources: dict[str, Any], name: str) -> dict[str, Any]:
    found = [r for i, r in resources.items() if i.startswith(f"Events{name}")]
    assert len(found) == 1, name
    return found[0]["Properties"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("name", "event", "expected"),
    [
        (
            "Database",
            "rds-instance-failover",
            "app-tier us-east-1: RDS rds:my-db-instance: A Multi-AZ failover has completed. "
            "(RDS-EVENT-0049)",
        ),
        (
            "Health",
            "health-public-issue",
            "app-tier us-east-1: AWS Health issue open: EC2 AWS_EC2_OPERATIONAL_ISSUE in "
            "us-east-1 (arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/"
            "AWS_EC2_OPERATIONAL_ISSUE_7f35c8ae-af1f-54e6-a526-d0179ed6d68f)",
        ),
        (
            "PlanExecutions",
            "region-switch-execution",
            "app-tier us-east-1: ARC Region Switch Plan Execution at 2026-12-05T10:00:00Z: "
            "open the plan's executions in the ARC console",
        ),
    ],
)
def test_each_rule_matches_aws_sample_and_writes_one_line(
    routed: dict[str, Any], name: str, event: str, expected: str
) -> None:
    props = rule(routed, name)
    aws_event = sample(event)
    assert matches(props["EventPattern"], aws_event)
    (target,) = props["Targets"]
    assert "RoleArn" not in target  # AWS: no role for an SNS target with a KMS key
    assert render(target["InputTransformer"], aws_event) == expected


def test_rules_leave_out_other_databases_and_maintenance(routed: dict[str, Any]) -> None:
    other = sample("rds-instance-failover")
    other["detail"]["SourceArn"] = DB_ARN.replace("my-db-instance", "another-db")
    assert not matches(rule(routed, "Database")["EventPattern"], other)
    scheduled = sample("health-public-issue")
    scheduled["detail"]["eventTypeCategory"] = "scheduledChange"
    assert not matches(rule(routed, "Health")["EventPattern"], scheduled)


def test_eventbridge_may_publish_to_the_topic_and_use_its_key(routed: dict[str, Any]) -> None:
    (policy,) = [r for r in routed.values() if r["Type"] == "AWS::SNS::TopicPolicy"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {
        "Action": "sns:Publish",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Resource": {"Ref": next(i for i, r in routed.items() if r["Type"] == "AWS::SNS::Topic")},
        "Sid": "EventBridgePublishes",
    } in statements
    (key,) = [r for r in routed.values() if r["Type"] == "AWS::KMS::Key"]
    assert {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Resource": "*",
        "Sid": "EventBridgeToEncryptedTopics",
    } in key["Properties"]["KeyPolicy"]["Statement"]


def test_one_line_names_each_path_once() -> None:
    transformer = one_line("<$.detail.a> and <$.detail.a> then <$.time>")
    assert transformer == {
        "InputPathsMap": {"detail-a": "$.detail.a", "time": "$.time"},
        "InputTemplate": '"<detail-a> and <detail-a> then <time>"',
    }


@pytest.mark.parametrize("name", list(TIERS))
def test_every_tier_tells_its_people_in_both_regions(synthesized: Synthesized, name: str) -> None:
    tier = synthesized.read(name)
    assert people_are_told(tier, TIERS[name]) == []
    told = {(n.rule.region, source) for n in notices(tier) if n.arrives for source in n.sources}
    standby = TIERS[name].has_recovery_stack  # a database and a plan in R before the event
    assert (tier.primary_region, "aws.health") in told
    assert (tier.recovery_region, "aws.health") in told
    assert (tier.primary_region, "aws.rds") in told  # the default workload has a database
    assert ((tier.recovery_region, "aws.rds") in told) == standby
    # a plan runs from the region it activates: failover from R, failback from P
    assert ((tier.recovery_region, "aws.arc-region-switch") in told) == standby
    assert ((tier.primary_region, "aws.arc-region-switch") in told) == standby


def _without_event_grant(tier: TierAssembly) -> TierAssembly:
    """The tier with every key's EventBridge statement gone."""
    broken = copy.deepcopy(tier)
    for key in broken.of_type("AWS::KMS::Key"):
        statements = key.properties["KeyPolicy"]["Statement"]
        statements[:] = [s for s in statements if s.get("Sid") != "EventBridgeToEncryptedTopics"]
    return broken


def test_a_key_eventbridge_cannot_use_silences_every_region(synthesized: Synthesized) -> None:
    tier = synthesized.read("warm-standby")
    found = people_are_told(_without_event_grant(tier), TIERS["warm-standby"]) or []
    assert {v.detail for v in found if v.resource is None} == {
        f"no AWS Health rule in {r} reaches a topic EventBridge may use"
        for r in (tier.primary_region, tier.recovery_region)
    }
    assert any(
        v.resource is not None and v.resource.type == "AWS::ARCRegionSwitch::Plan" for v in found
    )
