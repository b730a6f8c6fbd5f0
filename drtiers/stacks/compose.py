"""One composition per tier: which stacks exist, in which order, with which entry point."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
from constructs import Construct

from drtiers.config import DrConfig, from_context
from drtiers.stacks.base import TierStack
from drtiers.stacks.drills import DrillStack
from drtiers.stacks.edge import EdgeStack
from drtiers.stacks.regional import PrimaryStack, RecoveryBaseStack, RecoveryStack
from drtiers.tiers import EntryPoint, TierSpec


@dataclass(frozen=True)
class TierStacks:
    base: RecoveryBaseStack
    primary: PrimaryStack
    recovery: RecoveryStack | None
    edge: EdgeStack
    drills: DrillStack | None = None

    @property
    def all(self) -> tuple[TierStack, ...]:
        stacks: list[TierStack] = [self.base, self.primary, self.edge]
        if self.recovery is not None:
            stacks.insert(2, self.recovery)
        if self.drills is not None:
            stacks.append(self.drills)
        return tuple(stacks)


def compose_tier(scope: Construct, config: DrConfig, tier: TierSpec) -> TierStacks:
    """Build a tier's stacks. The entry point (records or the accelerator's endpoint groups)
    is made last, in the edge stack, so that it reads P and R and neither reads it."""
    edge = EdgeStack(scope, config=config, tier=tier)
    base = RecoveryBaseStack(scope, config=config, tier=tier)
    primary = PrimaryStack(scope, config=config, tier=tier, base=base)
    recovery = None
    if tier.has_recovery_stack:
        recovery = RecoveryStack(
            scope,
            config=config,
            tier=tier,
            primary=primary,
            base=base,
        )
    if tier.entry_point is EntryPoint.ACCELERATOR:
        # A rebuild (restore_from) deploys its primary stack alone, with its own group.
        serving = [] if config.restore_from else [primary, *([recovery] if recovery else [])]
        edge.accelerate(*serving)
    elif tier.entry_point is EntryPoint.DNS_FAILOVER:
        assert recovery is not None, f"{tier.name}: DNS failover needs a recovery stack"
        edge.fail_over(primary, recovery, recovery.writable_alarm)
    drills = None
    if config.drills and tier.has_recovery_stack:
        drills = DrillStack(scope, config=config, tier=tier, primary=primary)
    return TierStacks(base=base, primary=primary, recovery=recovery, edge=edge, drills=drills)


def compose(scope: Construct, config: DrConfig) -> list[TierStacks]:
    return [compose_tier(scope, config, tier) for tier in config.tiers]


def build_app(
    outdir: Path,
    context: Mapping[str, Any],
    plugins: Sequence[cdk.IPolicyValidationPlugin | cdk.IPolicyValidationPluginBeta1] = (),
) -> cdk.App:
    """An app with the tiers ``context`` selects, ready to synthesize into ``outdir`` in-process
    (for the estimate, the gates and the reports). ``context`` wins over a CDK_CONTEXT_JSON
    inherited from the CLI. A plugin's findings fail ``synth()``; its report is in ``outdir``."""
    app = cdk.App(
        outdir=str(outdir), post_cli_context=dict(context), builtin_cloud_formation_validation=False
    )
    if plugins:
        # Validations accepts Beta1 plugins (cdk-validator-cfnguard) at run time too.
        cdk.Validations.of(app).add_plugins(*cast(Sequence[cdk.IPolicyValidationPlugin], plugins))
    compose(app, from_context(app.node.try_get_context))
    return app
