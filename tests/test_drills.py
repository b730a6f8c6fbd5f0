"""Fault-injection drills: opt-in, one stack per tier above backup-restore, least privilege."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match

from drtiers.assembly.reader import Resource, acknowledgments, read_assembly, template_files
from drtiers.checks.dr import check_tier
from drtiers.checks.drills import Claim, claim_problems, claims, tier_steps
from drtiers.constructs.drills import Drills
from drtiers.core.tiers import APP_TAG, TIER_TAG, TIERS
from drtiers.recovery.steps import Step, schedule
from drtiers.stacks.drills import tier_drills
from tests.conftest import ROOT, Synthesized, context, main_as_the_cli

TIERS_WITH_DRILLS = ("pilot-light", "warm-standby", "multi-site")


@pytest.fixture(scope="module")
def drilled() -> Synthesized:
    return Synthesized(drills="true")


def in_stack(s: Synthesized, tier: str, role: str, type_: str) -> list[Resource]:
    """The resources of one type in the tier's stack of ``role``, as the assembly reader sees
    them (in template order)."""
    stack = f"drtiers-{tier}-{role}"
    return [r for r in s.read(tier).of_type(type_) if r.stack == stack]


def templates(s: Synthesized, tier: str) -> dict[str, Resource]:
    """The tier's experiment templates by their Name tag."""
    return {
        r.prop("Tags", "Name"): r
        for r in in_stack(s, tier, "drills", "AWS::FIS::ExperimentTemplate")
    }


def drill_statements(s: Synthesized, tier: str) -> list[dict[str, Any]]:
    """The statements of the drill role's one policy."""
    (policy,) = in_stack(s, tier, "drills", "AWS::IAM::Policy")
    statements: list[dict[str, Any]] = policy.prop("PolicyDocument", "Statement")
    return statements


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
            "PausePrimaryTableReplication",
            "StopPrimaryTasks",
        ]


@pytest.mark.parametrize("tier", TIERS_WITH_DRILLS)
def test_experiments_target_the_tier_by_tag_and_stop_on_its_alarms(
    drilled: Synthesized, tier: str
) -> None:
    alarm_names = {
        r.prop("AlarmName") for r in in_stack(drilled, tier, "primary", "AWS::CloudWatch::Alarm")
    }
    for name, experiment in templates(drilled, tier).items():
        (target,) = experiment.prop("Targets").values()
        assert target["SelectionMode"] == "ALL"
        primary = {"drtiers:app": "drtiers", "drtiers:tier": tier, "drtiers:role": "primary"}
        assert primary.items() <= target["ResourceTags"].items()
        stops = experiment.prop("StopConditions")
        assert {s["Source"] for s in stops} == {"aws:cloudwatch:alarm"}
        for stop in stops:
            arn = "".join(p if isinstance(p, str) else "" for p in stop["Value"]["Fn::Join"][1])
            assert arn.split(":alarm:")[1] in alarm_names, (name, arn)
    aurora = tier != "pilot-light"
    database = templates(drilled, tier)["FailOverPrimaryDatabase"]
    (action,) = database.prop("Actions").values()
    assert action["ActionId"] == (
        "aws:rds:failover-db-cluster" if aurora else "aws:rds:reboot-db-instances"
    )


def test_the_drill_role_acts_only_on_the_tiers_resources(drilled: Synthesized) -> None:
    for statement in drill_statements(drilled, "warm-standby"):
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        mutating = [
            a for a in actions if not a.split(":")[1].startswith(("Describe", "List", "Get"))
        ]
        named = "*" not in json.dumps(statement["Resource"])
        if mutating:
            assert "Condition" in statement or named, statement  # tag-scoped or named
    (role,) = in_stack(drilled, "warm-standby", "drills", "AWS::IAM::Role")
    trust = role.prop("AssumeRolePolicyDocument", "Statement")[0]
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
    types = {r.type for r in drilled.read(tier).resources if r.stack == primary}
    # No ACL of our own: the app subnets start on their VPC's default ACL, which is not a
    # CloudFormation resource and so carries no tag (neither the tier's nor managedByFIS).
    assert not types & {"AWS::EC2::NetworkAcl", "AWS::EC2::SubnetNetworkAclAssociation"}
    (vpc,) = [r.logical_id for r in in_stack(drilled, tier, "primary", "AWS::EC2::VPC")]
    default_acl = Match.object_equals({"Fn::GetAtt": [vpc, "DefaultNetworkAcl"]})
    (output,) = drilled.template(primary).find_outputs("*", {"Value": default_acl})
    arn = "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:"
    primary_tags = {"drtiers:app": "drtiers", "drtiers:tier": tier, "drtiers:role": "primary"}
    subnet = (f"{arn}subnet/subnet-0app", primary_tags)
    cut_off = (f"{arn}network-acl/acl-0fis", {"managedByFIS": "true"})
    original = (f"{arn}network-acl/<{primary}.{output}>", {})
    other_acl = (f"{arn}network-acl/acl-0another", {})
    statements = drill_statements(drilled, tier)
    replace = "ec2:ReplaceNetworkAclAssociation"
    # Start: subnet -> the ACL FIS creates. End: subnet -> its original ACL, else P stays cut off.
    for resource in (subnet, cut_off, original):
        assert _allows(statements, replace, *resource), resource[0]
    assert not _allows(statements, replace, *other_acl)
    assert not _allows(statements, replace, f"{arn}subnet/subnet-0other", {})
    other_app = {**primary_tags, "drtiers:app": "other"}  # the same tier of another app
    assert not _allows(statements, replace, f"{arn}subnet/subnet-0otherapp", other_app)


