"""A fleet: three applications of different workloads and tiers across two accounts per stage,
each estimated and simulated as its own tier; the failover group's parent plan runs them in
order and fails where an application takes traffic before what it depends on is writable; a bad
fleet file is one line naming the field; and the fleet as a CDK Pipelines app, synthesized
offline: the pipeline in the toolchain account and R, a wave per stage (an approval first where
the stage asks), a stage per account holding each of its applications' tier stacks and plan,
deployed in the tier's order, and passing the DR rule pack account by account. One file, so
that one worker synthesizes each application once and the pipeline reuses it."""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from rich.console import Console

from drtiers.assembly.reader import read_assembly, template_regions
from drtiers.checks.dr import dr_findings
from drtiers.checks.gates import cfn_lint, stack_findings
from drtiers.checks.guard import guard
from drtiers.cli import fleet as fleet_cli
from drtiers.cli import main as cli
from drtiers.config.context import ConfigError, cdk_json_context
from drtiers.config.fleet import FLEET_SCHEMA_PATH, Fleet, Stage, json_schema, read_fleet
from drtiers.constructs.functions import LAMBDAS
from drtiers.constructs.parent_plan import CHILD_PLAN_ACTIONS, RESOURCE_TYPE
from drtiers.core.durations import format_duration
from drtiers.core.permissions import allowed
from drtiers.core.tiers import APP_TAG
from drtiers.fleet import pipeline as pipeline_module
from drtiers.fleet.parent import (
    PLAN_BLOCK,
    approval_seconds,
    group_steps,
    parent_names,
    run_parent,
)
from drtiers.fleet.parent_stack import children_of
from drtiers.fleet.pipeline import (
    AccountStage,
    GroupStage,
    OrganizationStage,
    build_fleet_app,
    parent_stacks,
    repository_path,
)
from drtiers.fleet.runs import AppRun, run_fleet
from drtiers.fleet.stacksets import BOOTSTRAP_TEMPLATE
from tests.conftest import ROOT

FLEET = ROOT / "tests" / "fixtures" / "fleet" / "drtiers-fleet.yaml"
APPROVAL = 300.0
APPROVAL_SECONDS = approval_seconds()
PLAN_TYPE = "AWS::ARCRegionSwitch::Plan"


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return read_fleet(FLEET)


@pytest.fixture(scope="module")
def runs(fleet: Fleet) -> dict[str, AppRun]:
    return run_fleet(fleet, cdk_json_context(ROOT), FLEET.parent)


def test_the_published_schema_is_the_models() -> None:
    assert (ROOT / FLEET_SCHEMA_PATH).read_text() == json_schema(), (
        f"regenerate it: .venv/bin/python -c 'from drtiers.config.fleet import json_schema; "
        f'print(json_schema(), end="")\' > {FLEET_SCHEMA_PATH}'
    )


def test_three_applications_in_two_accounts_per_stage(fleet: Fleet) -> None:
    assert {a.tier for a in fleet.applications} == {"warm-standby", "pilot-light", "multi-site"}
    assert all(len(stage.accounts) == 2 for stage in fleet.stages)
    for stage in fleet.stages:
        assert {a.accounts[stage.name] for a in fleet.applications} == set(stage.accounts)


def test_each_application_recovers_as_its_tier(runs: dict[str, AppRun]) -> None:
    for run in runs.values():
        assert run.loss.passed and run.back.passed, run.app.name
        assert run.estimate.tier == run.app.tier


def test_the_parent_plan_passes_region_loss_and_failback(
    fleet: Fleet, runs: dict[str, AppRun]
) -> None:
    loss, back = run_parent(fleet, fleet.failover_groups[0], runs, APPROVAL)
    assert loss.passed and back.passed, loss.violations + back.violations
    payments, orders = loss.children["payments"], loss.children["orders"]
    assert payments.start == APPROVAL  # the one approval, then the first step
    assert orders.start == payments.done  # the next step waits for the first
    assert orders.traffic is not None and payments.writable is not None
    assert orders.traffic >= payments.writable
    assert loss.recovered_at == max(t.done for t in loss.children.values())


def test_a_dependent_application_failing_over_first_fails(
    fleet: Fleet, runs: dict[str, AppRun]
) -> None:
    group = fleet.failover_groups[0].model_copy(
        update={"steps": (("orders", "catalog"), ("payments",))}
    )
    loss, back = run_parent(fleet, group, runs, APPROVAL)
    (found,) = loss.violations
    assert found.startswith("F1: orders takes traffic in us-west-2 at ")
    assert "before payments, which it depends on, is writable there" in found
    assert any(v.startswith("F1: orders takes traffic in us-east-1") for v in back.violations)


