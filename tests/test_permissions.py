"""IAM as the model reads it: action names from the IAM catalogue, statements evaluated as IAM
does, AWS's per-block needs of a Region switch plan, and the rule that catches a mistyped
action in a synthesized tier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drtiers.assembly.reader import copy_assembly, edit_template, read_assembly
from drtiers.checks.dr import RULES, check_tier
from drtiers.core.permissions import allowed, block_needs, known_action
from tests.conftest import Synthesized


@pytest.mark.parametrize(
    ("action", "known"),
    [
        ("ecs:ListTasks", True),
        ("ECS:listtasks", True),  # IAM compares action names without case
        ("ecs:List*", True),
        ("arc-region-switch:ListPlansInRegion", True),
        ("ecs:ListTask", False),
        ("ecz:ListTasks", False),
        ("rds:Promote*Replica", True),
        ("rds:PromoteReplica*", False),
    ],
)
def test_action_names_come_from_the_iam_catalogue(action: str, known: bool) -> None:
    assert known_action(action) is known


SERVICE = "arn:aws:ecs:us-west-2:123456789012:service/c/s"


def test_statements_are_evaluated_as_iam_does() -> None:
    allow = {
        "Effect": "Allow",
        "Action": ["ecs:Describe*", "ecs:UpdateService"],
        "Resource": SERVICE,
    }
    assert allowed([allow], "ecs:UpdateService", SERVICE)
    assert allowed([allow], "ECS:DescribeServices", SERVICE)
    assert not allowed([allow], "ecs:UpdateService", SERVICE.replace("/s", "/t"))
    assert not allowed([allow], "ecs:ListTasks", SERVICE)  # implicitly denied
    deny = {"Effect": "Deny", "Action": "ecs:*", "Resource": "*"}
    assert not allowed([allow, deny], "ecs:UpdateService", SERVICE)  # an explicit deny wins
    everything_but = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:ecs:*"}
    assert allowed([everything_but], "ecs:ListTasks", SERVICE)
    assert not allowed([everything_but], "iam:PassRole", SERVICE)
    opaque = {"Effect": "Allow", "Action": "ecs:*", "Resource": {"Fn::GetAtt": ["S", "Arn"]}}
    assert not allowed([opaque], "ecs:UpdateService", SERVICE)  # what it names is not known


def test_the_ecs_blocks_wait_needs_what_aws_says() -> None:
    plain = block_needs("ECSServiceScaling")
    waiting = block_needs("ECSServiceScaling", {"WaitELBTargetGroupHealthy"})
    assert plain is not None and waiting is not None
    assert set(waiting.actions) - set(plain.actions) == {
        "ecs:ListTasks",
        "ecs:DescribeTasks",
        "elasticloadbalancing:DescribeTargetHealth",
    }
    assert waiting.quotes == (
        "If waitELBTargetGroupHealthy option is disabled, you can omit these permissions",
    )
    assert waiting.url.startswith("https://docs.aws.amazon.com/r53recovery/")
    assert block_needs("NoSuchBlock") is None


def test_every_action_aws_lists_for_a_block_is_in_the_catalogue() -> None:
    data = json.loads(
        (Path(__file__).parent.parent / "drtiers/core/block_permissions.json").read_text()
    )
    listed = {
        a
        for spec in data["blocks"].values()
        for a in spec["actions"]
        + spec["on_resources"]
        + [x for option in spec["options"].values() for x in option["actions"]]
    }
    assert listed and all(known_action(a) for a in listed), sorted(
        a for a in listed if not known_action(a)
    )


def test_a_mistyped_action_in_a_synthesized_policy_is_a_finding(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    rule = tuple(r for r in RULES if r.id == "DR-IamActionsExist")
    clean = read_assembly(synthesized.directory)["warm-standby"]
    assert check_tier(clean, rule) == []
    directory = copy_assembly(synthesized.directory, tmp_path / "out")

    def mistype(resources: dict[str, Any]) -> None:
        (policy,) = [
            r
            for r in resources.values()
            if r["Type"] == "AWS::IAM::Policy" and "ExecutionRole" in json.dumps(r)
        ]
        policy["Properties"]["PolicyDocument"]["Statement"][0]["Action"] = "ecs:ListTask"

    edit_template(directory, "drtiers-warm-standby-plan", mistype)
    (finding,) = check_tier(read_assembly(directory)["warm-standby"], rule)
    assert "ecs:ListTask is no IAM action" in str(finding)
    assert finding.where.startswith("drtiers-warm-standby-plan/RegionSwitchExecutionRole")
