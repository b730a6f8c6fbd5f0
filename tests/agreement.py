"""One answer per workload (issue 18): over an assembly the gates synthesized, every route that
shows a tier's RTO, RPO or cost must show the same figures. No synthesis of its own: it reads
the assembly and the simulations the gates already ran.

The routes: the workload figures ``cdk synth`` writes into the stacks' metadata; the estimate
(``assess_assembly``, behind ``list``, ``explain`` and ``recommend``); the targets ``cdk synth``
checks (the estimate with the configuration's figures on top); ``drtiers list`` and ``drtiers
explain`` as they print (``--json``); the simulator's recovery time; the Region switch plan's
RTO objective in the templates; and the report."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from drtiers.assembly.reader import read_assembly
from drtiers.assess import assess_assembly
from drtiers.assess.model import Estimate
from drtiers.cli.estimates import cmd_explain, cmd_list
from drtiers.config.context import from_context
from drtiers.recovery import Simulation
from drtiers.report.build import tier_reports

Figures = tuple[float, float, float, float]  # RTO s, RPO s, USD a month, failed over USD an hour


def figures(e: Estimate) -> Figures:
    return (e.rto_seconds, e.rpo_seconds, e.monthly_cost_usd, e.failed_over_usd_per_hour)


def _printed(command: Any, directory: Path, tier: str = "") -> Any:
    """What ``drtiers list|explain --assembly DIR --json`` prints, parsed."""
    args = argparse.Namespace(assembly=str(directory), set=[], context=[], json=True, tier=tier)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        command(args, None)
    return json.loads(out.getvalue())


def _from_json(shown: dict[str, Any]) -> Figures:
    return (
        shown["rto_seconds"],
        shown["rpo_seconds"],
        shown["monthly_cost_usd"],
        shown["failed_over_usd_per_hour"],
    )


def _plan_objectives(directory: Path) -> Iterator[tuple[str, float]]:
    """(stack, RecoveryTimeObjectiveMinutes) of every Region switch plan in the templates."""
    for path in sorted(directory.glob("*.template.json")):
        for resource in json.loads(path.read_text()).get("Resources", {}).values():
            if resource["Type"] == "AWS::ARCRegionSwitch::Plan":
                minutes = resource["Properties"]["RecoveryTimeObjectiveMinutes"]
                yield path.name.removesuffix(".template.json"), float(minutes)


def disagreements(
    directory: Path, context: dict[str, Any], simulations: list[tuple[Simulation, Simulation]]
) -> list[str]:
    """One line per route whose figures differ from the estimate's, per tier. ``context`` is
    what the assembly was synthesized with, ``simulations`` what the gates ran over it."""
    config = from_context(context.get)
    found = [
        f"{name}: metadata figures {tier.figures}, the configuration's {config.assumptions}"
        for name, tier in read_assembly(directory).items()
        if tier.figures != config.assumptions
    ]
    estimates = {e.tier: figures(e) for e in assess_assembly(directory)}
    routes: dict[str, dict[str, Figures]] = {
        "targets (synth)": {
            e.tier: figures(e) for e in assess_assembly(directory, config.assumptions)
        },
        "list": {s["tier"]: _from_json(s) for s in _printed(cmd_list, directory)},
        "explain": {t: _from_json(_printed(cmd_explain, directory, t)) for t in estimates},
        "report": {
            r.tier: figures(r.estimate)
            for r in tier_reports(directory, context, simulated=simulations)
        },
    }
    for route, shown in routes.items():
        found += [
            f"{tier}: {route} shows {shown.get(tier)}, the estimate {want}"
            for tier, want in estimates.items()
            if shown.get(tier) != want
        ]
    for loss, _ in simulations:
        rto = estimates[loss.tier][0]
        if (loss.recovered_at, loss.estimate_rto) != (rto, rto):
            found.append(
                f"{loss.tier}: simulate recovered at {loss.recovered_at} (estimated "
                f"{loss.estimate_rto}), the estimate's RTO {rto}"
            )
    tiers = {stack: name for name, t in read_assembly(directory).items() for stack in t.stacks}
    for stack, minutes in _plan_objectives(directory):
        rto = estimates[tiers[stack]][0]
        if minutes != math.ceil(rto / 60):
            found.append(f"{stack}: plan objective {minutes:g} min, the estimate's RTO {rto:g} s")
    return found