def test_fleet_simulate_exits_1_when_a_group_fails(
    fleet: Fleet, runs: dict[str, AppRun], capsys: pytest.CaptureFixture[str]
) -> None:
    """The command's verdict and lines, on the runs already made (the same fleet)."""
    args = argparse.Namespace(json=False)
    assert fleet_cli._simulate(fleet, runs, args, Console(width=200)) == 0
    broken = fleet.model_copy(
        update={
            "failover_groups": (
                fleet.failover_groups[0].model_copy(
                    update={"steps": (("orders", "catalog"), ("payments",))}
                ),
            )
        }
    )
    assert fleet_cli._simulate(broken, runs, args, Console(width=200)) == 1
    out = capsys.readouterr().out
    assert "checkout region-loss to us-west-2: FAILED" in out and "F1: orders" in out


def test_the_group_objective_holds_or_fails(fleet: Fleet, runs: dict[str, AppRun]) -> None:
    """Held to region loss with every figure at its slow end, as a tier's target is."""
    loss, _ = run_parent(fleet, fleet.failover_groups[0], runs, APPROVAL)
    slow = loss.slow_recovered_at
    assert slow is not None and slow > loss.recovered_at
    tight = fleet.failover_groups[0].model_copy(update={"rto_target": int(slow) - 60})
    (found,) = run_parent(fleet, tight, runs, APPROVAL)[0].violations
    assert found.startswith(
        f"F2: with every figure at its slow end the group recovers at {slow:.0f} s"
    )
    roomy = fleet.failover_groups[0].model_copy(update={"rto_target": int(slow) + 1})
    assert run_parent(fleet, roomy, runs, APPROVAL)[0].passed


