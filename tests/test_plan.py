"""The ARC Region switch plan: rendered from the step list, placed in the recovery region, its
objective the estimate's RTO, and executed by the simulator as synthesized, so that a change to
the step list shows in the plan and in the simulation."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from drtiers.assess import assess_assembly
from drtiers.build import build_app, synthesize
from drtiers.recovery import Simulation, simulate_assembly
from drtiers.recovery import plan as rendering
from drtiers.recovery import steps as s
from tests.conftest import context

PLANNED = ("pilot-light", "warm-standby", "multi-site")
Plan = dict[str, Any]


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plans")
    build_app(out, context(tier="")).synth()
    return out


def plan_of(directory: Path, tier: str) -> Plan:
    template = json.loads((directory / f"drtiers-{tier}-plan.template.json").read_text())
    (plan,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ARCRegionSwitch::Plan"
    ]
    return plan


def steps_of(plan: Plan, action: str, region: str) -> list[dict[str, Any]]:
    """A workflow's steps, parallel ones flattened, in order."""
    for workflow in plan["Workflows"]:
        if (workflow["WorkflowTargetAction"], workflow["WorkflowTargetRegion"]) == (action, region):
            flat = []
            for step in workflow["Steps"]:
                if step["ExecutionBlockType"] == "Parallel":
                    flat += step["ExecutionBlockConfiguration"]["ParallelConfig"]["Steps"]
                else:
                    flat.append(step)
            return flat
    return []


def test_backup_restore_has_no_plan(assembly: Path) -> None:
    assert not (assembly / "drtiers-backup-restore-plan.template.json").exists()


@pytest.mark.parametrize("tier", PLANNED)
def test_the_plan_lives_in_the_recovery_region_and_reads_nothing_of_another(
    assembly: Path, tier: str
) -> None:
    manifest = json.loads((assembly / "manifest.json").read_text())
    environment = manifest["artifacts"][f"drtiers-{tier}-plan"]["environment"]
    assert environment.endswith("/us-west-2")
    text = (assembly / f"drtiers-{tier}-plan.template.json").read_text()
    assert "Fn::GetStackOutput" not in text and "Fn::ImportValue" not in text
    plan = plan_of(assembly, tier)
    assert plan["Regions"] == ["us-east-1", "us-west-2"]
    assert plan["PrimaryRegion"] == "us-east-1"


@pytest.mark.parametrize("tier", PLANNED)
def test_the_plans_objective_is_the_estimated_rto(assembly: Path, tier: str) -> None:
    (estimate,) = [e for e in assess_assembly(assembly) if e.tier == tier]
    assert plan_of(assembly, tier)["RecoveryTimeObjectiveMinutes"] == math.ceil(
        estimate.rto_seconds / 60
    )


@pytest.mark.parametrize("tier", PLANNED)
def test_failback_activates_the_primary_after_a_persons_approval(assembly: Path, tier: str) -> None:
    back = steps_of(plan_of(assembly, tier), "activate", "us-east-1")
    assert back[0]["ExecutionBlockType"] == "ManualApproval"
    kinds = [x["ExecutionBlockType"] for x in back]
    database = kinds.index(
        "AuroraGlobalDatabase" if tier != "pilot-light" else "RdsPromoteReadReplica"
    )
    declare = next(
        i
        for i, x in enumerate(back)
        if x["ExecutionBlockType"] == "CustomActionLambda"
        and json.loads(
            x["ExecutionBlockConfiguration"]["CustomActionLambdaConfig"]["Lambdas"][0]["Payload"]
        )["action"]
        == "declare"
    )  # traffic follows the declaration: only once the database is back
    assert database < declare


