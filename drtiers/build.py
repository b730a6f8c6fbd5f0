"""Building the app: one composition per tier (which stacks exist, in which order, with which
entry point), synthesized in two phases (the tiers' stacks, then the stacks that need their
step list or estimate). app.py, the command line, the gates and the tests all build through
here; what must synthesize again (a rebuild's deploy, another tier's estimate) is given
``synthesize``."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api
from constructs import Construct

from drtiers.assembly import cache
from drtiers.assembly.reader import read_assembly
from drtiers.assembly.world import World, read_world
from drtiers.assess import Estimate, assess_assembly
from drtiers.assess.resilience import resilience_targets
from drtiers.config.context import DrConfig, from_context
from drtiers.core.facts import with_overrides
from drtiers.core.tiers import EntryPoint, TierSpec
from drtiers.recovery import steps
from drtiers.recovery.live import deployed
from drtiers.recovery.simulate import simulate_region_loss
from drtiers.stacks.base import TierStack
from drtiers.stacks.drills import DrillStack
from drtiers.stacks.edge import EdgeStack
from drtiers.stacks.plan import PlanStack
from drtiers.stacks.regional import PrimaryStack, RecoveryBaseStack, RecoveryStack
from drtiers.stacks.resilience import ResilienceStack
from drtiers.stacks.zone import ZoneStack


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


def compose_tier(
    scope: Construct, config: DrConfig, tier: TierSpec, zone: ZoneStack | None
) -> TierStacks:
    """Build a tier's stacks. The entry point (records or the accelerator's endpoint groups)
    is made last, in the edge stack, so that it reads P and R and neither reads it; its records
    go in ``zone``'s hosted zone (None: the ``hosted_zone_id`` given)."""
    edge = EdgeStack(scope, config=config, tier=tier, zone=zone)
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
    # In R, so that it shows P's loss (a recovery stack, or before a rebuild its base).
    (recovery or base).add_dashboard([base, primary, *([recovery] if recovery else []), edge])
    drills = None
    if config.drills and tier.has_recovery_stack:
        drills = DrillStack(scope, config=config, tier=tier, primary=primary)
    return TierStacks(base=base, primary=primary, recovery=recovery, edge=edge, drills=drills)


def compose(scope: Construct, config: DrConfig) -> list[TierStacks]:
    """The tiers' stacks, and without a ``hosted_zone_id`` the one zone stack they share."""
    zone = None if config.hosted_zone_id is not None else ZoneStack(scope, config=config)
    return [compose_tier(scope, config, tier, zone) for tier in config.tiers]


# cx_api's DISABLE_CREATION_STACK_TRACES (aws-cdk-lib/cx-api/lib/app.ts), not exported to Python
_NO_CREATION_STACKS = "aws:cdk:disable-creation-stack-traces"


def without_creation_stacks(scope: Construct) -> None:
    """The constructs ``scope`` will hold record no JavaScript stack of their creation: in a
    Python app those are jsii's frames only, at a cost to every synthesis (decision 60). Call
    it before ``scope`` has children; CDK_DEBUG keeps them."""
    scope.node.set_context(_NO_CREATION_STACKS, True)


class DrApp(cdk.App):
    """The tiers its context selects, composed as it is made: the one place context is read
    (``config``; a bad value raises ConfigError). It synthesizes in two phases: the tiers'
    stacks, then, from what they synthesized to, the stacks that need the tier's step list
    (its Region switch plan; with resilience_hub, its targets), and everything again (~0.2 s
    more). The step list is read from templates, so a plan can never describe a tier other
    than the one synthesized.

    ``context`` wins over a CDK_CONTEXT_JSON inherited from the CLI; without ``outdir`` the
    app writes where the CLI says (CDK_OUTDIR)."""

    def __init__(
        self,
        *,
        outdir: Path | None = None,
        context: Mapping[str, Any] | None = None,
        builtin_validation: bool = False,
    ) -> None:
        # The pinned cfn-lint checks every template of both region pairs (make check, make
        # lint, make test); the CDK's built-in WASM copy of it would add ~1.5 s to every synth,
        # so it is off but in the tests, which run it on sandbox mode and the rebuild.
        super().__init__(
            outdir=str(outdir) if outdir is not None else None,
            post_cli_context=dict(context) if context is not None else None,
            builtin_cloud_formation_validation=builtin_validation,
        )
        without_creation_stacks(self)
        self.config = from_context(self.node.try_get_context)
        self.tiers = compose(self, self.config)

    def synth(self, **options: Any) -> cx_api.CloudAssembly:
        first = super().synth(**options)
        if _second_phase(self, self.config, Path(first.directory), self.tiers):
            return super().synth(**{**options, "force": True})
        return first


