"""Fault-injection drills: opt-in, one stack per tier above backup-restore, least privilege."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack

from drtiers.constructs.drills import Drills
from drtiers.stacks.drills import tier_drills
from drtiers.tiers import TIER_TAG, TIERS
from tests.conftest import Synthesized, context

TIERS_WITH_DRILLS = ("pilot-light", "warm-standby", "multi-site")


@pytest.fixture(scope="module")
def drilled() -> Synthesized:
    return Synthesized(drills="true")


def templates(s: Synthesized, tier: str) -> dict[str, dict[str, Any]]:
    resources = s.json(f"drtiers-{tier}-drills")["Resources"]
    return {
        r["Properties"]["Tags"]["Name"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::FIS::ExperimentTemplate"
    }


def test_drills_are_absent_by_default(synthesized: Synthesized) -> None:
    for stacks in synthesized.tiers.values():
        assert stacks.drills is None


def test_three_tiers_get_a_drill_stack(drilled: Synthesized) -> None:
    assert drilled.tiers["backup-restore"].drills is None
    for tier in TIERS_WITH_DRILLS:
        stack = drilled.tiers[tier].drills
        assert stack is not None and stack.region == "us-east-1"
        assert sorted(templates(drilled, tier)) == [
            "DisruptPrimarySubnets",
            "FailOverPrimaryDatabase",
            "StopPrimaryTasks",
        ]


@pytest.mark.parametrize("tier", TIERS_WITH_DRILLS)
def test_experiments_target_the_tier_by_tag_and_stop_on_its_alarms(
    drilled: Synthesized, tier: str
) -> None:
    alarm_names = {
        r["Properties"]["AlarmName"]
        for r in drilled.json(f"drtiers-{tier}-primary")["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    for name, experiment in templates(drilled, tier).items():
        (target,) = experiment["Targets"].values()
        assert target["SelectionMode"] == "ALL"
        assert target["ResourceTags"]["drtiers:tier"] == tier
        assert target["ResourceTags"]["drtiers:role"] == "primary"
        stops = experiment["StopConditions"]
        assert {s["Source"] for s in stops} == {"aws:cloudwatch:alarm"}
        for stop in stops:
            arn = "".join(p if isinstance(p, str) else "" for p in stop["Value"]["Fn::Join"][1])
            assert arn.split(":alarm:")[1] in alarm_names, (name, arn)
    aurora = tier != "pilot-light"
    database = templates(drilled, tier)["FailOverPrimaryDatabase"]
    (action,) = database["Actions"].values()
    assert action["ActionId"] == (
        "aws:rds:failover-db-cluster" if aurora else "aws:rds:reboot-db-instances"
    )


def test_the_drill_role_acts_only_on_the_tiers_resources(drilled: Synthesized) -> None:
    resources = drilled.json("drtiers-warm-standby-drills")["Resources"]
    (policy,) = [r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"]
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        mutating = [
            a for a in actions if not a.split(":")[1].startswith(("Describe", "List", "Get"))
        ]
        named = "*" not in json.dumps(statement["Resource"])
        if mutating:
            assert "Condition" in statement or named, statement  # tag-scoped or named
    (role,) = [r for r in resources.values() if r["Type"] == "AWS::IAM::Role"]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "fis.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]


def _text(value: Any) -> str:
    """A policy resource as text: Refs and stack outputs as <placeholders>, wildcards kept."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetStackOutput" in value:
        output = value["Fn::GetStackOutput"]
        return f"<{output['StackName']}.{output['OutputName']}>"
    separator, parts = value["Fn::Join"]
    return str(separator).join(_text(part) for part in parts)


def _allows(statements: list[dict[str, Any]], action: str, arn: str, tags: dict[str, str]) -> bool:
    """Whether an Allow statement grants ``action`` on the resource ``arn`` carrying ``tags``
    (resource-tag conditions only; any other condition counts as unmet)."""
    for statement in statements:
        actions = statement["Action"]
        resources = statement["Resource"]
        if action not in (actions if isinstance(actions, list) else [actions]):
            continue
        patterns = [_text(r) for r in (resources if isinstance(resources, list) else [resources])]
        if not any(fnmatchcase(arn, pattern) for pattern in patterns):
            continue
        conditions = statement.get("Condition", {})
        if set(conditions) - {"StringEquals"}:
            continue
        wanted = conditions.get("StringEquals", {})
        if all(
            key.startswith("aws:ResourceTag/") and tags.get(key.split("/", 1)[1]) == value
            for key, value in wanted.items()
        ):
            return True
    return False