@pytest.mark.parametrize(
    ("tier", "database", "approval"),
    [
        ("pilot-light", "RdsPromoteReadReplica", True),
        ("warm-standby", "AuroraGlobalDatabase", True),
        ("multi-site", "AuroraGlobalDatabase", False),  # automatic: the plan's trigger
    ],
)
def test_failover_activates_the_recovery_region(
    assembly: Path, tier: str, database: str, approval: bool
) -> None:
    over = steps_of(plan_of(assembly, tier), "activate", "us-west-2")
    kinds = [x["ExecutionBlockType"] for x in over]
    assert database in kinds
    assert ("ManualApproval" in kinds) is approval
    if approval:
        assert kinds.index("ManualApproval") < kinds.index(database)
    if tier != "multi-site":
        assert "ECSServiceScaling" in kinds
    aurora = next(x for x in over if x["ExecutionBlockType"] == database)
    if database == "AuroraGlobalDatabase":
        # Run gracefully (function steps are skipped otherwise), so the block fails over itself.
        config = aurora["ExecutionBlockConfiguration"]["GlobalAuroraConfig"]
        assert config["Behavior"] == "failover" and "Ungraceful" not in config
        back = steps_of(plan_of(assembly, tier), "activate", "us-east-1")
        switch = next(x for x in back if x["ExecutionBlockType"] == database)
        assert switch["ExecutionBlockConfiguration"]["GlobalAuroraConfig"]["Behavior"] == (
            "switchoverOnly"
        )


@pytest.mark.parametrize("tier", PLANNED)
def test_every_plan_step_is_a_step_of_the_list(assembly: Path, tier: str) -> None:
    ((loss, back),) = simulate_assembly(assembly, context(), synthesize, tier=tier)
    listed = {x.name for x in loss.steps} | {x.name for x in back.steps}
    plan = plan_of(assembly, tier)
    named = {
        x["Name"]
        for w in plan["Workflows"]
        for a in [w]
        for x in steps_of(plan, a["WorkflowTargetAction"], a["WorkflowTargetRegion"])
    }
    assert named and named <= listed


@pytest.mark.parametrize("tier", PLANNED)
def test_the_simulator_executes_the_plan_and_it_recovers(assembly: Path, tier: str) -> None:
    ((loss, back),) = simulate_assembly(assembly, context(), synthesize, tier=tier)
    assert loss.passed, [str(v) for v in loss.violations]
    assert back.passed, [str(v) for v in back.violations]
    assert loss.recovered_at == loss.estimate_rto


def test_a_plan_step_names_a_function_that_exists_in_each_region(assembly: Path) -> None:
    plan = plan_of(assembly, "warm-standby")
    arns = {
        lam["Arn"]
        for w in plan["Workflows"]
        for x in steps_of(plan, w["WorkflowTargetAction"], w["WorkflowTargetRegion"])
        if x["ExecutionBlockType"] == "CustomActionLambda"
        for lam in x["ExecutionBlockConfiguration"]["CustomActionLambdaConfig"]["Lambdas"]
    }
    for region in ("us-east-1", "us-west-2"):
        arn = f"arn:aws:lambda:{region}:123456789012:function:drtiers-warm-standby-plan-actions"
        assert arn in arns
    for role in ("primary", "recovery"):
        text = (assembly / f"drtiers-warm-standby-{role}.template.json").read_text()
        assert '"FunctionName": "drtiers-warm-standby-plan-actions"' in text


# --- a changed step list changes the plan and the simulation ------------------------------------


@pytest.fixture
def changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, Callable[[list[s.Step]], list[s.Step]]], tuple[Plan, Simulation]]:
    """Synthesize ``tier`` with its failback step list changed by ``change``; returns the
    synthesized plan and the failback simulation."""

    def run(tier: str, change: Callable[[list[s.Step]], list[s.Step]]) -> tuple[Plan, Simulation]:
        original = s.failback_steps
        monkeypatch.setattr(s, "failback_steps", lambda *a: change(original(*a)))
        build_app(tmp_path, context(tier=tier)).synth()
        ((_, back),) = simulate_assembly(tmp_path, context(), synthesize, tier=tier)
        return plan_of(tmp_path, tier), back

    return run


def test_without_the_approval_the_plan_has_none_and_failback_fails(changed: Any) -> None:
    def no_approval(steps: list[s.Step]) -> list[s.Step]:
        return [
            replace(x, after=tuple(a for a in x.after if a != "approve-failback"))
            for x in steps
            if x.name != "approve-failback"
        ]

    plan, back = changed("warm-standby", no_approval)
    kinds = [x["ExecutionBlockType"] for x in steps_of(plan, "activate", "us-east-1")]
    assert "ManualApproval" not in kinds
    assert not back.passed
    assert {v.invariant for v in back.violations} == {"I7"}


