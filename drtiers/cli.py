"""The ``drtiers`` command: what each tier gets you and what it costs, before you deploy it.

Every figure comes from the tiers as synthesized (a fresh in-process synth of this checkout, or
``--assembly cdk.out``) and the data files in drtiers/assess, each with its source.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from drtiers.assess import assess_assembly, cheapest_meeting, synthesize_and_assess
from drtiers.assess.assembly import AssemblyError
from drtiers.assess.durations import format_duration, parse_duration
from drtiers.assess.facts import ParameterError
from drtiers.assess.model import Estimate
from drtiers.config import ConfigError
from drtiers.tiers import TIER_NAMES

ESTIMATE_NOTE = (
    "Estimates, not quotes: prices are us-east-1 on-demand applied to every region, several are "
    "unverified (marked *), and the workload figures are assumptions (--set NAME=VALUE)."
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
    return synthesize_and_assess(_cdk_json_context(args), overrides)


def _cdk_json_context(args: argparse.Namespace) -> dict[str, Any]:
    """cdk.json's context with --context overrides, for all four tiers."""
    cdk_json = Path("cdk.json")
    if not cdk_json.is_file():
        raise UsageError(
            "no cdk.json here: run drtiers from the repository root, or give --assembly DIR"
        )
    context: dict[str, Any] = json.loads(cdk_json.read_text()).get("context", {})
    context.update(_pairs(args.context, "--context"))
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
        "rto_seconds": e.rto_seconds,
        "monthly_cost_usd": e.monthly_cost_usd,
        "recovery_region_holds": e.recovery_holds,
        "primary_region": e.primary_region,
        "recovery_region": e.recovery_region,
        "estimate": True,
    }


