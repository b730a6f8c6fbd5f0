"""The recovery path of each tier as data (steps), and its simulation on a model of the deployed
tier (simulate): region loss, then failback, checked against invariants I1-I10."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from drtiers.assembly.deployment import after_deploying
from drtiers.assembly.reader import TierAssembly, read_assembly
from drtiers.assembly.world import World, read_world
from drtiers.core.facts import at_end, with_overrides
from drtiers.recovery import simulate as _simulation
from drtiers.recovery.live import Live
from drtiers.recovery.simulate import Deploy, Simulation, Synthesize

__all__ = ["Simulation", "Synthesize", "fail_over_and_back", "simulate_assembly"]


def _deployer(context: Mapping[str, Any], tier: TierAssembly, synthesize: Synthesize) -> Deploy:
    """Synthesize ``tier`` with a step's context overrides, once per distinct context and set
    of stacks: what the stacks a step deploys would run, beside the stacks deployed before."""
    cache: dict[tuple[tuple[tuple[str, str], ...], tuple[str, ...]], World] = {}

    def deploy(overrides: Mapping[str, str], stacks: tuple[str, ...]) -> World:
        key = (tuple(sorted(overrides.items())), tuple(sorted(stacks)))
        if key not in cache:
            with tempfile.TemporaryDirectory(prefix="drtiers-step-") as outdir:
                synthesize({**context, "tier": tier.name, **overrides}, Path(outdir))
                fresh = read_assembly(Path(outdir))[tier.name]
            cache[key] = read_world(after_deploying(tier, fresh, stacks))
        return cache[key]

    return deploy


def simulate_assembly(
    directory: Path,
    context: Mapping[str, Any],
    synthesize: Synthesize,
    overrides: Mapping[str, Any] | None = None,
    tier: str | None = None,
    end: str | None = None,
) -> list[tuple[Simulation, Simulation]]:
    """Region loss and failback for every tier in a cloud assembly (or one), in tier order.
    ``context`` is what the assembly was synthesized with (steps that deploy a stack
    synthesize it again with their own overrides on top, by ``synthesize``). ``end``: every
    figure at that end of its range (``high``: as slow as published or assumed)."""
    results = []
    for name, assembly in read_assembly(directory).items():
        if tier is None or name == tier:
            deploy = _deployer_for(assembly, context, synthesize)
            results.append(_simulated(assembly, deploy, overrides, end))
    return results


def _simulated(
    assembly: TierAssembly,
    deploy: Deploy,
    overrides: Mapping[str, Any] | None = None,
    end: str | None = None,
) -> tuple[Simulation, Simulation]:
    """Region loss and failback of one tier, its figures as synthesized (or overridden)."""
    figures, workload = with_overrides({**assembly.figures, **(overrides or {})})
    if end is not None:
        figures = at_end(figures, end)
    return _simulation.simulate(assembly, figures, workload, deploy)


def _deployer_for(
    assembly: TierAssembly, context: Mapping[str, Any], synthesize: Synthesize
) -> Deploy:
    # A step's stacks are synthesized in the assembly's own regions.
    own = {
        **context,
        "primary_region": assembly.primary_region,
        "recovery_region": assembly.recovery_region,
    }
    return _deployer(own, assembly, synthesize)


def fail_over_and_back(
    context: Mapping[str, Any], synthesize: Synthesize
) -> Callable[[TierAssembly], tuple[list[str], Live]]:
    """Region loss and failback of a tier synthesized with ``context``, for the life cycle:
    what broke, and the tier as failback leaves it."""
    deployers: dict[tuple[str, str, str], Deploy] = {}  # a tier's rebuilds, synthesized once

    def event(tier: TierAssembly) -> tuple[list[str], Live]:
        key = (tier.name, tier.primary_region, tier.recovery_region)
        if key not in deployers:
            deployers[key] = _deployer_for(tier, context, synthesize)
        loss, back = _simulated(tier, deployers[key])
        assert back.end is not None, "a failback simulation keeps the world it ends with"
        return [str(v) for v in loss.violations + back.violations], back.end

    return event