def test_traffic_before_the_database_is_in_the_plan_and_fails_failback(changed: Any) -> None:
    def traffic_first(steps: list[s.Step]) -> list[s.Step]:
        # Declare P the writer's region right after the approval, and switch over after it.
        moved = []
        for x in steps:
            if x.name == "declare-primary":
                x = replace(x, after=("approve-failback",))
            elif x.name == "switchover":
                x = replace(x, after=("declare-primary",))
            moved.append(x)
        return s.stage(s.in_order(moved))

    plan, back = changed("warm-standby", traffic_first)
    names = [x["Name"] for x in steps_of(plan, "activate", "us-east-1")]
    assert names.index("declare-primary") < names.index("switchover")
    assert not back.passed
    assert "I5" in {v.invariant for v in back.violations}


def test_pilot_light_prepares_and_reprotects_in_post_recovery_workflows(assembly: Path) -> None:
    plan = plan_of(assembly, "pilot-light")
    prepare = steps_of(plan, "postRecovery", "us-west-2")
    assert [x["Name"] for x in prepare] == ["fence-primary", "replicate-back"]
    assert prepare[1]["ExecutionBlockType"] == "RdsCreateCrossRegionReplica"
    fence = prepare[0]["ExecutionBlockConfiguration"]["CustomActionLambdaConfig"]
    assert fence["RegionToRun"] == "activeRegion"  # the API's value for post-recovery
    reprotect = steps_of(plan, "postRecovery", "us-east-1")
    assert reprotect[0]["ExecutionBlockType"] == "RdsCreateCrossRegionReplica"


@pytest.fixture
def rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, Callable[..., Any]], tuple[Simulation, Simulation]]:
    """Synthesize ``tier`` with each rendered block passed through ``change``; simulate it."""

    def run(tier: str, change: Callable[..., Any]) -> tuple[Simulation, Simulation]:
        original = rendering._block
        monkeypatch.setattr(rendering, "_block", lambda *a: change(*original(*a)))
        build_app(tmp_path, context(tier=tier)).synth()
        ((loss, back),) = simulate_assembly(tmp_path, context(), synthesize, tier=tier)
        return loss, back

    return run


