"""The ``drtiers`` command: what each tier gets you and what it costs, before you deploy it.

Every figure comes from the tiers as synthesized (a fresh in-process synth of this checkout, or
``--assembly cdk.out``) and the data files in drtiers/assess, each with its source.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from rich.console import Console
from rich.table import Table

from drtiers.assembly.reader import AssemblyError
from drtiers.assess import assess_assembly
from drtiers.assess.model import Estimate
from drtiers.config.context import ConfigError, cdk_json_context, cdk_json_file
from drtiers.config.workload import DEFAULT_FILE, json_schema, starter_file
from drtiers.core.durations import (
    format_duration,
    format_range,
    iso_duration_seconds,
    parse_duration,
)
from drtiers.core.facts import ParameterError, default_workload, use_price_file
from drtiers.core.tiers import TIER_NAMES
from drtiers.recovery import simulate_assembly
from drtiers.recovery.results import DrillResult, PlanResult, Results
from drtiers.recovery.simulate import FIXES, Simulation

# drtiers.build (and drtiers.advice, the gates and the reports above it) import aws_cdk, which
# starts a Node.js process: only the commands that synthesize import them, so that --help,
# schema, init and prices answer at once.
if TYPE_CHECKING:
    from drtiers.advice.recommend import Candidate, Recommendation

ESTIMATE_NOTE = (
    "Estimates, not quotes: on-demand list prices of each region from the price file, few of "
    "them verified (unverified ones marked *, the file says what each rests on), and the "
    "workload figures are assumptions (--set NAME=VALUE)."
)


class UsageError(ValueError):
    """A bad argument: one line for the user."""


def _pairs(values: Sequence[str], what: str) -> dict[str, str]:
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{what}: '{item}' is not KEY=VALUE")
        result[key] = value
    return result


def _estimates(args: argparse.Namespace) -> list[Estimate]:
    overrides = _pairs(args.set, "--set")
    if args.assembly:
        return assess_assembly(Path(args.assembly), overrides)
    from drtiers.build import synthesize_and_assess

    return synthesize_and_assess(_cdk_json_context(args), overrides)


def _cdk_json_context(args: argparse.Namespace) -> dict[str, Any]:
    """cdk.json's context with --context overrides, for all four tiers."""
    cdk_json = cdk_json_file()  # the nearest, as the CDK CLI finds its app
    if cdk_json is None:
        raise UsageError(
            "no cdk.json here: run drtiers inside the repository, or give --assembly DIR"
        )
    context = cdk_json_context(cdk_json.parent)
    context.update(_pairs(args.context, "--context"))
    workload = cdk_json.parent / DEFAULT_FILE  # as cdk synth, run beside cdk.json, reads it
    if "workload" not in context and workload.is_file():
        context["workload"] = str(workload)
    context["tier"] = ""  # always all four: the commands compare tiers
    return context


def _find(estimates: list[Estimate], tier: str) -> Estimate:
    _check_tier(tier)
    for candidate in estimates:
        if candidate.tier == tier:
            return candidate
    raise UsageError(f"tier '{tier}' is not in this assembly; synthesize it first")


def _summary(e: Estimate) -> dict[str, Any]:
    return {
        "tier": e.tier,
        "rpo_seconds": e.rpo_seconds,
        "rpo_low_seconds": e.rpo_range[0],
        "rpo_high_seconds": e.rpo_range[1],
        "rto_seconds": e.rto_seconds,
        "rto_low_seconds": e.rto_range[0],
        "rto_high_seconds": e.rto_range[1],
        "monthly_cost_usd": e.monthly_cost_usd,
        "recovery_region_holds": e.recovery_holds,
        "primary_region": e.primary_region,
        "recovery_region": e.recovery_region,
        "failed_over_usd_per_hour": e.failed_over_usd_per_hour,
        "failed_over_usd_per_day": e.failed_over_usd_per_day,
        "price_notes": e.price_notes,
        "estimate": True,
    }


def _dominant(e: Estimate) -> dict[str, Any] | None:
    step = e.dominant_step()
    if step is None:
        return None
    return {
        "step": step.name,
        "seconds": step.seconds,
        "share_of_rto": round(step.seconds / e.rto_seconds, 3) if e.rto_seconds else None,
        "critical_path": [s.name for s in e.critical_path()],
    }


