"""drtiers recommend: the cheapest configuration (tier and settings) that meets an RTO and an
RPO, each candidate synthesized with the context."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from drtiers.assess import assess_assembly
from drtiers.cli.common import UsageError, command_context, summary
from drtiers.core.durations import parse_duration

# drtiers.advice synthesizes (aws_cdk starts a Node.js process): imported by the command only.
if TYPE_CHECKING:
    from drtiers.advice.recommend import Candidate, Recommendation


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
    result = recommend(command_context(args), rto, rpo, args.budget, defaults)
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
            f"{how_to_apply(over)}"
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
    console.print(f"Apply: {how_to_apply(best)}")
    for other in alternatives[:3]:
        rate = per_minute_saved(best, other)
        console.print(
            f"  or {other.tier}: ${other.cost:,.0f} a month (+${other.cost - best.cost:,.0f}), "
            f"RTO {other.estimate.rto_text}"
            + (f", ${rate:,.0f} a month per minute of RTO saved" if rate else ", no faster")
            + (f": {how_to_apply(other)}" if other.settings else "")
        )


def _candidate(c: Candidate) -> dict[str, Any]:
    return {
        **summary(c.estimate),
        "settings": {"context": c.context(), "workload_file": _workload_fields(c)},
    }


def _workload_fields(c: Candidate) -> dict[str, str]:
    return {s.workload_path: s.value for s in c.settings}


def how_to_apply(c: Candidate) -> str:
    options = " ".join(f"--context {k}={v}" for k, v in c.context().items())
    fields = ", ".join(f"{k}: {v}" for k, v in _workload_fields(c).items())
    return f"npx cdk synth {options}" + (f"  (or in drtiers.yaml: {fields})" if fields else "")