@pytest.mark.parametrize("tier", TIERS_WITH_DRILLS)
def test_the_drill_role_tags_network_acls_only_as_it_creates_them(
    drilled: Synthesized, tier: str
) -> None:
    # Else it could mark any ACL (the default one, another VPC's) managedByFIS and then delete it.
    tagging = [
        s
        for s in drill_statements(drilled, tier)
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
            drills=tier_drills(TIERS["pilot-light"], app="drtiers"),
            scope_tags={APP_TAG: "drtiers", TIER_TAG: "pilot-light"},
            stop_alarm_arns=["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"],
        )


def test_tasks_carry_the_tags_the_drills_select_by(synthesized: Synthesized) -> None:
    primary = synthesized.template("drtiers-pilot-light-primary")
    primary.resource_count_is("AWS::ECS::Service", 1)
    primary.has_resource_properties("AWS::ECS::Service", {"PropagateTags": "SERVICE"})


def test_the_runbook_names_the_drills_that_rehearse_each_step(
    drilled: Synthesized, tmp_path: Path
) -> None:
    from drtiers.report.build import write_reports

    directory = Path(drilled.assembly.directory)
    write_reports(directory, tmp_path, context(drills="true"), "pilot-light")
    text = (tmp_path / "pilot-light.md").read_text()
    failover = text.split("## Failover runbook")[1].split("## Failback")[0]
    lines = [line for line in failover.splitlines() if line[:1].isdigit()]
    detect = next(line for line in lines if "Route 53 health checks see" in line)
    assert "drills: DisruptPrimarySubnets)" in detect
    promote = next(line for line in lines if "Promote the cross-region read replica" in line)
    assert "drills: none (FIS has no cross-region promotion: rehearse it by executing" in promote
    # Stopping tasks once rehearses no step; nothing claims scale-out or the traffic steps.
    assert "StopPrimaryTasks" not in failover
    for line in lines:
        if "Deploy the recovery stack failed over" in line or "Clients follow" in line:
            assert "drills:" not in line, line


