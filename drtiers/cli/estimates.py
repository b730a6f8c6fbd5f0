"""drtiers list, explain and diff: each tier's estimated RPO, RTO and cost, step by step and
source by source, and what changes from one tier to another."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from drtiers.assess.model import Estimate
from drtiers.cli.common import (
    ESTIMATE_NOTE,
    check_tier,
    command_context,
    find_tier,
    new_table,
    print_price_notes,
    read_estimates,
    summary,
)
from drtiers.cli.recommend import how_to_apply
from drtiers.core.durations import format_duration, format_range


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    estimates = read_estimates(args)
    if args.json:
        print(json.dumps([summary(e) for e in estimates], indent=2))
        print_price_notes(estimates)
        return 0
    table = new_table(
        "drtiers: estimated RPO, RTO (typical, with the range from every figure at its "
        "low and high end) and monthly cost per tier",
        ("tier", "RPO", "RTO", "USD / month", "recovery region holds"),
        text=("RPO", "RTO", "USD / month", "recovery region holds"),
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
    print_price_notes(estimates)
    return 0


def cmd_explain(args: argparse.Namespace, console: Console) -> int:
    e = find_tier(read_estimates(args), check_tier(args.tier))
    if args.json:
        print(json.dumps(_detail(e), indent=2))
        print_price_notes([e])
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
    console.print(_quota_table(e))
    console.print(_failed_over(e))
    console.print(ESTIMATE_NOTE)
    print_price_notes([e])
    return 0


def _rpo_table(e: Estimate) -> Table:
    """The RPO of each data store, how it is reached and its sources."""
    rpo = new_table(
        "RPO per data store (the tier's RPO is the worst)",
        ("data store", "RPO", "how", "source"),
        text=("data store", "RPO", "how", "source"),
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
    rto = new_table(
        "RTO: the failover steps (typical figures); each starts when the steps it waits for end",
        ("start s", "end s", "step", "how", "source"),
        text=("how", "source"),
    )
    for s in e.rto_steps:
        name = s.name if s.counts else f"{s.name} (not counted)"
        rto.add_row(f"{s.start:g}", f"{s.end:g}", name, s.how, "\n".join(s.sources))
    return rto


def _cost_table(e: Estimate) -> Table:
    """The monthly cost lines, dearest first; unverified prices marked *."""
    cost = new_table(
        "Monthly cost (USD)",
        ("item", "region", "quantity", "unit price", "USD", "source"),
        text=("item", "unit price", "source"),
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


def _quota_table(e: Estimate) -> Table:
    """The Service Quotas a deploy of the tier uses, against a new account's defaults."""
    table = new_table(
        "Service Quotas a deploy uses (default: a new account's, before any increase; each tier "
        "or app deployed beside it in the account adds its own)",
        ("quota", "service", "where", "uses", "default", "source"),
        text=("quota", "where", "source"),
    )
    for use in e.quotas:
        quota = use.quota
        default = "not published" if quota.default is None else f"{quota.default:,}"
        if quota.headroom:
            default += f" (keep {quota.headroom} free)"
        flag = " ABOVE DEFAULT: request an increase first" if use.above_default else ""
        table.add_row(
            quota.name,
            quota.service,
            use.where,
            f"{use.uses:g}{flag}",
            default,
            f"{quota.source} ({quota.read})",
        )
    return table


def _event_table(e: Estimate) -> Table:
    """What running failed over adds to the steady state, per hour, per day and once."""
    event = new_table(
        "Running failed over: what an event adds to the steady state (USD)",
        ("item", "region", "per hour", "per day", "once", "how", "source"),
        text=("item", "per hour", "per day", "how", "source"),
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
        **summary(e),
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
        "quotas": _quota_detail(e),
        "failed_over": {
            "steady_usd_per_hour": e.steady_usd_per_hour,
            "usd_per_hour": e.failed_over_usd_per_hour,
            "usd_per_day": e.failed_over_usd_per_day,
            "usd_once": e.event_once_usd,
            "lines": [asdict(line) for line in e.event],
        },
    }


def _quota_detail(e: Estimate) -> list[dict[str, Any]]:
    return [
        {
            "quota": u.quota.name,
            "service": u.quota.service,
            "where": u.where,
            "uses": u.uses,
            "default": u.quota.default,
            "above_default": u.above_default,
            "source": u.quota.source,
            "read": u.quota.read,
        }
        for u in e.quotas
    ]


def _failed_over(e: Estimate) -> str:
    return (
        f"Failed over: about ${e.failed_over_usd_per_hour:,.2f} an hour "
        f"(${e.failed_over_usd_per_day:,.0f} a day) against ${e.steady_usd_per_hour:,.2f} at "
        f"steady state, plus ${e.event_once_usd:,.0f} once to fail back"
    )


def _next_setting_line(args: argparse.Namespace, e: Estimate) -> str:
    from drtiers.advice.recommend import next_setting

    after = next_setting(command_context(args), e)
    if after is None:
        return (
            "Next setting: none of this tier's settings moves its RTO or RPO further; "
            "`drtiers recommend` compares the tiers."
        )
    n = after.estimate
    return (
        f"Next setting: {', '.join(f'{s.workload_path}: {s.value}' for s in after.settings)} "
        f"would give RTO {n.rto_text} (now {e.rto_text}), RPO {n.rpo_text} (now {e.rpo_text}), "
        f"{n.monthly_cost_usd - e.monthly_cost_usd:+,.0f} USD a month: {how_to_apply(after)}"
    )


def cmd_diff(args: argparse.Namespace, console: Console) -> int:
    check_tier(args.old), check_tier(args.new)
    estimates = read_estimates(args)
    old, new = find_tier(estimates, args.old), find_tier(estimates, args.new)
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
    table = new_table(
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
    print_price_notes([old, new])
    return 0