@pytest.mark.parametrize("tier", TIERS_WITH_DRILLS)
def test_the_network_drill_can_give_the_subnets_their_network_acl_back(
    drilled: Synthesized, tier: str
) -> None:
    primary = f"drtiers-{tier}-primary"
    template = drilled.json(primary)
    types = {r["Type"] for r in template["Resources"].values()}
    # No ACL of our own: the app subnets start on their VPC's default ACL, which is not a
    # CloudFormation resource and so carries no tag (neither the tier's nor managedByFIS).
    assert not types & {"AWS::EC2::NetworkAcl", "AWS::EC2::SubnetNetworkAclAssociation"}
    (vpc,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::EC2::VPC"]
    (output,) = [
        name
        for name, o in template.get("Outputs", {}).items()
        if o["Value"] == {"Fn::GetAtt": [vpc, "DefaultNetworkAcl"]}
    ]
    arn = "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:"
    subnet = (f"{arn}subnet/subnet-0app", {"drtiers:tier": tier, "drtiers:role": "primary"})
    cut_off = (f"{arn}network-acl/acl-0fis", {"managedByFIS": "true"})
    original = (f"{arn}network-acl/<{primary}.{output}>", {})
    other_acl = (f"{arn}network-acl/acl-0another", {})
    resources = drilled.json(f"drtiers-{tier}-drills")["Resources"]
    (policy,) = [r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    replace = "ec2:ReplaceNetworkAclAssociation"
    # Start: subnet -> the ACL FIS creates. End: subnet -> its original ACL, else P stays cut off.
    for resource in (subnet, cut_off, original):
        assert _allows(statements, replace, *resource), resource[0]
    assert not _allows(statements, replace, *other_acl)
    assert not _allows(statements, replace, f"{arn}subnet/subnet-0other", {})


@pytest.mark.parametrize("tier", TIERS_WITH_DRILLS)
def test_the_drill_role_tags_network_acls_only_as_it_creates_them(
    drilled: Synthesized, tier: str
) -> None:
    # Else it could mark any ACL (the default one, another VPC's) managedByFIS and then delete it.
    resources = drilled.json(f"drtiers-{tier}-drills")["Resources"]
    (policy,) = [r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"]
    tagging = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "ec2:CreateTags" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    assert tagging
    for statement in tagging:
        assert statement["Condition"]["StringEquals"] == {
            "ec2:CreateAction": "CreateNetworkAcl",
            "aws:RequestTag/managedByFIS": "true",
        }


def test_a_network_drill_needs_the_acls_to_restore() -> None:
    with pytest.raises(ValueError, match="DisruptPrimarySubnets cut subnets off"):
        Drills(
            Stack(App(), "Test"),
            "Drills",
            drills=tier_drills(TIERS["pilot-light"]),
            tier_tag=(TIER_TAG, "pilot-light"),
            stop_alarm_arns=["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"],
        )


def test_tasks_carry_the_tags_the_drills_select_by(synthesized: Synthesized) -> None:
    resources = synthesized.json("drtiers-pilot-light-primary")["Resources"]
    (service,) = [r for r in resources.values() if r["Type"] == "AWS::ECS::Service"]
    assert service["Properties"]["PropagateTags"] == "SERVICE"


def test_the_runbook_names_the_drill_for_each_step(drilled: Synthesized, tmp_path: Path) -> None:
    from drtiers.report.build import write_reports

    write_reports(Path(drilled.assembly.directory), tmp_path, context(drills="true"), "pilot-light")
    text = (tmp_path / "pilot-light.md").read_text()
    failover = text.split("## Failover runbook")[1].split("## Failback")[0]
    assert "drills: DisruptPrimarySubnets, StopPrimaryTasks" in failover  # detection
    assert "drills: none (FIS has no cross-region promotion" in failover  # promotion
    assert "expected 2.0 min; drills: StopPrimaryTasks" in failover  # scale-out