def _second_phase(
    app: cdk.App, config: DrConfig, directory: Path, composed: Sequence[TierStacks]
) -> bool:
    """A plan stack for every synthesized tier that recovers by a plan, and (resilience_hub)
    a Resilience Hub stack with each tier's estimate; whether any stack was added."""
    if any(isinstance(c, (PlanStack, ResilienceStack)) for c in app.node.children):
        return False  # synthesized before
    added = bool(add_plans(app, config, directory, {t.primary.tier.name: t for t in composed}))
    if config.resilience_hub and not config.restore_from:
        tiers = {t.name: t for t in config.tiers}
        for estimate in assess_assembly(directory, config.assumptions):
            added |= add_resilience(app, config, tiers[estimate.tier], estimate) is not None
    return added


def add_plans(
    scope: Construct, config: DrConfig, directory: Path, tiers: Mapping[str, TierStacks]
) -> dict[str, PlanStack]:
    """A plan stack in ``scope`` (the app, or a fleet's stage) for every tier synthesized in
    ``directory`` that recovers by a plan, deployed after the stacks it names; by tier."""
    figures, workload = with_overrides(config.assumptions)
    assemblies = read_assembly(directory)

    def no_deploy(_: Mapping[str, str], __: tuple[str, ...]) -> World:
        raise AssertionError("a tier with a plan deploys no stack to fail over")

    added: dict[str, PlanStack] = {}
    for tier in config.tiers:
        if tier.name not in assemblies or config.restore_from:
            continue
        world = read_world(assemblies[tier.name])
        if not steps.has_plan(world):
            continue
        failover = plan_failover(config, world)
        _, after = simulate_region_loss(deployed(world), figures, workload, no_deploy)
        plan = PlanStack(
            scope,
            config=config,
            tier=tier,
            world=world,
            failover=failover,
            failback=steps.failback_steps(world, after, figures),
            rto_seconds=steps.recovery_seconds(failover),
            after_detection=steps.after_detection(failover),
        )
        # It names the regional stacks' functions, alarms, services and databases and the edge
        # stack's health check alarm or accelerator by fixed names, never by reference, so
        # nothing else tells `cdk deploy --all` to create them first.
        stacks = tiers[tier.name]
        for named in (stacks.primary, stacks.recovery, stacks.edge):
            if named is not None:
                plan.add_stack_dependency(named, "the plan names its resources")
        added[tier.name] = plan
    return added


def plan_failover(config: DrConfig, world: World) -> list[steps.Step]:
    """The failover steps a tier's plan is rendered from (and its objective derived from)."""
    figures, workload = with_overrides(config.assumptions)
    return steps.failover_steps(world, figures, workload)


def add_resilience(
    scope: Construct, config: DrConfig, tier: TierSpec, estimate: Estimate
) -> ResilienceStack | None:
    """The tier's Resilience Hub stack from its estimate (second synthesis), or None when
    ``resilience_hub`` is off."""
    if not config.resilience_hub:
        return None
    if estimate.tier != tier.name or (estimate.primary_region, estimate.recovery_region) != (
        config.primary_region,
        config.recovery_region,
    ):
        raise ValueError(
            f"add_resilience: the estimate is of {estimate.tier} in {estimate.primary_region}/"
            f"{estimate.recovery_region}; allowed: an estimate of {tier.name} in "
            f"{config.primary_region}/{config.recovery_region}"
        )
    return ResilienceStack(
        scope,
        config=config,
        tier=tier,
        targets=resilience_targets(estimate, config.assumptions),
    )


def build_app(outdir: Path, context: Mapping[str, Any]) -> DrApp:
    """An app with the tiers ``context`` selects, ready to synthesize into ``outdir`` in-process
    (for the estimate, the gates and the reports)."""
    return DrApp(outdir=outdir, context=context)


def synthesize(context: Mapping[str, Any], outdir: Path) -> None:
    """Synthesize the tiers ``context`` selects into ``outdir``, in-process, or copy the same
    synthesis from the cache."""
    name = cache.key(context)
    if cache.restore(name, outdir) is None:
        build_app(outdir, context).synth()
        cache.store(name, outdir)


def synthesize_and_assess(
    context: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> list[Estimate]:
    """Synthesize the tiers ``context`` selects into a temporary directory and assess them."""
    with tempfile.TemporaryDirectory(prefix="drtiers-") as outdir:
        synthesize(context, Path(outdir))
        return assess_assembly(Path(outdir), overrides)