def _dominant_line(e: Estimate) -> str:
    """Which step dominates the RTO: the longest on the critical path, and its share."""
    step = e.dominant_step()
    if step is None or not e.rto_seconds:
        return "RTO: no step takes time."
    path = " -> ".join(s.name for s in e.critical_path())
    return (
        f"Dominant step: {step.name}, {format_duration(step.seconds)} of the typical RTO "
        f"{format_duration(e.rto_seconds)} ({step.seconds / e.rto_seconds:.0%}); critical "
        f"path: {path}"
    )


def _detail(e: Estimate) -> dict[str, Any]:
    return {
        **_summary(e),
        "dominant_step": _dominant(e),
        "rpo": [
            {
                "store": s.store,
                "seconds": s.seconds,
                "low_seconds": s.low,
                "high_seconds": s.high,
                "how": s.how,
                "sources": s.sources,
            }
            for s in e.rpo
        ],
        "rto_steps": [
            {
                "step": s.name,
                "start": s.start,
                "end": s.end,
                "after": list(s.after),
                "counts": s.counts,
                "how": s.how,
                "sources": s.sources,
            }
            for s in e.rto_steps
        ],
        "cost": [
            {
                "item": c.item,
                "region": c.region,
                "quantity": round(c.quantity, 3),
                "unit_price_usd": c.unit_price.value,
                "unit": c.unit_price.unit,
                "monthly_usd": c.monthly_usd,
                "price_status": c.unit_price.status,
                "price_region": c.unit_price.region,
                "source": c.unit_price.source,
                "as_of": c.unit_price.as_of,
            }
            for c in e.cost
        ],
        "failed_over": {
            "steady_usd_per_hour": e.steady_usd_per_hour,
            "usd_per_hour": e.failed_over_usd_per_hour,
            "usd_per_day": e.failed_over_usd_per_day,
            "usd_once": e.event_once_usd,
            "lines": [asdict(line) for line in e.event],
        },
    }


def _failed_over(e: Estimate) -> str:
    return (
        f"Failed over: about ${e.failed_over_usd_per_hour:,.2f} an hour "
        f"(${e.failed_over_usd_per_day:,.0f} a day) against ${e.steady_usd_per_hour:,.2f} at "
        f"steady state, plus ${e.event_once_usd:,.0f} once to fail back"
    )


def _print_price_notes(estimates: list[Estimate]) -> None:
    for note in sorted({n for e in estimates for n in e.price_notes}):
        print(f"drtiers: note: {note}", file=sys.stderr)


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    estimates = _estimates(args)
    if args.json:
        print(json.dumps([_summary(e) for e in estimates], indent=2))
        _print_price_notes(estimates)
        return 0
    table = _table(
        "drtiers: estimated RPO, RTO (typical, with the range from every figure at its "
        "low and high end) and monthly cost per tier",
        ("tier", "RPO", "RTO", "USD / month", "recovery region holds"),
    )
    for e in estimates:
        table.add_row(
            e.tier,
            e.rpo_text,
            e.rto_text,
            f"{e.monthly_cost_usd:,.0f}",
            e.recovery_holds,
        )
    console.print(table)
    console.print(ESTIMATE_NOTE)
    _print_price_notes(estimates)
    return 0


def _check_tier(tier: str) -> str:
    if tier not in TIER_NAMES:
        raise UsageError(f"tier '{tier}' is not known; allowed: {', '.join(TIER_NAMES)}")
    return tier