def test_a_failover_that_only_switches_over_needs_the_lost_region(rendered: Any) -> None:
    def switchover_only(kind: str, config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if kind == rendering.AURORA:
            config["GlobalAuroraConfig"]["Behavior"] = "switchoverOnly"
        return kind, config

    loss, _ = rendered("warm-standby", switchover_only)
    assert ("I2", "promote-database") in {(v.invariant, v.step) for v in loss.violations}


def test_a_function_step_with_the_wrong_region_to_run_does_nothing(rendered: Any) -> None:
    def activating(kind: str, config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if kind == rendering.LAMBDA:
            config["CustomActionLambdaConfig"]["RegionToRun"] = "activatingRegion"
        return kind, config

    _, back = rendered("pilot-light", activating)  # fence-primary is a post-recovery step
    assert not back.passed


def test_only_the_tier_that_promises_automatic_failover_starts_the_plan_by_itself(
    assembly: Path,
) -> None:
    for tier in ("pilot-light", "warm-standby", "multi-site"):
        assert "Triggers" not in plan_of(assembly, tier)  # a trigger's mode is not ours to set
    for tier in ("pilot-light", "warm-standby"):
        template = json.loads((assembly / f"drtiers-{tier}-recovery.template.json").read_text())
        types = {r["Type"] for r in template["Resources"].values()}
        assert "AWS::Events::Rule" not in types  # no probe, nothing starts the plan
    recovery = json.loads((assembly / "drtiers-multi-site-recovery.template.json").read_text())
    rules = [
        r["Properties"] for r in recovery["Resources"].values() if r["Type"] == "AWS::Events::Rule"
    ]
    (start,) = [r for r in rules if "EventPattern" in r]
    assert start["EventPattern"]["detail"] == {
        "alarmName": ["drtiers-multi-site-recovery-PrimaryDown"],
        "state": {"value": ["ALARM"]},
    }
    assert json.loads(start["Targets"][0]["Input"])["action"] == "start-plan"
    (probe,) = [r for r in rules if "ScheduleExpression" in r]
    target = json.loads(probe["Targets"][0]["Input"])
    assert (target["action"], target["region"], target["every"]) == ("probe", "us-east-1", 10)
    (alarm,) = [
        r["Properties"]
        for r in recovery["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("MetricName") == "PrimaryHealthyTargets"
    ]
    assert (alarm["Period"], alarm["DatapointsToAlarm"], alarm["EvaluationPeriods"]) == (10, 3, 4)
    assert alarm["TreatMissingData"] == "missing"  # no probe, no evidence: no failover


def test_without_its_starter_multi_site_waits_for_a_person(tmp_path: Path) -> None:
    app = build_app(tmp_path, context(tier="multi-site"))
    (start,) = [c for c in app.node.find_all() if c.node.id == "StartPlan"]
    assert start.node.scope is not None
    start.node.scope.node.try_remove_child("StartPlan")
    app.synth()
    ((loss, _),) = simulate_assembly(tmp_path, context(), synthesize, tier="multi-site")
    assert loss.passed  # still recovers, later: a person approves the promotion
    assert "approve-failover" in [x.name for x in loss.steps]
    assert loss.recovered_at == 30 + 300 + 60


@pytest.mark.parametrize("tier", PLANNED)
def test_only_the_replica_tier_may_promote_or_create_instances(assembly: Path, tier: str) -> None:
    """The execution role carries the RDS replica actions only where an RDS block uses them."""
    template = json.loads((assembly / f"drtiers-{tier}-plan.template.json").read_text())
    actions = {
        action
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    replica = {"rds:PromoteReadReplica", "rds:CreateDBInstanceReadReplica", "rds:ModifyDBInstance"}
    assert (replica <= actions) == (tier == "pilot-light")
    assert actions & replica in (set(), replica)


def test_failback_empties_the_recovery_queues_before_their_consumers_stop(
    assembly: Path,
) -> None:
    """pilot-light's standby stops R's tasks: the plan waits for R's queues to empty first, and
    the function may list and read exactly that stack's queues."""
    steps = steps_of(plan_of(assembly, "pilot-light"), "postRecovery", "us-east-1")
    names = [x["Name"] for x in steps]
    assert names.index("drain-queues") < names.index("standby")
    drain = steps[names.index("drain-queues")]["ExecutionBlockConfiguration"]
    payloads = [json.loads(x["Payload"]) for x in drain["CustomActionLambdaConfig"]["Lambdas"]]
    assert {p["prefix"] for p in payloads} == {"drtiers-pilot-light-recovery"}
    assert drain["CustomActionLambdaConfig"]["TimeoutMinutes"] > 10
    for tier in ("warm-standby", "multi-site"):  # their standby keeps consumers running
        for action, region in (("postRecovery", "us-east-1"), ("activate", "us-east-1")):
            assert "drain-queues" not in [
                x["Name"] for x in steps_of(plan_of(assembly, tier), action, region)
            ]


@pytest.mark.parametrize("tier", PLANNED)
def test_the_plan_function_may_use_the_control_tables_key(assembly: Path, tier: str) -> None:
    """DynamoDB encrypts the control table with a customer key: declaring the writer's region
    needs that key in each region (P: the stack's data key; R: the replicas' key, by alias)."""
    for role in ("primary", "recovery"):
        template = json.loads((assembly / f"drtiers-{tier}-{role}.template.json").read_text())
        resources = template["Resources"]
        statements = resources["PlanActionsRoleDefaultPolicy5544B6F2"]["Properties"][
            "PolicyDocument"
        ]["Statement"]
        (kms,) = [x for x in statements if "kms:GenerateDataKey" in x["Action"]]
        assert {"kms:Decrypt", "kms:Encrypt"} <= set(kms["Action"])
        (table,) = [
            r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::DynamoDB::GlobalTable"
            and r["Properties"]["TableName"].endswith("-control")
        ] or [None]
        if role == "primary":
            assert table is not None
            (replica,) = [x for x in table["Replicas"] if x["Region"] == "us-east-1"]
            key = replica["SSESpecification"]["KMSMasterKeyId"]
            assert kms["Resource"] == key  # the key the table in P is encrypted with
        else:
            assert kms["Condition"] == {
                "ForAnyValue:StringEquals": {
                    "kms:ResourceAliases": f"alias/drtiers-{tier}-replicas"
                }
            }
