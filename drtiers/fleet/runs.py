"""Each application of a fleet as a tier of its own: synthesized with its workload, tier, name,
first stage's account and the fleet's regions, estimated, and simulated (region loss, then
failback; and region loss with every figure at its slow end), as `drtiers simulate` does one
tier. The estimate and the simulation do not depend on
the account, so one synthesis serves every account the application deploys to."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drtiers.assembly.reader import read_assembly
from drtiers.assembly.world import read_world
from drtiers.assess import assess_assembly
from drtiers.assess.model import Estimate
from drtiers.build import plan_failover, synthesize
from drtiers.config.context import from_context
from drtiers.config.fleet import Application, Fleet
from drtiers.recovery import simulate_assembly, steps
from drtiers.recovery.simulate import Simulation


@dataclass(frozen=True)
class AppRun:
    app: Application
    estimate: Estimate
    loss: Simulation
    back: Simulation
    slow_loss: Simulation  # region loss with every figure at its slow end (a target's judge)
    plan_seconds: float  # its plan's objective from the end of detection, as a parent counts it


def app_context(
    fleet: Fleet, app: Application, base: Mapping[str, Any], fleet_dir: Path
) -> dict[str, Any]:
    """The CDK context that synthesizes ``app``'s tier (``base``: cdk.json's)."""
    return {
        **base,
        "tier": app.tier,
        "workload": str(fleet_dir / app.workload),
        "app_name": app.name,
        "account": app.accounts[fleet.stages[0].name],
        "primary_region": fleet.regions.primary,
        "recovery_region": fleet.regions.recovery,
    }


def run_application(context: Mapping[str, Any], app: Application) -> AppRun:
    with tempfile.TemporaryDirectory(prefix="drtiers-fleet-") as outdir:
        synthesize(context, Path(outdir))
        (estimate,) = assess_assembly(Path(outdir))
        world = read_world(read_assembly(Path(outdir))[app.tier])
        failover = plan_failover(from_context(context.get), world)
        ((loss, back),) = simulate_assembly(Path(outdir), context, synthesize, tier=app.tier)
        ((slow, _),) = simulate_assembly(
            Path(outdir), context, synthesize, tier=app.tier, end="high"
        )
    return AppRun(app, estimate, loss, back, slow, steps.after_detection(failover))


def estimate_application(context: Mapping[str, Any]) -> Estimate:
    """The application's estimate alone (no simulation)."""
    with tempfile.TemporaryDirectory(prefix="drtiers-fleet-") as outdir:
        synthesize(context, Path(outdir))
        (estimate,) = assess_assembly(Path(outdir))
    return estimate


def estimate_fleet(fleet: Fleet, base: Mapping[str, Any], fleet_dir: Path) -> dict[str, Estimate]:
    """Every application's estimate, by name, in the file's order."""
    return {
        app.name: estimate_application(app_context(fleet, app, base, fleet_dir))
        for app in fleet.applications
    }


def run_fleet(fleet: Fleet, base: Mapping[str, Any], fleet_dir: Path) -> dict[str, AppRun]:
    """Every application's run, by name, in the file's order."""
    return {
        app.name: run_application(app_context(fleet, app, base, fleet_dir), app)
        for app in fleet.applications
    }