def _table(title: str, columns: Sequence[str]) -> Table:
    """An empty table with these column headings."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    return table


def cmd_explain(args: argparse.Namespace, console: Console) -> int:
    e = _find(_estimates(args), _check_tier(args.tier))
    if args.json:
        print(json.dumps(_detail(e), indent=2))
        _print_price_notes([e])
        return 0
    console.print(
        f"[bold]{e.tier}[/]: {e.primary_region} -> {e.recovery_region}; RPO "
        f"{e.rpo_text}, RTO {e.rto_text}, about ${e.monthly_cost_usd:,.0f} a month "
        "(typical, with the range from every figure at its low and high end)"
    )
    console.print(_dominant_line(e), soft_wrap=True)
    if not args.assembly:  # a setting is tried by synthesizing with it
        console.print(_next_setting_line(args, e), soft_wrap=True)
    for table in (_rpo_table(e), _rto_table(e), _cost_table(e), _event_table(e)):
        console.print(table)
    console.print(_failed_over(e))
    console.print(ESTIMATE_NOTE)
    _print_price_notes([e])
    return 0


def _rpo_table(e: Estimate) -> Table:
    """The RPO of each data store, how it is reached and its sources."""
    rpo = _table(
        "RPO per data store (the tier's RPO is the worst)", ("data store", "RPO", "how", "source")
    )
    for store in e.rpo:
        rpo.add_row(
            store.store,
            "delayed"
            if store.seconds is None
            else format_range(store.seconds, store.low or 0, store.high or 0),
            store.how,
            "\n".join(store.sources),
        )
    return rpo


def _rto_table(e: Estimate) -> Table:
    """The failover steps with their start and end (typical figures)."""
    rto = _table(
        "RTO: the failover steps (typical figures); each starts when the steps it waits for end",
        ("start s", "end s", "step", "how", "source"),
    )
    for s in e.rto_steps:
        name = s.name if s.counts else f"{s.name} (not counted)"
        rto.add_row(f"{s.start:g}", f"{s.end:g}", name, s.how, "\n".join(s.sources))
    return rto


def _cost_table(e: Estimate) -> Table:
    """The monthly cost lines, dearest first; unverified prices marked *."""
    cost = _table(
        "Monthly cost (USD)", ("item", "region", "quantity", "unit price", "USD", "source")
    )
    for c in sorted(e.cost, key=lambda c: -c.monthly_usd):
        mark = "*" if c.unit_price.status == "unverified" else ""
        cost.add_row(
            c.item,
            c.region,
            f"{c.quantity:,.1f}",
            f"{c.unit_price.value:g}{mark}",
            f"{c.monthly_usd:,.2f}",
            f"{c.unit_price.source} ({c.unit_price.as_of})",
        )
    return cost


def _event_table(e: Estimate) -> Table:
    """What running failed over adds to the steady state, per hour, per day and once."""
    event = _table(
        "Running failed over: what an event adds to the steady state (USD)",
        ("item", "region", "per hour", "per day", "once", "how", "source"),
    )
    for line in e.event:
        event.add_row(
            line.item,
            line.region,
            f"{line.usd_per_hour:,.2f}",
            f"{line.usd_per_hour * 24:,.2f}",
            f"{line.usd_once:,.2f}",
            line.how,
            "\n".join(line.sources),
        )
    return event


def _next_setting_line(args: argparse.Namespace, e: Estimate) -> str:
    from drtiers.advice.recommend import next_setting

    after = next_setting(_cdk_json_context(args), e)
    if after is None:
        return (
            "Next setting: none of this tier's settings moves its RTO or RPO further; "
            "`drtiers recommend` compares the tiers."
        )
    n = after.estimate
    return (
        f"Next setting: {', '.join(f'{s.workload_path}: {s.value}' for s in after.settings)} "
        f"would give RTO {n.rto_text} (now {e.rto_text}), RPO {n.rpo_text} (now {e.rpo_text}), "
        f"{n.monthly_cost_usd - e.monthly_cost_usd:+,.0f} USD a month: {_how_to_apply(after)}"
    )


def _candidate(c: Candidate) -> dict[str, Any]:
    return {
        **_summary(c.estimate),
        "settings": {"context": c.context(), "workload_file": _workload_fields(c)},
    }


def _workload_fields(c: Candidate) -> dict[str, str]:
    return {s.workload_path: s.value for s in c.settings}


def _how_to_apply(c: Candidate) -> str:
    options = " ".join(f"--context {k}={v}" for k, v in c.context().items())
    fields = ", ".join(f"{k}: {v}" for k, v in _workload_fields(c).items())
    return f"cdk synth {options}" + (f"  (or in drtiers.yaml: {fields})" if fields else "")


def _recommend_targets(args: argparse.Namespace) -> tuple[float | None, float | None]:
    """The RTO and RPO asked for, in seconds (at least one); the arguments checked first."""
    rto = parse_duration(args.rto, "--rto") if args.rto is not None else None
    rpo = parse_duration(args.rpo, "--rpo") if args.rpo is not None else None
    if rto is None and rpo is None:
        raise UsageError("recommend: give --rto, --rpo or both, such as --rto 15m --rpo 1m")
    if args.budget is not None and args.budget <= 0:
        raise UsageError(f"recommend: --budget {args.budget:g} is not valid; allowed: USD > 0")
    if args.set:
        raise UsageError(
            "recommend: --set is not used (every candidate is synthesized with the context); "
            "allowed: figures in the workload file, or --context assumptions=JSON"
        )
    return rto, rpo


def cmd_recommend(args: argparse.Namespace, console: Console) -> int:
    rto, rpo = _recommend_targets(args)
    # The tiers' defaults from --assembly when given (synthesized with cdk.json's context).
    from drtiers.advice.recommend import recommend

    defaults = assess_assembly(Path(args.assembly)) if args.assembly else None
    result = recommend(_cdk_json_context(args), rto, rpo, args.budget, defaults)
    if args.json:
        print(json.dumps(_recommendation_json(result), indent=2))
        return 0 if result.best else 1
    wanted = f"RTO {args.rto or '-'} and RPO {args.rpo or '-'}"
    if result.best is None:
        _print_no_match(result, wanted, args.budget, console)
        return 1
    _print_best(result.best, result.alternatives, wanted, console)
    return 0


def _recommendation_json(result: Recommendation) -> dict[str, Any]:
    """What meets the targets, the dearer alternatives with what a minute saved costs, or the
    closest miss; and the cheapest that meets them over the budget."""
    from drtiers.advice.recommend import per_minute_saved

    return {
        "meets": _candidate(result.best) if result.best else None,
        "alternatives": [
            {**_candidate(a), "usd_per_minute_saved": per_minute_saved(result.best, a)}
            for a in result.alternatives
            if result.best
        ],
        "closest": None if result.best else _candidate(result.closest),
        "over_budget": _candidate(result.over_budget) if result.over_budget else None,
    }


def _print_no_match(
    result: Recommendation, wanted: str, budget: float | None, console: Console
) -> None:
    """Nothing meets the targets: the cheapest that would, over the budget, or the closest."""
    if result.over_budget is not None:
        over = result.over_budget
        console.print(
            f"Nothing meets {wanted} within ${budget:,.0f} a month. The cheapest that "
            f"meets them: [bold]{over.tier}[/], about ${over.cost:,.0f} a month: "
            f"{_how_to_apply(over)}"
        )
        return
    closest = result.closest.estimate
    console.print(
        f"Nothing meets {wanted} at the high end of its range. Closest: "
        f"[bold]{closest.tier}[/] (RPO {closest.rpo_text}, RTO {closest.rto_text})."
    )


def _print_best(
    best: Candidate, alternatives: Sequence[Candidate], wanted: str, console: Console
) -> None:
    """The cheapest configuration that meets the targets, how to apply it, and up to three
    dearer alternatives with what each minute of RTO they save costs."""
    from drtiers.advice.recommend import per_minute_saved

    e = best.estimate
    console.print(
        f"[bold]{best.tier}[/] is the cheapest configuration that meets {wanted} at the high end "
        f"of its range: RPO {e.rpo_text}, RTO {e.rto_text}, about ${best.cost:,.0f} a month "
        f"(failed over: ${e.failed_over_usd_per_day:,.0f} a day)."
    )
    console.print(f"Apply: {_how_to_apply(best)}")
    for other in alternatives[:3]:
        rate = per_minute_saved(best, other)
        console.print(
            f"  or {other.tier}: ${other.cost:,.0f} a month (+${other.cost - best.cost:,.0f}), "
            f"RTO {other.estimate.rto_text}"
            + (f", ${rate:,.0f} a month per minute of RTO saved" if rate else ", no faster")
            + (f": {_how_to_apply(other)}" if other.settings else "")
        )


def cmd_diff(args: argparse.Namespace, console: Console) -> int:
    _check_tier(args.old), _check_tier(args.new)
    estimates = _estimates(args)
    old, new = _find(estimates, args.old), _find(estimates, args.new)
    added = sorted(new.resource_keys - old.resource_keys)
    removed = sorted(old.resource_keys - new.resource_keys)
    change = {
        "from": args.old,
        "to": args.new,
        "rpo_seconds": new.rpo_seconds - old.rpo_seconds,
        "rto_seconds": new.rto_seconds - old.rto_seconds,
        "monthly_cost_usd": round(new.monthly_cost_usd - old.monthly_cost_usd, 2),
        "failed_over_usd_per_day": round(
            new.failed_over_usd_per_day - old.failed_over_usd_per_day, 2
        ),
    }
    if args.json:
        print(
            json.dumps(
                {
                    **change,
                    "added": [list(k) for k in added],
                    "removed": [list(k) for k in removed],
                },
                indent=2,
            )
        )
        return 0
    table = _table(
        f"{args.old} -> {args.new}: resources by region and type",
        ("region", "type", "added", "removed"),
    )
    counts: dict[tuple[str, str], list[int]] = {}
    for key in added:
        counts.setdefault(key[:2], [0, 0])[0] += 1
    for key in removed:
        counts.setdefault(key[:2], [0, 0])[1] += 1
    for (region, type_), (plus, minus) in sorted(counts.items()):
        table.add_row(region, type_, f"+{plus}" if plus else "", f"-{minus}" if minus else "")
    console.print(table)
    console.print(
        f"RPO {old.rpo_text} -> {new.rpo_text}, RTO {old.rto_text} -> {new.rto_text}, "
        f"cost ${old.monthly_cost_usd:,.0f} -> "
        f"${new.monthly_cost_usd:,.0f} a month ({change['monthly_cost_usd']:+,.0f}); failed over "
        f"${old.failed_over_usd_per_day:,.0f} -> ${new.failed_over_usd_per_day:,.0f} a day of "
        f"an event ({change['failed_over_usd_per_day']:+,.0f})"
    )
    _print_price_notes([old, new])
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, not a usage dump
        print(f"drtiers: error: {message} (see drtiers --help)", file=sys.stderr)
        sys.exit(2)


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """Synthesize all four tiers and run every policy gate (or read --assembly, with the
    rule pack only), then write the review reports."""
    import tempfile

    from drtiers.build import synthesize
    from drtiers.recovery.results import read_file, read_results
    from drtiers.report.build import write_reports

    if args.tier:
        _check_tier(args.tier)
    for path in args.results:  # a bad file fails before anything is synthesized or written
        read_file(path)
    out = Path(args.out)
    context = _cdk_json_context(args)

    def measured(directory: Path) -> Results | None:
        if not args.results:
            return None
        return read_results(args.results, context, synthesize, assembly=directory)

    if args.assembly:
        assembly = Path(args.assembly)
        written = write_reports(assembly, out, context, args.tier, results=measured(assembly))
    else:
        from drtiers.checks.gates import run_gates

        with tempfile.TemporaryDirectory(prefix="drtiers-report-") as directory:
            gates, simulated = run_gates(Path(directory), context)
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


def cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    """Lose the primary region, run the failover steps (and with --failback bring it back and
    run the failback steps), checking invariants I1-I7 after each step."""
    import tempfile

    from drtiers.build import synthesize

    if args.tier:
        _check_tier(args.tier)
    context = _cdk_json_context(args)
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
            table = _table(
                f"{sim.tier}: {sim.event} ({sim.primary} lost, recovering in {sim.recovery})",
                ("start s", "end s", "step", "what changed", "traffic goes to"),
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


def cmd_results(args: argparse.Namespace, console: Console) -> int:
    """Compare saved Region switch plan executions (failover or failback) with the estimate,
    step by step, and report saved fault-injection experiments against the steps they
    rehearse. Exit 1 when a step or the plan was slower than estimated, failed or is missing,
    a step is not in the step list, or a drill stopped before its duration."""
    from drtiers.build import synthesize
    from drtiers.recovery.results import read_results  # botocore: only here

    if args.tier:
        _check_tier(args.tier)
    results = read_results(
        args.files,
        _cdk_json_context(args),
        synthesize,
        tier=args.tier,
        overrides=_pairs(args.set, "--set"),
        assembly=Path(args.assembly) if args.assembly else None,
    )
    if args.json:
        content = {
            "plans": [asdict(p) for p in results.plans],
            "drills": [asdict(d) for d in results.drills],
            "findings": results.findings,
        }
        print(json.dumps(content, indent=2))
        return 1 if results.findings else 0
    for plan in results.plans:
        _print_plan(plan, console)
    if results.drills:
        _print_drills(results.drills, console)
    for finding in results.findings:
        print(f"drtiers: results: {finding}", file=sys.stderr)
    return 1 if results.findings else 0


def cmd_prices(args: argparse.Namespace, console: Console) -> int:
    """Read the price file's prices again from the AWS Price List Query API; print what changed;
    write the refreshed file only to --out."""
    from datetime import UTC, datetime

    from drtiers.assess import pricelist
    from drtiers.core.facts import check_prices, price_data, price_file_name

    data = price_data()
    regions = args.region or list(
        dict.fromkeys(r for entry in data["prices"].values() for r in entry["regions"])
    )
    client = pricelist.client()
    if client is None:
        raise UsageError(
            "prices update: no AWS credentials found (the Price List API needs any signed-in "
            f"identity); {price_file_name()} is unchanged"
        )
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result = pricelist.update(client, data, regions, datetime.now(UTC).date())
    except (BotoCoreError, ClientError) as error:
        raise UsageError(f"prices update: the Price List API failed: {error}") from None
    for line in result.changed:
        print(f"changed {line}")
    for line in result.missing:
        print(f"not found {line} (left as it was)")
    print(
        f"{len(result.changed)} changed, {result.unchanged} unchanged, {len(result.missing)} "
        f"not found, {len(result.not_queried)} not in the Price List queries (left as they "
        f"were) in {', '.join(regions)}"
    )
    if args.out:
        check_prices(result.data, args.out)
        Path(args.out).write_text(json.dumps(result.data, indent=2) + "\n")
        print(f"wrote {args.out}; use it with --prices {args.out}")
    else:
        print(f"{price_file_name()} is unchanged; --out FILE writes the refreshed prices")
    return 0


Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"  # the subcommands being added


def parser() -> argparse.ArgumentParser:
    """drtiers' arguments: one subcommand each, in the order --help lists them."""
    top, common = _shared_options()
    root = _Parser(prog="drtiers", description=__doc__.splitlines()[0])
    sub = root.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_estimate_commands(sub, common)
    _add_recovery_commands(sub, common)
    _add_file_commands(sub, top)
    return root


