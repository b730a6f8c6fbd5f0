"""drtiers fleet list|explain|simulate|check: a fleet file's applications, each estimated and
simulated as its own tier, per application and account, with the fleet's totals; each failover
group's parent plan run over them (drtiers.fleet); and every application through make check's
gates."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from rich.console import Console

from drtiers.assess.model import Estimate
from drtiers.build import without_creation_stacks
from drtiers.checks import usable_cores
from drtiers.checks.gates import run_gates, stack_findings
from drtiers.cli.common import command_context, new_table
from drtiers.config.fleet import Fleet, read_fleet
from drtiers.core.durations import format_duration
from drtiers.core.facts import price_data
from drtiers.fleet.parent import FLEET_INVARIANTS, ParentRun, approval_seconds, run_parent
from drtiers.fleet.pipeline import parent_stacks, stage_apps
from drtiers.fleet.runs import AppRun, app_context, estimate_fleet, run_fleet


def _fleet(args: argparse.Namespace) -> tuple[Fleet, dict[str, Any], Path]:
    """The fleet file, the context its applications are synthesized in, and its folder."""
    path = Path(args.fleet)
    fleet = read_fleet(path)
    base = {k: v for k, v in command_context(args).items() if k not in ("tier", "workload")}
    return fleet, base, path.parent


def _rows(fleet: Fleet, estimates: dict[str, Estimate]) -> list[dict[str, Any]]:
    """One row per application and account it deploys to."""
    return [
        {
            "application": app.name,
            "stage": stage,
            "account": account,
            "tier": app.tier,
            "rto_seconds": estimates[app.name].rto_seconds,
            "rpo_seconds": estimates[app.name].rpo_seconds,
            "usd_per_month": estimates[app.name].monthly_cost_usd,
            "failed_over_usd_per_hour": estimates[app.name].failed_over_usd_per_hour,
        }
        for app in fleet.applications
        for stage, account in app.accounts.items()
    ]


def totals(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The fleet's monthly cost in standby, and for a month spent failed over."""
    standby = sum(r["usd_per_month"] for r in rows)
    hours = float(price_data()["hours_per_month"])
    failed_over = sum(r["failed_over_usd_per_hour"] for r in rows) * hours
    return {
        "standby_usd_per_month": round(standby, 2),
        "failed_over_usd_per_month": round(failed_over, 2),
    }


def _check(args: argparse.Namespace, console: Console) -> int:
    """Every application's templates through make check's gates (cfn-lint, cdk-nag, Guard,
    the DR rule pack, the simulation), as synthesized for its first stage's account: the
    pipeline's stages deploy the same templates, account by account."""
    fleet, base, folder = _fleet(args)
    findings = 0
    for app in fleet.applications:
        context = app_context(fleet, app, base, folder)
        with tempfile.TemporaryDirectory(prefix="drtiers-fleet-check-") as out:
            results, _ = run_gates(Path(out), context, app.tier, usable_cores())
        lines = [
            f"  [{checker}] {line}"
            for row in results.values()
            for checker, found in row.items()
            for line in found
        ]
        findings += len(lines)
        console.print(
            f"{app.name} ({app.tier}): {'pass' if not lines else f'{len(lines)} findings'}"
        )
        for line in lines:
            console.print(line)
    parents = _check_parent_plans(fleet, base, folder)
    console.print(
        "parent plans and the roles they run children through: "
        + ("pass" if not parents else f"{len(parents)} findings")
    )
    for line in parents:
        console.print(f"  {line}")
    return 1 if findings or parents else 0


def _check_parent_plans(fleet: Fleet, base: dict[str, Any], folder: Path) -> list[str]:
    """The parent plans' pieces of every stage, as the pipeline deploys them."""
    with tempfile.TemporaryDirectory(prefix="drtiers-fleet-check-") as out:
        app = cdk.App(outdir=str(Path(out) / "app"), analytics_reporting=False)
        without_creation_stacks(app)
        stacks = [
            s
            for stage in fleet.stages
            for s in parent_stacks(*stage_apps(app, fleet, stage, base, folder))
        ]
        app.synth()
        return stack_findings(stacks, Path(out) / "checked", usable_cores())