def test_the_runbook_shows_no_drills_when_none_were_synthesized(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    from drtiers.report.build import write_reports

    directory = Path(synthesized.assembly.directory)
    write_reports(directory, tmp_path, context(), "multi-site")
    text = (tmp_path / "multi-site.md").read_text()
    assert "drills: " not in text
    assert "Drills: synthesize with `--context drills=true`" in text


def _claims(drilled: Synthesized, tier: str) -> dict[str, Claim]:
    assembly = read_assembly(Path(drilled.assembly.directory))[tier]
    return {c.drill: c for _, c in claims(assembly)}


def _steps(drilled: Synthesized, tier: str) -> list[Step]:
    return tier_steps(read_assembly(Path(drilled.assembly.directory))[tier])


@pytest.mark.parametrize("tier", TIERS_WITH_DRILLS)
def test_each_drill_claims_steps_of_its_tiers_own_list(drilled: Synthesized, tier: str) -> None:
    found = _claims(drilled, tier)
    accelerated = tier == "multi-site"
    assert found["DisruptPrimarySubnets"].exercises == (
        ("detect", "accelerator-shift") if accelerated else ("detect",)
    )
    assert found["DisruptPrimarySubnets"].seconds == 300
    for name in ("StopPrimaryTasks", "FailOverPrimaryDatabase", "PausePrimaryTableReplication"):
        assert found[name].exercises == (), name
    steps = _steps(drilled, tier)
    names = {s.name for s in steps}
    for claim in found.values():
        assert set(claim.exercises) <= names
        assert claim_problems(claim, steps) == [], claim
    # The gate that runs at every synth and in make check finds nothing either.
    assembly = read_assembly(Path(drilled.assembly.directory))[tier]
    assert [f for f in check_tier(assembly) if f.rule.id == "DR-DrillsRehearse"] == []


@pytest.mark.parametrize(
    ("tier", "detect_seconds"), [("pilot-light", 90), ("warm-standby", 90), ("multi-site", 30)]
)
def test_detection_is_read_from_the_template(
    drilled: Synthesized, tier: str, detect_seconds: int
) -> None:
    # Route 53: RequestInterval x FailureThreshold; the accelerator: the target group's
    # HealthCheckIntervalSeconds x UnhealthyThresholdCount.
    (detect,) = [s for s in _steps(drilled, tier) if s.name == "detect"]
    assert detect.seconds == detect_seconds
    if tier == "multi-site":
        (group,) = in_stack(drilled, tier, "primary", "AWS::ElasticLoadBalancingV2::TargetGroup")
        interval = group.prop("HealthCheckIntervalSeconds")
        assert interval * group.prop("UnhealthyThresholdCount") == 30
    else:
        checks = in_stack(drilled, tier, "edge", "AWS::Route53::HealthCheck")
        configs = [c.prop("HealthCheckConfig") for c in checks]
        (config,) = [c for c in configs if c["Type"] == "HTTPS"] or [
            c for c in configs if c["Type"] == "HTTP"
        ]
        assert config["RequestInterval"] * config["FailureThreshold"] == 90


@pytest.mark.parametrize("tier", TIERS_WITH_DRILLS)
def test_a_fault_shorter_than_detection_fails_the_check(drilled: Synthesized, tier: str) -> None:
    steps = _steps(drilled, tier)
    disrupt = _claims(drilled, tier)["DisruptPrimarySubnets"]
    needed = 2 * max(t.end for t in schedule(steps) if t.step.name in disrupt.exercises)
    too_short = replace(disrupt, seconds=needed - 1)
    (problem,) = claim_problems(too_short, steps)
    assert f"must last at least {needed:g} s" in problem
    assert claim_problems(replace(disrupt, seconds=needed), steps) == []
    # A fault that acts once (a task stop) cannot claim detection at all.
    once = replace(_claims(drilled, tier)["StopPrimaryTasks"], exercises=("detect",))
    (problem,) = claim_problems(once, steps)
    assert "acts once and holds nothing" in problem


@pytest.mark.parametrize("tier", TIERS_WITH_DRILLS)
def test_a_drill_naming_a_step_the_tier_lacks_fails_the_check(
    drilled: Synthesized, tier: str
) -> None:
    steps = _steps(drilled, tier)
    stale = Claim("StopPrimaryTasks", ("detection", "traffic shift"), 300)
    problems = claim_problems(stale, steps)
    assert len(problems) == 2
    assert all("which the tier's failover step list does not have" in p for p in problems)
    # A step the fault does not bring about: Route 53 moves traffic only after people declare R
    # the writer; the accelerator's dial is set by a person.
    waits = "dns-ttl" if tier != "multi-site" else "hold-primary"
    problems = claim_problems(Claim("DisruptPrimarySubnets", ("detect", waits), 3600), steps)
    assert problems and all(waits in p for p in problems)


def test_a_broken_drill_fails_the_synth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rule runs where `cdk synth` runs it: entry.main, with its customize hook breaking
    two synthesized experiments on purpose (a stale step name, a fault shorter than detection)."""
    from aws_cdk import aws_fis as fis

    def customize(app: App) -> None:
        for node in app.node.find_all():
            if isinstance(node, fis.CfnExperimentTemplate) and node.stack.stack_name.endswith(
                "pilot-light-drills"
            ):
                if node.node.id == "StopPrimaryTasks":
                    node.add_property_override("Tags.drtiers:exercises", "detection")
                if node.node.id == "DisruptPrimarySubnets":
                    node.add_property_override(
                        "Actions.DisruptPrimarySubnets.Parameters.duration", "PT1M"
                    )

    # As `cdk synth --context drills=true --context tier=pilot-light` would give it (the CLI
    # passes context and the output directory through the environment of a new process).
    given = context(drills="true", tier="pilot-light")
    assert main_as_the_cli(monkeypatch, given, tmp_path, customize) == 2
    text = capsys.readouterr().err
    assert "DR-DrillsRehearse on drtiers-pilot-light-drills/DrillsStopPrimaryTasks" in text
    assert "names the step 'detection'" in text
    assert "lasts 60 s" in text and "must last at least 180 s" in text
    assert not template_files(tmp_path)  # a rejected tier leaves nothing behind


@pytest.mark.parametrize(
    ("exercises", "parameters", "message"),
    [
        (("traffic shift",), {}, "name steps of the step list"),
        (("detect", "detect"), {}, "names a step twice"),
        ((), {"duration": "5 minutes"}, "not an ISO 8601 duration"),
    ],
)
def test_bad_drills_are_refused_at_construction(
    exercises: tuple[str, ...], parameters: dict[str, str], message: str
) -> None:
    (drill, *_) = tier_drills(TIERS["multi-site"], app="drtiers")
    with pytest.raises(ValueError, match=message):
        Drills(
            Stack(App(), "Test"),
            "Drills",
            drills=[replace(drill, exercises=exercises, parameters=parameters)],
            scope_tags={APP_TAG: "drtiers", TIER_TAG: "multi-site"},
            stop_alarm_arns=["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"],
        )


@pytest.mark.parametrize("tier", TIERS_WITH_DRILLS)
def test_each_experiment_leaves_the_system_as_it_found_it(drilled: Synthesized, tier: str) -> None:
    experiments = templates(drilled, tier)
    statements = drill_statements(drilled, tier)
    granted = {
        a
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    # Stopped tasks: the service replaces them at its desired count, which the role cannot touch.
    (service,) = in_stack(drilled, tier, "primary", "AWS::ECS::Service")
    assert service.prop("DesiredCount") >= 1
    assert not {
        a for a in granted if a.startswith(("ecs:Update", "ecs:Delete", "application-autoscaling:"))
    }
    # Cut-off subnets: a duration, and the ACL FIS made is deletable (the way back is tested above).
    (action,) = experiments["DisruptPrimarySubnets"].prop("Actions").values()
    assert action["Parameters"]["duration"] == "PT5M"
    assert "ec2:DeleteNetworkAcl" in granted
    # Failed-over database: still Multi-AZ afterwards (Aurora: another instance to fail to).
    instances = in_stack(drilled, tier, "primary", "AWS::RDS::DBInstance")
    if tier == "pilot-light":
        (instance,) = [r for r in instances if not r.prop("DBClusterIdentifier")]
        assert instance.prop("MultiAZ") is True
    else:
        members = [r for r in instances if r.prop("DBClusterIdentifier")]
        assert len(members) >= 2
    # Paused replication: FIS deletes its statement at the end; the table has no policy of ours
    # that the pause could overwrite, and the role can only touch this tier's tagged replicas.
    (action,) = experiments["PausePrimaryTableReplication"].prop("Actions").values()
    assert action["ActionId"] == "aws:dynamodb:global-table-pause-replication"
    assert action["Parameters"] == {"duration": "PT10M"}
    (target,) = experiments["PausePrimaryTableReplication"].prop("Targets").values()
    assert target["ResourceType"] == "aws:dynamodb:global-table"
    tables = in_stack(drilled, tier, "primary", "AWS::DynamoDB::GlobalTable")
    assert len(tables) == 2  # the workload's and drtiers' control table: both paused
    for table in tables:
        replicas = table.prop("Replicas")
        assert {r["Region"] for r in replicas} == {"us-east-1", "us-west-2"}
        assert not any("ResourcePolicy" in r for r in replicas)
        for replica in replicas:
            tags = {t["Key"]: t["Value"] for t in replica["Tags"]}
            assert tags["drtiers:tier"] == tier and tags["drtiers:role"] == "primary"
            assert tags["drtiers:app"] == "drtiers"
    (dynamo,) = [s for s in statements if "dynamodb:DeleteResourcePolicy" in s["Action"]]
    assert dynamo["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/drtiers:app": "drtiers",
            "aws:ResourceTag/drtiers:tier": tier,
        }
    }


def test_stop_conditions_are_alarms_in_the_experiments_region(drilled: Synthesized) -> None:
    for tier in TIERS_WITH_DRILLS:
        region = drilled.tiers[tier].drills.region  # type: ignore[union-attr]
        for experiment in templates(drilled, tier).values():
            for stop in experiment.prop("StopConditions"):
                parts = stop["Value"]["Fn::Join"][1]
                text = "".join(p if isinstance(p, str) else "" for p in parts)
                assert f":cloudwatch:{region}:" in text


def _acknowledgment_rows(directory: Path) -> list[str]:
    """README's table of acknowledgments: one row per checker, rule and reason, with how many
    resources it is on, the most first."""
    counted = Counter(
        (checker, rule, reason) for _, _, checker, rule, reason in acknowledgments(directory)
    )
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return [f"| {c} | `{rule}` | {n} | {reason} |" for (c, rule, reason), n in ordered]


def test_the_readmes_acknowledgments_are_the_templates(drilled: Synthesized) -> None:
    """Every acknowledgment `make check` counts (all four tiers, drill stacks too), in the README
    as the templates record it: a row added, changed or gone there fails here."""
    readme = ROOT.joinpath("README.md").read_text().split("Acknowledged, each on the one", 1)[1]
    table = readme.split("\n\n", 2)[1].splitlines()[2:]  # past the heading and its rule
    expected = _acknowledgment_rows(drilled.directory)
    assert table == expected, "README should read:\n" + "\n".join(expected)
