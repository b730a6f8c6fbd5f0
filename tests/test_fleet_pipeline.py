"""The fleet as a CDK Pipelines app, synthesized offline: the pipeline in the toolchain account and
R, a wave per stage (an approval first where the stage asks), a stage per account holding each
of its applications' tier stacks and plan, deployed in the tier's order, and passing the DR rule
pack account by account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from drtiers.assembly.reader import read_assembly
from drtiers.checks.dr import dr_findings
from drtiers.config.context import ConfigError, cdk_json_context
from drtiers.config.fleet import Fleet, read_fleet
from drtiers.fleet.pipeline import build_fleet_app, repository_path
from tests.conftest import ROOT

FLEET = ROOT / "tests" / "fixtures" / "fleet" / "drtiers-fleet.yaml"
ORDER = ("recovery-base", "primary", "recovery", "edge", "plan")


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return read_fleet(FLEET)


@pytest.fixture(scope="module")
def out(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("fleet-app")
    app = cdk.App(outdir=str(directory), builtin_cloud_formation_validation=False)
    base = {k: v for k, v in cdk_json_context(ROOT).items() if k not in ("tier", "workload")}
    build_fleet_app(app, fleet, FLEET, base)
    app.synth()
    return directory


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