def _shared_options() -> tuple[_Parser, _Parser]:
    """The parents: --prices (every command that prices), and with it the options of every
    command that reads the tiers (--json, --assembly, --context, --set)."""
    top = _Parser(add_help=False)
    top.add_argument(
        "--prices",
        metavar="FILE",
        help="price file to estimate with (default: the bundled drtiers/core/prices.json)",
    )
    common = _Parser(add_help=False, parents=[top])
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument(
        "--assembly",
        metavar="DIR",
        help="read this cloud assembly instead of synthesizing all four tiers",
    )
    common.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="CDK context override for the synth (regions, counts, ...)",
    )
    common.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override an assumption (restore_rate_gb_per_hour, database_size_gb, ...)",
    )
    return top, common


def _add_estimate_commands(sub: Commands, common: _Parser) -> None:
    """list, explain, recommend and diff: the estimates of the tiers."""
    sub.add_parser("list", parents=[common], help="one row per tier").set_defaults(run=cmd_list)
    explain = sub.add_parser("explain", parents=[common], help="steps, sources and costs")
    explain.add_argument("--tier", required=True, help=", ".join(TIER_NAMES))
    explain.set_defaults(run=cmd_explain)
    recommend = sub.add_parser(
        "recommend",
        parents=[common],
        help="the cheapest configuration (tier and settings) meeting an RTO and RPO",
    )
    recommend.add_argument("--rto", help="such as 15m")
    recommend.add_argument("--rpo", help="such as 1m")
    recommend.add_argument(
        "--budget", type=float, help="USD a month at most (steady state), such as 2000"
    )
    recommend.set_defaults(run=cmd_recommend)
    diff = sub.add_parser("diff", parents=[common], help="what changes between two tiers")
    diff.add_argument("old", help="a tier")
    diff.add_argument("new", help="another tier")
    diff.set_defaults(run=cmd_diff)


