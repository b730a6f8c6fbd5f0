"""drtiers simulate, results and report: the recovery steps run against a lost region, saved
executions and drills measured against the estimate, and the review reports."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from drtiers.assembly.reader import TierAssembly
from drtiers.cli.common import (
    UsageError,
    check_folder,
    check_tier,
    command_context,
    new_table,
    pairs,
)
from drtiers.core.durations import format_duration, iso_duration_seconds
from drtiers.recovery import simulate_assembly
from drtiers.recovery.lifecycle import destroy_plan, shared_stacks
from drtiers.recovery.restores import RestoreResult
from drtiers.recovery.results import DrillResult, PlanResult, Results
from drtiers.recovery.simulate import FIXES, Simulation


def cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    """Lose the primary region, run the failover steps (and with --failback bring it back and
    run the failback steps), checking invariants I1-I9 after each step."""
    import tempfile

    from drtiers.build import synthesize

    if args.tier:
        check_tier(args.tier)
    context = command_context(args)
    if args.assembly:
        results = simulate_assembly(Path(args.assembly), context, synthesize, tier=args.tier)
    else:
        with tempfile.TemporaryDirectory(prefix="drtiers-simulate-") as directory:
            synthesize({**context, "tier": args.tier or ""}, Path(directory))
            results = simulate_assembly(Path(directory), context, synthesize, tier=args.tier)
    if not results:
        raise UsageError(f"tier '{args.tier}' is not in this assembly; synthesize it first")
    simulations = [
        sim for loss, back in results for sim in (loss, back if args.failback else None) if sim
    ]
    if args.json:
        print(json.dumps([_simulation_json(sim) for sim in simulations], indent=2))
    else:
        for sim in simulations:
            table = new_table(
                f"{sim.tier}: {sim.event} ({sim.primary} lost, recovering in {sim.recovery})",
                ("start s", "end s", "step", "what changed", "traffic goes to"),
                text=("what changed", "traffic goes to"),
            )
            for e in sim.timeline:
                table.add_row(
                    f"{e.start:g}",
                    f"{e.end:g}",
                    e.step,
                    e.changed,
                    ", ".join(e.traffic) or "nowhere",
                )
            console.print(table)
            console.print(
                "  ".join(f"{i} {v}" for i, v in sim.verdicts().items())
                + (
                    f"; recovered at {format_duration(sim.recovered_at)} (estimated "
                    f"{format_duration(sim.estimate_rto or 0)})"
                    if sim.recovered_at is not None
                    else ""
                )
            )
        for sim in simulations:
            for violation in sim.violations:
                print(f"drtiers: {sim.tier}: {sim.event}: {violation}", file=sys.stderr)
    return 0 if all(sim.passed for sim in simulations) else 1


def _simulation_json(sim: Simulation) -> dict[str, Any]:
    return {
        "tier": sim.tier,
        "event": sim.event,
        "primary_region": sim.primary,
        "recovery_region": sim.recovery,
        "passed": sim.passed,
        "verdicts": sim.verdicts(),
        "recovered_at_seconds": sim.recovered_at,
        "estimated_rto_seconds": sim.estimate_rto,
        "timeline": [
            {
                "step": e.step,
                "start": e.start,
                "end": e.end,
                "changed": e.changed,
                "traffic": list(e.traffic),
            }
            for e in sim.timeline
        ],
        "violations": [
            {
                "invariant": v.invariant,
                "step": v.step,
                "resource": v.resource,
                "detail": v.detail,
                "fix": FIXES[v.invariant],
            }
            for v in sim.violations
        ],
    }


def cmd_results(args: argparse.Namespace, console: Console) -> int:
    """Compare saved Region switch plan executions (failover or failback) with the estimate,
    step by step, report saved fault-injection experiments against the steps they rehearse,
    and restore jobs against the estimate's restore rate. Exit 1 when a step, the plan or a
    restore was slower than estimated, failed or is missing, a step is not in the step list, a
    drill stopped before its duration, or a restore test's validation failed."""
    from drtiers.build import synthesize
    from drtiers.recovery.results import read_results  # botocore: only here

    if args.tier:
        check_tier(args.tier)
    results = read_results(
        args.files,
        command_context(args),
        synthesize,
        tier=args.tier,
        overrides=pairs(args.set, "--set"),
        assembly=Path(args.assembly) if args.assembly else None,
    )
    if args.json:
        content = {
            "plans": [asdict(p) for p in results.plans],
            "drills": [asdict(d) for d in results.drills],
            "restores": [asdict(r) for r in results.restores],
            "findings": results.findings,
        }
        print(json.dumps(content, indent=2))
        return 1 if results.findings else 0
    for plan in results.plans:
        _print_plan(plan, console)
    if results.drills:
        _print_drills(results.drills, console)
    if results.restores:
        _print_restores(results.restores, console)
    for finding in results.findings:
        print(f"drtiers: results: {finding}", file=sys.stderr)
    return 1 if results.findings else 0