def cmd_fleet(args: argparse.Namespace, console: Console) -> int:
    if args.action == "check":
        return _check(args, console)
    fleet, base, folder = _fleet(args)
    # list needs the estimates only; explain and simulate run every application's recovery
    runs = run_fleet(fleet, base, folder) if args.action != "list" else {}
    estimates = (
        {name: run.estimate for name, run in runs.items()}
        if runs
        else estimate_fleet(fleet, base, folder)
    )
    rows = _rows(fleet, estimates)
    if args.action == "simulate":
        return _simulate(fleet, runs, args, console)
    if args.json:
        shown: dict[str, Any] = {"applications": rows, "totals": totals(rows)}
        if args.action == "explain":
            shown["groups"] = groups(fleet, runs)
        print(json.dumps(shown, indent=2))
        return 0
    table = new_table(
        "drtiers fleet: each application in each account it deploys to (estimates, typical)",
        ("application", "stage", "account", "tier", "RTO", "RPO", "USD / month"),
        text=("RTO", "RPO", "USD / month"),
    )
    for r in rows:
        table.add_row(
            r["application"],
            r["stage"],
            r["account"],
            r["tier"],
            format_duration(r["rto_seconds"]),
            format_duration(r["rpo_seconds"]),
            f"{r['usd_per_month']:,.0f}",
        )
    console.print(table)
    total = totals(rows)
    console.print(
        f"Fleet total: {total['standby_usd_per_month']:,.0f} USD a month in standby; "
        f"{total['failed_over_usd_per_month']:,.0f} USD for a month failed over "
        f"({len(fleet.applications)} applications in {len({r['account'] for r in rows})} "
        "accounts)"
    )
    if args.action == "explain":
        _explain_groups(fleet, runs, console)
    return 0


def groups(fleet: Fleet, runs: dict[str, AppRun]) -> list[dict[str, Any]]:
    """Each failover group's order and its parent plan's region loss: when it recovers
    (typical, every figure at its slow end) and the objective its plan states."""
    shown = []
    for group in fleet.failover_groups:
        loss, _ = run_parent(fleet, group, runs, approval_seconds())
        shown.append(
            {
                "group": group.name,
                "steps": [list(step) for step in group.steps],
                "recovered_seconds": loss.recovered_at,
                "slow_recovered_seconds": loss.slow_recovered_at or loss.recovered_at,
                "objective_seconds": loss.objective_seconds or 0.0,
            }
        )
    return shown


def _explain_groups(fleet: Fleet, runs: dict[str, AppRun], console: Console) -> None:
    for g in groups(fleet, runs):
        order = " then ".join(" + ".join(step) for step in g["steps"])
        console.print(
            f"Failover group {g['group']}: one approval, then {order}; recovers in "
            f"{format_duration(g['recovered_seconds'])}, "
            f"{format_duration(g['slow_recovered_seconds'])} with every figure at its slow end "
            f"(simulated, each application's plan whole); its parent plan's objective: "
            f"{format_duration(g['objective_seconds'])} (from its applications' step lists)"
        )


def _simulate(
    fleet: Fleet, runs: dict[str, AppRun], args: argparse.Namespace, console: Console
) -> int:
    parents = [
        run
        for group in fleet.failover_groups
        for run in run_parent(fleet, group, runs, approval_seconds())
    ]
    if args.json:
        print(json.dumps([_parent_json(p) for p in parents], indent=2))
    else:
        for p in parents:
            verdict = "passed" if p.passed else "FAILED"
            console.print(
                f"{p.group} {p.event} to {p.target}: {verdict}, recovered at "
                f"{format_duration(p.recovered_at)}"
            )
            for name, t in p.children.items():
                console.print(
                    f"  {name}: starts {t.start:.0f} s, writable "
                    f"{'-' if t.writable is None else f'{t.writable:.0f} s'}, traffic "
                    f"{'-' if t.traffic is None else f'{t.traffic:.0f} s'}, done {t.done:.0f} s"
                )
            for v in p.violations:
                console.print(f"  {v}")
    return 0 if all(p.passed for p in parents) else 1


def _parent_json(p: ParentRun) -> dict[str, Any]:
    return {
        "group": p.group,
        "event": p.event,
        "target_region": p.target,
        "passed": p.passed,
        "recovered_at_seconds": p.recovered_at,
        "slow_recovered_at_seconds": p.slow_recovered_at,
        "objective_seconds": p.objective_seconds,
        "children": {n: vars(t) for n, t in p.children.items()},
        "violations": p.violations,
        "invariants": FLEET_INVARIANTS,
    }