def _add_recovery_commands(sub: Commands, common: _Parser) -> None:
    """simulate, results and report: the recovery run, measured and written up."""
    simulate = sub.add_parser(
        "simulate", parents=[common], help="lose the primary region and run the recovery steps"
    )
    simulate.add_argument("--tier", help=", ".join(TIER_NAMES) + " (default: all four)")
    simulate.add_argument(
        "--event", choices=["region-loss"], default="region-loss", help="what to simulate"
    )
    simulate.add_argument(
        "--failback", action="store_true", help="then bring the primary back and fail back"
    )
    simulate.set_defaults(run=cmd_simulate)
    results = sub.add_parser(
        "results",
        parents=[common],
        help="compare a plan execution or drill, saved from the AWS CLI, with the estimate",
    )
    results.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="saved `aws arc-region-switch get-plan-execution` or `aws fis get-experiment` JSON",
    )
    results.add_argument("--tier", help="the tier, where a file does not name it")
    results.set_defaults(run=cmd_results)
    report = sub.add_parser(
        "report", parents=[common], help="write reports/<tier>.md, .html and index.html"
    )
    report.add_argument("--tier", help="one tier only (index.html always covers all four)")
    report.add_argument("--out", default="reports", help="output folder (default reports)")
    report.add_argument(
        "--results",
        nargs="+",
        default=[],
        metavar="FILE",
        help="saved plan executions and FIS experiments (as for drtiers results) to show "
        "measured against estimated",
    )
    report.set_defaults(run=cmd_report)