def _seconds(value: float | None) -> str:
    return "-" if value is None else format_duration(round(value, 1))


def _window(start: float | None, end: float | None) -> str:
    return "-" if start is None or end is None else f"{start:g} to {end:g}"


_NOT_MEASURED = {
    "automatic": "automatic: not measured",
    "runbook": "runbook: not in the plan",
    "other workflow": "in the other failback workflow",
}


def _print_plan(plan: PlanResult, console: Console) -> None:
    table = Table(
        title=f"{plan.tier}: {plan.direction} by plan {plan.plan}, execution "
        f"{plan.execution_id} ({plan.state}, started {plan.start}); times from the plan's start"
    )
    table.add_column("step", no_wrap=True)
    for column in ("estimated", "measured", "planned s", "ran s", "verdict"):
        table.add_column(column)
    for r in plan.steps:
        table.add_row(
            r.step,
            _seconds(r.estimated_seconds),
            _seconds(r.measured_seconds),
            _window(r.planned_start, r.planned_end),
            _window(r.measured_start, r.measured_end),
            _NOT_MEASURED.get(r.verdict, r.verdict),
        )
    table.add_section()
    table.add_row(
        "plan",
        _seconds(plan.estimated_seconds),
        _seconds(plan.measured_seconds),
        _window(0, plan.estimated_seconds),
        _window(0, plan.measured_seconds) if plan.measured_seconds is not None else "-",
        plan.verdict,
    )
    console.print(table)
    if plan.report is not None:
        console.print(f"Execution report: {plan.report}")
    if plan.estimated_rto_seconds is None:
        return
    as_run = (
        _seconds(plan.rto_with_measured_seconds)
        if plan.rto_with_measured_seconds is not None
        else "unknown (a step recovery waits for did not finish)"
    )
    reported = iso_duration_seconds(plan.actual_recovery_time or "")
    console.print(
        f"RTO: estimated {_seconds(plan.estimated_rto_seconds)}, of which "
        f"{_seconds(plan.before_plan_seconds)} of detection before the plan starts (not "
        f"measured); with the plan's steps as they ran, {as_run}"
        + (f"; Region switch reports {_seconds(reported)}." if reported is not None else ".")
    )


def _print_drills(drills: list[DrillResult], console: Console) -> None:
    table = Table(title="Drills: fault-injection experiments")
    table.add_column("drill", no_wrap=True)
    for column in ("state", "ran", "rehearses"):
        table.add_column(column)
    for d in drills:
        rehearses = ", ".join(d.rehearses) or "no step"
        if d.not_steps:
            rehearses += f"; not steps of {d.tier}: {', '.join(d.not_steps)}"
        if not d.known:
            rehearses += f"; no drill {d.drill} in {d.tier}'s drill stack"
        ran = _seconds(d.ran_seconds)
        if d.ran_long_enough is not None:
            verdict = "as long as it must" if d.ran_long_enough else "stopped short"
            ran += f" of {_seconds(d.required_seconds)}: {verdict}"
        state = d.status + (", by an alarm" if d.stopped_by_alarm else "")
        table.add_row(f"{d.drill}\n{d.experiment_id}\n{d.start or ''}", state, ran, rehearses)
    console.print(table)