def _detail(e: Estimate) -> dict[str, Any]:
    return {
        **_summary(e),
        "rpo": [
            {"store": s.store, "seconds": s.seconds, "how": s.how, "sources": s.sources}
            for s in e.rpo
        ],
        "rto_phases": [
            [
                {"step": s.name, "seconds": s.seconds, "how": s.how, "sources": s.sources}
                for s in phase
            ]
            for phase in e.rto_phases
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
    }


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    estimates = _estimates(args)
    if args.json:
        print(json.dumps([_summary(e) for e in estimates], indent=2))
        return 0
    table = Table(title="drtiers: estimated RPO, RTO and monthly cost per tier")
    for column in ("tier", "RPO", "RTO", "USD / month", "recovery region holds"):
        table.add_column(column)
    for e in estimates:
        table.add_row(
            e.tier,
            format_duration(e.rpo_seconds),
            format_duration(e.rto_seconds),
            f"{e.monthly_cost_usd:,.0f}",
            e.recovery_holds,
        )
    console.print(table)
    console.print(ESTIMATE_NOTE)
    return 0


def _check_tier(tier: str) -> str:
    if tier not in TIER_NAMES:
        raise UsageError(f"tier '{tier}' is not known; allowed: {', '.join(TIER_NAMES)}")
    return tier


def cmd_explain(args: argparse.Namespace, console: Console) -> int:
    e = _find(_estimates(args), _check_tier(args.tier))
    if args.json:
        print(json.dumps(_detail(e), indent=2))
        return 0
    console.print(
        f"[bold]{e.tier}[/]: {e.primary_region} -> {e.recovery_region}; RPO "
        f"{format_duration(e.rpo_seconds)}, RTO {format_duration(e.rto_seconds)}, "
        f"about ${e.monthly_cost_usd:,.0f} a month"
    )
    rpo = Table(title="RPO per data store (the tier's RPO is the worst)")
    for column in ("data store", "RPO", "how", "source"):
        rpo.add_column(column)
    for store in e.rpo:
        rpo.add_row(
            store.store,
            "delayed" if store.seconds is None else format_duration(store.seconds),
            store.how,
            "\n".join(store.sources),
        )
    console.print(rpo)
    rto = Table(title="RTO: phases one after another; steps in a phase at the same time")
    for column in ("phase", "step", "seconds", "how", "source"):
        rto.add_column(column)
    for number, phase in enumerate(e.rto_phases, 1):
        for s in phase:
            rto.add_row(str(number), s.name, f"{s.seconds:g}", s.how, "\n".join(s.sources))
    console.print(rto)
    cost = Table(title="Monthly cost (USD)")
    for column in ("item", "region", "quantity", "unit price", "USD", "source"):
        cost.add_column(column)
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
    console.print(cost)
    console.print(ESTIMATE_NOTE)
    return 0


def cmd_recommend(args: argparse.Namespace, console: Console) -> int:
    rto = parse_duration(args.rto, "--rto") if args.rto is not None else None
    rpo = parse_duration(args.rpo, "--rpo") if args.rpo is not None else None
    if rto is None and rpo is None:
        raise UsageError("recommend: give --rto, --rpo or both, such as --rto 15m --rpo 1m")
    estimates = _estimates(args)
    best = cheapest_meeting(estimates, rto, rpo)
    if args.json:
        print(
            json.dumps(
                {
                    "meets": _summary(best) if best else None,
                    "closest": None if best else _summary(_closest(estimates, rto, rpo)),
                },
                indent=2,
            )
        )
        return 0
    if best is not None:
        console.print(
            f"[bold]{best.tier}[/] is the cheapest tier that meets both: RPO "
            f"{format_duration(best.rpo_seconds)}, RTO "
            f"{format_duration(best.rto_seconds)}, about "
            f"${best.monthly_cost_usd:,.0f} a month."
        )
        return 0
    closest = _closest(estimates, rto, rpo)
    console.print(
        f"No tier meets RTO {args.rto or '-'} and RPO {args.rpo or '-'}. Closest: "
        f"[bold]{closest.tier}[/] (RPO {format_duration(closest.rpo_seconds)}, RTO "
        f"{format_duration(closest.rto_seconds)})."
    )
    return 1


def _closest(estimates: list[Estimate], rto: float | None, rpo: float | None) -> Estimate:
    """The tier that misses the targets by the smallest factor."""

    def miss(e: Estimate) -> float:
        return max(e.rto_seconds / rto if rto else 0, e.rpo_seconds / rpo if rpo else 0)

    return min(estimates, key=miss)


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
    table = Table(title=f"{args.old} -> {args.new}: resources by region and type")
    for column in ("region", "type", "added", "removed"):
        table.add_column(column)
    counts: dict[tuple[str, str], list[int]] = {}
    for key in added:
        counts.setdefault(key[:2], [0, 0])[0] += 1
    for key in removed:
        counts.setdefault(key[:2], [0, 0])[1] += 1
    for (region, type_), (plus, minus) in sorted(counts.items()):
        table.add_row(region, type_, f"+{plus}" if plus else "", f"-{minus}" if minus else "")
    console.print(table)
    console.print(
        f"RPO {format_duration(old.rpo_seconds)} -> {format_duration(new.rpo_seconds)}"
        f", RTO {format_duration(old.rto_seconds)} -> "
        f"{format_duration(new.rto_seconds)}, cost ${old.monthly_cost_usd:,.0f} -> "
        f"${new.monthly_cost_usd:,.0f} a month ({change['monthly_cost_usd']:+,.0f})"
    )
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, not a usage dump
        print(f"drtiers: error: {message} (see drtiers --help)", file=sys.stderr)
        sys.exit(2)


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """Synthesize all four tiers and run every policy gate (or read --assembly, with the
    rule pack only), then write the review reports."""
    import tempfile

    from drtiers.report.build import write_reports

    if args.tier:
        _check_tier(args.tier)
    out = Path(args.out)
    if args.assembly:
        written = write_reports(Path(args.assembly), out, args.tier)
    else:
        from drtiers.checks.gates import run_gates

        with tempfile.TemporaryDirectory(prefix="drtiers-report-") as directory:
            gates = run_gates(Path(directory), _cdk_json_context(args))
            written = write_reports(Path(directory), out, args.tier, gates)
    for path in written:
        console.print(f"wrote {path}")
    return 0


def parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
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
    root = _Parser(prog="drtiers", description=__doc__.splitlines()[0])
    sub = root.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", parents=[common], help="one row per tier").set_defaults(run=cmd_list)
    explain = sub.add_parser("explain", parents=[common], help="steps, sources and costs")
    explain.add_argument("--tier", required=True, help=", ".join(TIER_NAMES))
    explain.set_defaults(run=cmd_explain)
    recommend = sub.add_parser(
        "recommend", parents=[common], help="the cheapest tier meeting an RTO and RPO"
    )
    recommend.add_argument("--rto", help="such as 15m")
    recommend.add_argument("--rpo", help="such as 1m")
    recommend.set_defaults(run=cmd_recommend)
    diff = sub.add_parser("diff", parents=[common], help="what changes between two tiers")
    diff.add_argument("old", help="a tier")
    diff.add_argument("new", help="another tier")
    diff.set_defaults(run=cmd_diff)
    report = sub.add_parser(
        "report", parents=[common], help="write reports/<tier>.md, .html and index.html"
    )
    report.add_argument("--tier", help="one tier only (index.html always covers all four)")
    report.add_argument("--out", default="reports", help="output folder (default reports)")
    report.set_defaults(run=cmd_report)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    try:
        return int(args.run(args, console))
    except (UsageError, ValueError, ConfigError, ParameterError, AssemblyError) as error:
        print(f"drtiers: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