def _add_file_commands(sub: Commands, top: _Parser) -> None:
    """init, schema and prices: the workload and price files; none of them synthesizes."""
    init = sub.add_parser("init", help=f"write a commented starter {DEFAULT_FILE}")
    init.add_argument("--out", default=DEFAULT_FILE, help=f"where (default {DEFAULT_FILE})")
    init.set_defaults(run=cmd_init)
    sub.add_parser("schema", help="print the workload file's JSON Schema").set_defaults(
        run=cmd_schema
    )
    prices = sub.add_parser("prices", help="the price file: refresh it from AWS")
    actions = prices.add_subparsers(dest="action", required=True, parser_class=_Parser)
    update = actions.add_parser(
        "update",
        parents=[top],
        help="read the prices again from the AWS Price List API (needs AWS credentials)",
    )
    update.add_argument(
        "--region",
        action="append",
        default=[],
        help="a region to price (repeat; default: every region the file has); a new one is added",
    )
    update.add_argument(
        "--out", metavar="FILE", help="write the refreshed price file here (default: write nothing)"
    )
    update.set_defaults(run=cmd_prices)


def cmd_init(args: argparse.Namespace, console: Console) -> int:
    """Write the starter workload file; never over an existing file."""
    path = Path(args.out)
    if path.exists():
        raise UsageError(f"{path} exists; drtiers init never overwrites: give --out NEW_PATH")
    path.write_text(starter_file(default_workload()), encoding="utf-8")
    console.print(
        f"wrote {path}: drtiers' reference workload with every key explained. Edit it, then "
        f"cdk synth{'' if path.name == DEFAULT_FILE else f' --context workload={path}'}"
    )
    return 0


def cmd_schema(args: argparse.Namespace, console: Console) -> int:
    """The workload file's JSON Schema, as the repository publishes it (SCHEMA_PATH)."""
    sys.stdout.write(json_schema())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    try:
        use_price_file(getattr(args, "prices", None))  # init and schema price nothing
        return int(args.run(args, console))
    except (UsageError, ValueError, ConfigError, ParameterError, AssemblyError) as error:
        print(f"drtiers: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