def _print_restores(restores: list[RestoreResult], console: Console) -> None:
    table = Table(title="Restores: measured against the estimate's restore rate")
    table.add_column("store", no_wrap=True)
    for column in ("size", "measured", "estimated", "verdict"):
        table.add_column(column)
    for r in restores:
        size = "-" if r.size_gb is None else f"{r.size_gb:g} GB" + " (assumed)" * r.size_assumed
        validated = f"\nvalidation {r.validation}" if r.validation else ""
        table.add_row(
            f"{r.resource_type} {r.store}\n{r.job_id}",
            size,
            _seconds(r.measured_seconds),
            _seconds(r.estimated_seconds),
            r.verdict + validated,
        )
    console.print(table)


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """Synthesize all four tiers and run every policy gate (or read --assembly, with the
    rule pack only), then write the review reports."""
    import tempfile

    from drtiers.build import synthesize
    from drtiers.recovery.results import read_file, read_results
    from drtiers.report.build import write_reports

    if args.tier:
        check_tier(args.tier)
    for path in args.results:  # a bad file fails before anything is synthesized or written
        read_file(path)
    out = check_folder(Path(args.out), "--out")
    context = command_context(args)

    def measured(directory: Path) -> Results | None:
        if not args.results:
            return None
        return read_results(args.results, context, synthesize, assembly=directory)

    if args.assembly:
        assembly = Path(args.assembly)
        written = write_reports(assembly, out, context, args.tier, results=measured(assembly))
    else:
        from drtiers.checks import usable_cores
        from drtiers.checks.gates import run_gates

        with tempfile.TemporaryDirectory(prefix="drtiers-report-") as directory:
            cores = usable_cores()
            gates, simulated = run_gates(Path(directory), context, lint_processes=cores)
            written = write_reports(
                Path(directory),
                out,
                context,
                args.tier,
                gates,
                simulated,
                measured(Path(directory)),
            )
    for path in written:
        console.print(f"wrote {path}")
    return 0


def cmd_destroy(args: argparse.Namespace, console: Console) -> int:
    """How to destroy a tier (drtiers.recovery.lifecycle): the stacks in order, each with what
    protects it turned off first, then what stays, what it bills and how to remove it. Prints
    only: nothing is called."""
    import tempfile

    from drtiers.assembly.reader import read_assembly
    from drtiers.build import synthesize

    check_tier(args.tier)
    context = command_context(args)
    if args.assembly:
        tiers = read_assembly(Path(args.assembly))
    else:
        with tempfile.TemporaryDirectory(prefix="drtiers-destroy-") as directory:
            synthesize({**context, "tier": args.tier}, Path(directory))
            tiers = read_assembly(Path(directory))
    if args.tier not in tiers:
        raise UsageError(f"tier '{args.tier}' is not in this assembly; synthesize it first")
    _print_destroy(console, tiers[args.tier])
    return 0


def _print_destroy(console: Console, tier: TierAssembly) -> None:
    """The tier's own stacks, then (once no other tier of the app is deployed) the app's."""
    shared = shared_stacks(tier)
    everything = {f"{region}:{name}" for name, (_, region) in tier.stacks.items()}
    for title, plan in (
        (f"{tier.name}: destroy, in this order", destroy_plan(tier, shared)),
        (
            "then, once no other tier of the app is deployed",
            destroy_plan(tier, frozenset(everything - shared)),
        ),
    ):
        console.print(f"[bold]{title}[/bold]")
        for number, step in enumerate(plan.steps, 1):
            console.print(f"{number}. {step.title}:")
            print(f"   {step.command}")
        if plan.stays:
            console.print("[bold]what stays[/bold]")
        for stays in plan.stays:
            console.print(f"- {stays.what}: {stays.why}.", soft_wrap=True)
            console.print(f"  billed while it stays: {stays.billed or 'not known'}", soft_wrap=True)
            print(f"  remove it: {stays.remove or stays.note or '(drtiers knows no command)'}")
