"""The fleet as a CDK Pipelines app: a self-mutating pipeline in the toolchain account that
deploys every application's tier into its account of each stage, a wave per stage (a person
approves first where the stage asks), an AWS CDK stage per account in it. Within an account the
tier's stacks keep their order (recovery-base, primary, recovery, edge, plan) by their own
dependencies, as `cdk deploy --all` does.

Each application's plan stack is made from its tier as synthesized alone with the same context
(drtiers.build.synthesize, kept by the cache), read back as every plan is: the plan names what
the tier's stacks hold, so it is derived from them, here as in a single tier's app.

The pipeline is declared in R, so that it outlives P (its waves still deploy P's stacks: a
deployment while P is lost needs a path of R's stacks only, not built yet). Nothing is looked
up: the source is the file's connection ARN and repository, the CDK CLI the one package.json
pins.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import pipelines
from constructs import Construct

from drtiers.build import add_plans, compose, synthesize
from drtiers.config.context import ConfigError, from_context
from drtiers.config.fleet import Application, Fleet, Stage
from drtiers.fleet.runs import app_context

SYNTH_COMMANDS = (
    "python3 -m venv .venv",
    ".venv/bin/pip install -e .",
    "npm ci",
)


def repository_path(fleet_file: Path) -> str:
    """The fleet file as the pipeline's synth step names it: relative to the repository it
    builds from (the working folder), one spelling, so self-mutation sees one template."""
    try:
        return fleet_file.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        raise ConfigError(
            f"fleet file {fleet_file}: outside {Path.cwd()}; allowed: a file in the repository "
            "the pipeline builds (its synth step reads it there)"
        ) from None


def pinned_cli() -> str | None:
    """The CDK CLI version package.json pins, for the pipeline's own steps."""
    package = Path.cwd() / "package.json"
    if not package.is_file():
        return None
    version = json.loads(package.read_text()).get("devDependencies", {}).get("aws-cdk")
    return str(version) if version else None


def account_context(
    fleet: Fleet, app: Application, stage: Stage, base: Mapping[str, Any], fleet_dir: Path
) -> dict[str, Any]:
    """The context of ``app`` in its account of ``stage``."""
    return {**app_context(fleet, app, base, fleet_dir), "account": app.accounts[stage.name]}


class AccountStage(cdk.Stage):
    """The applications of one account of one stage: each its tier's stacks and plan."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        contexts: list[dict[str, Any]],
        account: str,
        region: str,
    ) -> None:
        super().__init__(scope, id_, env=cdk.Environment(account=account, region=region))
        for context in contexts:
            config = from_context(context.get)
            composed = compose(self, config)
            with tempfile.TemporaryDirectory(prefix="drtiers-fleet-") as alone:
                synthesize(context, Path(alone))  # the tier alone, for its plan's step list
                add_plans(self, config, Path(alone), {t.primary.tier.name: t for t in composed})


class FleetPipeline(cdk.Stack):
    """The pipeline, in the toolchain account and R."""

    def __init__(self, scope: Construct, id_: str, *, fleet: Fleet, fleet_file: str) -> None:
        super().__init__(
            scope,
            id_,
            env=cdk.Environment(account=fleet.toolchain.account, region=fleet.regions.recovery),
            description="drtiers fleet pipeline: every application's tier, stage by stage",
            analytics_reporting=False,
        )
        source = fleet.toolchain.source
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=id_,
            cross_account_keys=True,  # it deploys into the stages' accounts
            cli_version=pinned_cli(),
            synth=pipelines.ShellStep(
                "Synth",
                input=pipelines.CodePipelineSource.connection(
                    source.repository, source.branch, connection_arn=source.connection_arn
                ),
                install_commands=list(SYNTH_COMMANDS),
                commands=[f"npx cdk synth --context fleet={fleet_file}"],
            ),
        )


def build_fleet_app(
    app: cdk.App, fleet: Fleet, fleet_file: Path, base: Mapping[str, Any]
) -> FleetPipeline:
    """The pipeline and, wave by wave, a stage per account with its applications."""
    pipeline = FleetPipeline(
        app, "drtiers-fleet-pipeline", fleet=fleet, fleet_file=repository_path(fleet_file)
    )
    for stage in fleet.stages:
        pre = [pipelines.ManualApprovalStep(f"approve-{stage.name}")] if stage.approval else []
        wave = pipeline.pipeline.add_wave(stage.name, pre=pre)
        for account in stage.accounts:
            contexts = [
                account_context(fleet, a, stage, base, fleet_file.parent)
                for a in fleet.applications
                if a.accounts[stage.name] == account
            ]
            if contexts:
                wave.add_stage(
                    AccountStage(
                        app,
                        f"{stage.name}-{account}",
                        contexts=contexts,
                        account=account,
                        region=fleet.regions.primary,
                    )
                )
    return pipeline