def test_fleet_explain_prints_the_totals(
    fleet: Fleet, runs: dict[str, AppRun], capsys: pytest.CaptureFixture[str]
) -> None:
    """The commands on the fixture; the group's lines on the runs already made (explain and
    simulate would simulate every application again)."""
    assert cli(["fleet", "list", "--json", "--fleet", str(FLEET)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed["applications"]) == 6  # three applications, two stages each
    standby = sum(r["usd_per_month"] for r in listed["applications"])
    assert listed["totals"]["standby_usd_per_month"] == pytest.approx(standby, abs=0.01)
    assert listed["totals"]["failed_over_usd_per_month"] > standby
    assert cli(["fleet", "list", "--fleet", str(FLEET)]) == 0  # 80 columns: a log's width
    out = capsys.readouterr().out
    assert "Fleet total:" in out and "USD for a month failed over" in out
    assert "…" not in out  # nothing cut short: every account id is whole
    assert {r["account"] for r in listed["applications"]} <= set(re.findall(r"\d{12}", out))
    fleet_cli._explain_groups(fleet, runs, Console(width=400))
    out = capsys.readouterr().out
    assert "Failover group checkout: one approval, then payments then orders + catalog" in out
    loss, _ = run_parent(fleet, fleet.failover_groups[0], runs, APPROVAL_SECONDS)
    assert f"its parent plan's objective: {format_duration(loss.objective_seconds or 0)}" in out
    (group,) = fleet_cli.groups(fleet, runs)  # explain --json's "groups"
    assert group["steps"] == [["payments"], ["orders", "catalog"]]
    assert group["recovered_seconds"] == loss.recovered_at <= group["slow_recovered_seconds"]
    assert group["objective_seconds"] == loss.objective_seconds


def _refused(tmp_path: Path, change: dict[str, object]) -> str:
    raw = yaml.safe_load(FLEET.read_text())
    for dotted, value in change.items():
        section = raw
        *parents, last = dotted.split(".")
        for part in parents:
            section = section[int(part)] if part.isdigit() else section[part]
        section[int(last) if last.isdigit() else last] = value
    for name in ("payments", "orders", "catalog"):
        (tmp_path / f"{name}.yaml").write_text((FLEET.parent / f"{name}.yaml").read_text())
    path = tmp_path / "drtiers-fleet.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as refused:
        read_fleet(path)
    message = str(refused.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"applications.0.tier": "gold"}, "applications[0].tier 'gold' is not a tier"),
        (
            {"applications.0.accounts": {"staging": "999999999999", "prod": "444444444444"}},
            "applications[0].accounts.staging '999999999999' is not an account of stage staging",
        ),
        (
            {"applications.1.accounts": {"staging": "333333333333"}},
            "applications[1].accounts: stage 'prod' has no account",
        ),
        (
            {"applications.1.depends_on": ["ledger"]},
            "applications[1].depends_on 'ledger' is not another application",
        ),
        (
            {"applications.0.tier": "backup-restore"},
            "'payments' is backup-restore, which has no Region switch plan to run",
        ),
        (
            {"failover_groups.0.steps": [["payments"], ["orders", "payments"]]},
            "'payments' is in group checkout too",
        ),
        (
            {"applications.0.depends_on": ["orders"]},
            "depends_on makes a cycle",
        ),
        ({"applications.2.workload": "nowhere.yaml"}, "applications[2].workload 'nowhere.yaml'"),
        (
            {"toolchain.account": "12345"},
            "toolchain.account: '12345' is not valid; allowed: the account the pipeline runs "
            "in, a 12-digit AWS account id",
        ),
        ({"regions.recovery": "us-east-1"}, "regions.recovery 'us-east-1' is the primary"),
    ],
)
def test_a_bad_fleet_file_is_one_line(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    assert expected in _refused(tmp_path, change)


def test_a_dependency_outside_its_group_is_refused(tmp_path: Path) -> None:
    message = _refused(
        tmp_path,
        {
            "failover_groups": [
                {"name": "checkout", "steps": [["orders"]]},
                {"name": "money", "steps": [["payments"]]},
            ]
        },
    )
    assert "'orders' depends on 'payments', outside its failover group checkout" in message


# --- the pipeline app ---------------------------------------------------------------------

ORDER = ("recovery-base", "primary", "recovery", "edge", "plan")


@pytest.fixture(scope="module")
def fleet_app(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> cdk.App:
    directory = tmp_path_factory.mktemp("fleet-app")
    app = cdk.App(outdir=str(directory), builtin_cloud_formation_validation=False)
    base = {k: v for k, v in cdk_json_context(ROOT).items() if k not in ("tier", "workload")}
    build_fleet_app(app, fleet, FLEET, base)
    app.synth()
    return app


@pytest.fixture(scope="module")
def out(fleet_app: cdk.App) -> Path:
    return Path(fleet_app.outdir)


def _pipeline(out: Path) -> dict[str, Any]:
    template = json.loads((out / "drtiers-fleet-pipeline.template.json").read_text())
    (pipeline,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    return pipeline["Properties"]


def test_the_pipeline_is_in_the_toolchain_account_and_r(fleet: Fleet, out: Path) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    env = manifest["artifacts"]["drtiers-fleet-pipeline"]["environment"]
    assert env == f"aws://{fleet.toolchain.account}/{fleet.regions.recovery}"
    source = _pipeline(out)["Stages"][0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == fleet.toolchain.source.connection_arn
    assert source["Configuration"]["FullRepositoryId"] == fleet.toolchain.source.repository
    names = [s["Name"] for s in _pipeline(out)["Stages"]]
    assert "UpdatePipeline" in names  # self-mutating


def test_a_wave_per_stage_with_its_approval(fleet: Fleet, out: Path) -> None:
    stages = {s["Name"]: s["Actions"] for s in _pipeline(out)["Stages"]}
    waves = [name for name in stages if name in {s.name for s in fleet.stages}]
    assert waves == [s.name for s in fleet.stages]  # in the file's order
    for stage in fleet.stages:
        first = min(stages[stage.name], key=lambda a: a["RunOrder"])
        is_approval = first["ActionTypeId"]["Category"] == "Approval"
        assert is_approval == stage.approval, stage.name


def test_each_application_deploys_in_its_tiers_order(fleet: Fleet, out: Path) -> None:
    stages = {s["Name"]: s["Actions"] for s in _pipeline(out)["Stages"]}
    for stage in fleet.stages:
        runs = {a["Name"]: a["RunOrder"] for a in stages[stage.name]}
        for app in fleet.applications:
            prefix = f"{stage.name}-{app.accounts[stage.name]}.{app.name}-{app.tier}-"
            deploys = [runs.get(f"{prefix}{role}.Deploy") for role in ORDER]
            present = [r for r in deploys if r is not None]
            assert present == sorted(present) and len(present) >= 4, (stage.name, app.name)


def test_a_stage_per_account_holds_its_applications(fleet: Fleet, out: Path) -> None:
    for stage in fleet.stages:
        for account in stage.accounts:
            tiers = read_assembly(out / f"assembly-{stage.name}-{account}")
            expected = {a.tier for a in fleet.applications if a.accounts[stage.name] == account}
            assert set(tiers) == expected
            for tier in tiers.values():
                assert tier.account == account
                assert "plan" in {role for role, _ in tier.stacks.values()}
            assert dr_findings(out / f"assembly-{stage.name}-{account}") == []


def test_the_synth_step_names_the_fleet_in_the_repository(out: Path, tmp_path: Path) -> None:
    build = next(s for s in _pipeline(out)["Stages"] if s["Name"] == "Build")
    assert build["Actions"][0]["Name"] == "Synth"
    template = (out / "drtiers-fleet-pipeline.template.json").read_text()
    assert "cdk synth --context fleet=tests/fixtures/fleet/drtiers-fleet.yaml" in template
    assert str(ROOT) not in template  # one spelling, whoever synthesized it
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert f"aws-cdk@{pinned}" in template  # the pipeline's own steps use the pinned CLI
    with pytest.raises(ConfigError, match=r"outside .*; allowed: a file in the repository"):
        repository_path(tmp_path / "drtiers-fleet.yaml")


# --- each failover group's parent plan, per stage ----------------------------------------------


def _template(directory: Path, stack: str = "") -> dict[str, Any]:
    """The one template in ``directory`` whose file name holds ``stack``."""
    (path,) = [p for p in directory.glob("*.template.json") if stack in p.name]
    return dict(json.loads(path.read_text()))


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _role(template: dict[str, Any], name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The role named ``name``: its trust, and its policies' statements."""
    ids = [k for k, r in template["Resources"].items() if r["Properties"].get("RoleName") == name]
    (role_id,) = ids
    statements = [
        s
        for r in _of_type(template, "AWS::IAM::Policy")
        if {"Ref": role_id} in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    return template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"], statements


def test_a_parent_plan_wave_follows_each_stage(fleet: Fleet, out: Path) -> None:
    names = [s["Name"] for s in _pipeline(out)["Stages"]]
    for stage in fleet.stages:
        # (CDK Pipelines names a wave of one stage after that stage)
        assert names[names.index(stage.name) + 1] == f"{stage.name}-parent-checkout"
        manifest = json.loads(
            (out / f"assembly-{stage.name}-parent-checkout" / "manifest.json").read_text()
        )
        (env,) = {a["environment"] for a in manifest["artifacts"].values() if "environment" in a}
        payments = fleet.application("payments").accounts[stage.name]  # the first step's
        assert env == f"aws://{payments}/{fleet.regions.recovery}"


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_the_parent_plan_runs_its_children_in_the_files_order(
    fleet: Fleet, fleet_app: cdk.App, out: Path, stage: str
) -> None:
    template = _template(out / f"assembly-{stage}-parent-checkout")
    (plan,) = _of_type(template, "AWS::ARCRegionSwitch::Plan")
    workflows = plan["Properties"]["Workflows"]
    for target in (fleet.regions.recovery, fleet.regions.primary):
        assert group_steps(workflows, target) == (1, [("payments",), ("orders", "catalog")])
    (lookup,) = [k for k, r in template["Resources"].items() if r["Type"] == RESOURCE_TYPE]
    (function,) = _of_type(template, "AWS::Lambda::Function")  # the lookup's code, inline
    assert function["Properties"]["Code"]["ZipFile"] == (LAMBDAS / "plan_lookup.py").read_text()
    parent = fleet.application("payments").accounts[stage]
    blocks = _child_blocks(workflows[0]["Steps"])
    for name in ("payments", "orders", "catalog"):
        config = blocks[name]
        assert config["Arn"] == {"Fn::GetAtt": [lookup, name]}  # found as it deploys
        account = fleet.application(name).accounts[stage]
        if account == parent:
            assert set(config) == {"Arn"}
        else:
            assert config["CrossAccountRole"].startswith(f"arn:aws:iam::{account}:role/")
            assert config["ExternalId"] == f"drtiers-checkout-{stage}"
    plans = {
        n: f
        for s in fleet_app.node.children
        if isinstance(s, AccountStage)
        if s.node.id.startswith(stage)
        for n, f in s.plans.items()
    }
    seconds = (
        APPROVAL_SECONDS
        + plans["payments"].after_detection_seconds
        + max(plans["orders"].after_detection_seconds, plans["catalog"].after_detection_seconds)
    )
    assert plan["Properties"]["RecoveryTimeObjectiveMinutes"] == math.ceil(seconds / 60)


def _child_blocks(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {}
    for block in steps:
        inner = block["ExecutionBlockConfiguration"].get("ParallelConfig", {}).get("Steps")
        for b in inner or [block]:
            if b["ExecutionBlockType"] == PLAN_BLOCK:
                found[b["Name"]] = b["ExecutionBlockConfiguration"]["RegionSwitchPlanConfig"]
    return found


def test_a_child_in_another_account_lets_only_the_parents_roles_run_it(out: Path) -> None:
    """orders (333333333333 in staging) trusts the parent's account (222222222222) held to
    its execution and lookup roles and the external id; payments, in the parent's account,
    has no such role, and the parent's execution role runs it directly."""
    child = _template(out / "assembly-staging-333333333333", "orderspilotlightplan")
    trust, statements = _role(child, "orders-pilot-light-parent-access")
    (statement,) = trust["Statement"]
    assert statement["Principal"]["AWS"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::222222222222:root"]]
    }
    assert statement["Condition"] == {
        "StringEquals": {"sts:ExternalId": "drtiers-checkout-staging"},
        "ArnEquals": {
            "aws:PrincipalArn": [
                "arn:aws:iam::222222222222:role/checkout-staging-plan-execution",
                "arn:aws:iam::222222222222:role/checkout-staging-plan-lookup",
            ]
        },
    }
    (plan,) = _of_type(child, PLAN_TYPE)  # the tag the organization's role is held to
    assert plan["Properties"]["Tags"][APP_TAG] == "orders"
    own = "arn:aws:arc-region-switch::333333333333:plan/orders-pilot-light:a1b2c3"
    assert all(allowed(statements, a, own) for a in CHILD_PLAN_ACTIONS)
    assert not allowed(
        statements, "arc-region-switch:StartPlanExecution", own.replace("orders", "x")
    )
    payments = _template(out / "assembly-staging-222222222222", "paymentswarmstandbyplan")
    assert "parent-access" not in json.dumps(payments)
    parent = _template(out / "assembly-staging-parent-checkout")
    _, executes = _role(parent, "checkout-staging-plan-execution")
    role = "arn:aws:iam::333333333333:role/orders-pilot-light-parent-access"
    assert allowed(executes, "sts:AssumeRole", role)
    assert [s["Condition"] for s in executes if s["Action"] == "sts:AssumeRole"] == [
        {"StringEquals": {"sts:ExternalId": "drtiers-checkout-staging"}}
    ]
    mine = "arn:aws:arc-region-switch::222222222222:plan/payments-warm-standby:a1b2c3"
    assert all(allowed(executes, a, mine) for a in CHILD_PLAN_ACTIONS)
    assert not allowed(executes, "arc-region-switch:StartPlanExecution", own)


def test_the_parent_plans_pass_cfn_lint_guard_and_cdk_nag(
    fleet_app: cdk.App, tmp_path: Path
) -> None:
    """What `drtiers fleet check` checks of the parent plans: the 2 parent plans and the 3 plan
    stacks of a child in another account than its parent (orders in staging; orders and
    catalog in prod), which hold its parent-access role."""
    stages = [s for s in fleet_app.node.children if isinstance(s, (GroupStage, AccountStage))]
    accounts = [s for s in stages if isinstance(s, AccountStage)]
    groups = [s for s in stages if isinstance(s, GroupStage)]
    stacks = parent_stacks(accounts, groups)
    assert sorted(s.stack_name for s in stacks) == [
        "catalog-multi-site-plan",
        "checkout-prod-parent-plan",
        "checkout-staging-parent-plan",
        "orders-pilot-light-plan",
        "orders-pilot-light-plan",
    ]
    assert stack_findings(stacks, tmp_path / "checked") == []


# --- an organization's StackSets -----------------------------------------------------------------

UNITS = {"staging": ("ou-ab12-11111111",), "prod": ("ou-ab12-22222222", "ou-ab12-33333333")}


@pytest.fixture(scope="module")
def organized(fleet: Fleet) -> Fleet:
    return Fleet.model_validate(
        {**fleet.model_dump(), "organization": {"organizational_units": UNITS}}
    )


@pytest.fixture(scope="module")
def stack_sets(organized: Fleet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("organization")))
    stage = OrganizationStage(app, fleet=organized)
    app.synth()
    resources = _template(Path(stage.outdir))["Resources"].values()
    return {r["Properties"]["StackSetName"]: r for r in resources}


def test_each_stage_gets_its_bootstrap_and_role_by_stack_sets(
    organized: Fleet, stack_sets: dict[str, Any]
) -> None:
    assert sorted(stack_sets) == [
        "drtiers-prod-bootstrap",
        "drtiers-prod-checkout-parent-access",
        "drtiers-staging-bootstrap",
        "drtiers-staging-checkout-parent-access",
    ]
    for name, resource in stack_sets.items():
        props, stage = resource["Properties"], name.split("-")[1]
        assert props["PermissionModel"] == "SERVICE_MANAGED"
        assert props["CallAs"] == "DELEGATED_ADMIN"
        assert props["AutoDeployment"]["Enabled"] is True
        (group,) = props["StackInstancesGroup"]
        assert group["DeploymentTargets"] == {
            "OrganizationalUnitIds": list(UNITS[stage]),
            "AccountFilterType": "DIFFERENCE",  # never the toolchain account
            "Accounts": [organized.toolchain.account],
        }
        assert props["OperationPreferences"]["ConcurrencyMode"] == "SOFT_FAILURE_TOLERANCE"
        kept = resource.get("DeletionPolicy") == "Retain"
        assert kept == name.endswith("-bootstrap")  # deleting it would delete every bootstrap
    bootstrap = stack_sets["drtiers-prod-bootstrap"]["Properties"]
    assert bootstrap["TemplateBody"] == (ROOT / BOOTSTRAP_TEMPLATE).read_text()  # the pinned CLI's
    assert {p["ParameterKey"]: p["ParameterValue"] for p in bootstrap["Parameters"]} == {
        "TrustedAccounts": organized.toolchain.account,
        "CloudFormationExecutionPolicies": "arn:aws:iam::aws:policy/AdministratorAccess",
        "FileAssetsBucketKmsKeyId": "AWS_MANAGED_KEY",
    }
    assert bootstrap["StackInstancesGroup"][0]["Regions"] == ["us-east-1", "us-west-2"]
    assert bootstrap["AutoDeployment"]["RetainStacksOnAccountRemoval"] is True
    role = stack_sets["drtiers-prod-checkout-parent-access"]["Properties"]
    assert role["StackInstancesGroup"][0]["Regions"] == [organized.regions.recovery]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in role["Parameters"]} == {
        "RoleName": "drtiers-checkout-parent-access",  # one group's: its parent runs no other's
        "ParentAccounts": "444444444444",
        "ParentRoleArns": "arn:aws:iam::444444444444:role/checkout-prod-plan-execution,"
        "arn:aws:iam::444444444444:role/checkout-prod-plan-lookup",
        "ExternalIds": "drtiers-checkout-prod",
        "AppNames": "payments,orders,catalog",
    }


def _resolve(node: Any, parameters: dict[str, Any]) -> Any:
    """The template's value in account 555555555555 with ``parameters``: the few intrinsics
    the parent-access template uses (Ref, Fn::Sub, Fn::Join, Fn::Split)."""
    pseudo = {"AWS::Partition": "aws", "AWS::AccountId": "555555555555"}
    if isinstance(node, list):
        return [_resolve(n, parameters) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return {**pseudo, **parameters}[node["Ref"]]
    if set(node) == {"Fn::Join"}:
        separator, items = _resolve(node["Fn::Join"], parameters)
        return separator.join(items)
    if set(node) == {"Fn::Split"}:
        separator, text = _resolve(node["Fn::Split"], parameters)
        return text.split(separator)
    if set(node) == {"Fn::Sub"}:
        text, names = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
        values = {**pseudo, **{k: _resolve(v, parameters) for k, v in names.items()}}
        return re.sub(r"\$\{([\w:]+)\}", lambda m: values[m.group(1)], text)
    return {k: _resolve(v, parameters) for k, v in node.items()}


def test_the_accounts_role_lets_only_the_groups_parent_run_its_plans(
    stack_sets: dict[str, Any], tmp_path: Path
) -> None:
    props = stack_sets["drtiers-prod-checkout-parent-access"]["Properties"]
    body = json.loads(props["TemplateBody"])
    (tmp_path / "parent-access.template.json").write_text(props["TemplateBody"])
    (region,) = props["StackInstancesGroup"][0]["Regions"]
    assert cfn_lint(tmp_path, regions={"parent-access.template.json": region}) == []
    assert guard(tmp_path) == []
    parameters = {
        p["ParameterKey"]: p["ParameterValue"].split(",")
        if body["Parameters"][p["ParameterKey"]]["Type"] == "CommaDelimitedList"
        else p["ParameterValue"]
        for p in props["Parameters"]
    }
    role = _resolve(body["Resources"]["ParentAccess"]["Properties"], parameters)
    assert role["RoleName"] == "drtiers-checkout-parent-access"
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": ["444444444444"]}
    assert trust["Condition"]["StringEquals"] == {"sts:ExternalId": ["drtiers-checkout-prod"]}
    assert trust["Condition"]["ArnEquals"]["aws:PrincipalArn"] == parameters["ParentRoleArns"]
    run, listing = role["Policies"][0]["PolicyDocument"]["Statement"]
    plan = "arn:aws:arc-region-switch::{}:plan/orders-pilot-light:a1b2c3"
    assert all(allowed([run], a, plan.format("555555555555")) for a in CHILD_PLAN_ACTIONS)
    assert not allowed([run], "arc-region-switch:StartPlanExecution", plan.format("444444444444"))
    # held to the applications' plans by the tag every tier's stacks carry
    assert run["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/{APP_TAG}": ["payments", "orders", "catalog"]}
    }
    assert listing["Action"] == "arc-region-switch:ListPlansInRegion"


def test_with_an_organization_the_children_go_through_their_groups_role(
    organized: Fleet, tmp_path: Path
) -> None:
    """No application's own parent-access role; the parent names its group's, which the
    organization's StackSet puts in every account of the stage."""
    (group,) = organized.failover_groups
    staging = organized.stages[0]
    roles = {c.name: c.role_arn for c in children_of(organized, group, staging)}
    assert roles == {
        "payments": None,
        "orders": "arn:aws:iam::333333333333:role/drtiers-checkout-parent-access",
        "catalog": None,
    }
    app = cdk.App(outdir=str(tmp_path))
    base = {k: v for k, v in cdk_json_context(ROOT).items() if k not in ("tier", "workload")}
    accounts = AccountStage(
        app,
        fleet=organized,
        stage=staging,
        account="333333333333",
        base=base,
        fleet_dir=FLEET.parent,
    )
    assert parent_stacks([accounts], []) == []


def test_with_an_organization_the_pipeline_deploys_the_stack_sets_first(
    organized: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def one_stack(app: cdk.App, fleet: Fleet, stage: Stage, *_: Any) -> tuple[list[Any], list[Any]]:
        """A stage of one empty stack per stage: only the waves' order is looked at."""
        staged = cdk.Stage(app, f"{stage.name}-only")
        cdk.CfnWaitConditionHandle(cdk.Stack(staged, "nothing"), "Nothing")
        return [staged], []

    monkeypatch.setattr(pipeline_module, "stage_apps", one_stack)
    app = cdk.App(outdir=str(tmp_path))
    build_fleet_app(app, organized, FLEET, {})
    app.synth()
    names = [s["Name"] for s in _pipeline(tmp_path)["Stages"]]
    after = names[names.index("UpdatePipeline") + 1 :]
    assert after == ["organization", "staging-only", "prod-only"]


@pytest.mark.parametrize(
    ("organization", "message"),
    [
        (
            {"organizational_units": {"staging": ["ou-ab12-11111111"]}},
            "organization.organizational_units: stage 'prod' has no units; allowed: units for "
            "each stage (staging, prod)",
        ),
        (
            {"organizational_units": {**UNITS, "staging": ["r-ab12"]}},
            "organization.organizational_units.staging[0]: 'r-ab12' is not valid; allowed: stage "
            "name to the organizational units whose accounts it deploys to (ids such as "
            "ou-ab12-cd34ef56), for every stage",
        ),
        (
            {
                "organizational_units": {
                    "staging": ["ou-ab12-11111111"],
                    "prod": ["ou-ab12-11111111"],
                }
            },
            "organization.organizational_units.prod: 'ou-ab12-11111111' is staging's too; allowed: "
            "units of one stage each (an account gets one stage's StackSets)",
        ),
        (
            {"organizational_units": UNITS, "execution_policies": ["AdministratorAccess"]},
            "organization.execution_policies 'AdministratorAccess' is not a managed policy ARN; "
            "allowed: arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>",
        ),
    ],
)
def test_a_bad_organization_is_one_line(
    tmp_path: Path, organization: dict[str, Any], message: str
) -> None:
    assert message in _refused(tmp_path, {"organization": organization})


def test_a_group_may_name_its_parents_account(fleet: Fleet) -> None:
    """In prod the parent moves to 555555555555: payments (444444444444) is then the child in
    another account, orders and catalog are run directly."""
    raw = fleet.model_dump()
    raw["failover_groups"][0]["accounts"] = {"prod": "555555555555"}
    named = Fleet.model_validate(raw)
    (group,) = named.failover_groups
    staging, prod = named.stages
    assert parent_names(named, group, prod).account == "555555555555"
    assert parent_names(named, group, staging).account == "222222222222"  # the default
    roles = {c.name: c.role_arn for c in children_of(named, group, prod)}
    assert roles == {
        "payments": "arn:aws:iam::444444444444:role/payments-warm-standby-parent-access",
        "orders": None,
        "catalog": None,
    }


def test_a_parents_account_outside_its_stage_is_one_line(tmp_path: Path) -> None:
    message = _refused(tmp_path, {"failover_groups.0.accounts": {"prod": "222222222222"}})
    assert message.endswith(
        "failover_groups[0].accounts.prod '222222222222' is not an account of stage prod; "
        "allowed: 444444444444, 555555555555"
    )


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_explain_and_the_template_give_the_parent_plan_one_objective(
    fleet: Fleet, runs: dict[str, AppRun], out: Path, stage: str
) -> None:
    """The objective `fleet explain` and `fleet simulate --json` print is the parent plan's
    RecoveryTimeObjectiveMinutes, both from the applications' own step lists."""
    (group,) = fleet.failover_groups
    loss, _ = run_parent(fleet, group, runs, APPROVAL_SECONDS)
    assert loss.objective_seconds is not None
    (plan,) = _of_type(_template(out / f"assembly-{stage}-parent-checkout"), PLAN_TYPE)
    minutes = plan["Properties"]["RecoveryTimeObjectiveMinutes"]
    assert math.ceil(loss.objective_seconds / 60) == minutes
    # the approval and each step's slowest child, not the simulated (whole-plan) times
    slowest = max(runs["orders"].plan_seconds, runs["catalog"].plan_seconds)
    assert loss.objective_seconds == APPROVAL_SECONDS + runs["payments"].plan_seconds + slowest


def test_an_application_named_like_a_parent_plans_own_step_is_one_line(tmp_path: Path) -> None:
    """A parent plan's blocks are named after its applications beside its own approval and
    Parallel blocks: the names must differ."""
    message = _refused(tmp_path, {"applications.2.name": "step-2"})
    assert message.endswith(
        "applications[2].name 'step-2' names a parent plan's own step; allowed: any other name "
        "(not approve, nor step-<n>)"
    )


ACCOUNTS = (  # the fixture's applications' accounts: staging, prod
    ("222222222222", "444444444444"),
    ("333333333333", "555555555555"),
    ("222222222222", "555555555555"),
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"failover_groups.0.steps": [[], ["payments"], ["orders", "catalog"]]},
            "failover_groups[0].steps[0]: no applications; allowed: one or more",
        ),
        (
            {"failover_groups.0.name": "checkout-and-settlements", "stages.1.name": "prod-east-1"}
            | {
                f"applications.{i}.accounts": {"staging": staging, "prod-east-1": prod}
                for i, (staging, prod) in enumerate(ACCOUNTS)
            },
            "failover_groups[0].name 'checkout-and-settlements' with stage 'prod-east-1' names "
            "its parent plan 'checkout-and-settlements-prod-east-1', 36 characters; allowed: up "
            "to 32 together (Region switch's limit)",
        ),
        (
            {"stages.0.name": "organization", "applications.0.accounts": {}},
            "stages[0].name 'organization' names a wave of the pipeline's own; allowed: any "
            "other name (not organization, nor <name>-parent-plans)",
        ),
    ],
)
def test_what_the_parent_plans_and_waves_cannot_take_is_one_line(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    assert expected in _refused(tmp_path, change)


def test_the_pipeline_stack_passes_cfn_lint(out: Path, tmp_path: Path) -> None:
    """The pipeline's own template, as CDK Pipelines writes it, with its two findings
    acknowledged on the pipeline resource (each with its reason), and nothing else."""
    shutil.copy(out / "drtiers-fleet-pipeline.template.json", tmp_path)
    assert cfn_lint(tmp_path, regions=template_regions(out)) == []
    (pipeline,) = _of_type(_template(tmp_path), "AWS::CodePipeline::Pipeline")
    assert sorted(pipeline["Metadata"]["cfn-lint"]["config"]["ignore_checks"]) == [
        "E3703",
        "W3005",
    ]


def test_the_readmes_fleet_passes_its_own_simulation(
    tmp_path: Path, runs: dict[str, AppRun]
) -> None:
    """The README's example fleet, with this folder's workloads of the same names, passes
    `fleet simulate` as a reader who copies it would run it (its group's rto_target too)."""
    readme = (ROOT / "README.md").read_text().split("## Many applications and accounts", 1)[1]
    (tmp_path / "drtiers-fleet.yaml").write_text(readme.split("```\n", 2)[1])
    for name in ("payments", "orders"):
        shutil.copy(FLEET.parent / f"{name}.yaml", tmp_path)
    example = read_fleet(tmp_path / "drtiers-fleet.yaml")
    assert {a.name for a in example.applications} <= set(runs)
    for group in example.failover_groups:
        for event in run_parent(example, group, runs, APPROVAL_SECONDS):
            assert event.passed, event.violations
