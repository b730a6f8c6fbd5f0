"""What the commands share: their arguments' errors, the context they synthesize with, the
estimates they read and how they print them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from drtiers.assess import assess_assembly
from drtiers.assess.model import Estimate
from drtiers.config.context import cdk_json_context, cdk_json_file, check_context_keys
from drtiers.config.workload import DEFAULT_FILE
from drtiers.core.tiers import TIER_NAMES

ESTIMATE_NOTE = (
    "Estimates, not quotes: on-demand list prices of each region from the price file, few of "
    "them verified (unverified ones marked *, the file says what each rests on), and the "
    "workload figures are assumptions (--set NAME=VALUE)."
)


class UsageError(ValueError):
    """A bad argument: one line for the user."""


def pairs(values: Sequence[str], what: str) -> dict[str, str]:
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{what}: '{item}' is not KEY=VALUE")
        result[key] = value
    return result


def read_estimates(args: argparse.Namespace) -> list[Estimate]:
    overrides = pairs(args.set, "--set")
    if args.assembly:
        return assess_assembly(Path(args.assembly), overrides)
    from drtiers.build import synthesize_and_assess

    return synthesize_and_assess(command_context(args), overrides)


def command_context(args: argparse.Namespace) -> dict[str, Any]:
    """cdk.json's context with --context overrides, for all four tiers."""
    cdk_json = cdk_json_file()  # the nearest, as the CDK CLI finds its app
    if cdk_json is None:
        raise UsageError(
            "no cdk.json here: run drtiers inside the repository, or give --assembly DIR"
        )
    context = cdk_json_context(cdk_json.parent)
    context.update(pairs(args.context, "--context"))
    check_context_keys(context)
    workload = cdk_json.parent / DEFAULT_FILE  # as cdk synth, run beside cdk.json, reads it
    if "workload" not in context and workload.is_file():
        context["workload"] = str(workload)
    context["tier"] = ""  # always all four: the commands compare tiers
    return context


def check_folder(path: Path, option: str) -> Path:
    """An output folder, refused before any work when a file stands where it would be made."""
    existing = next(p for p in (path.absolute(), *path.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(
            f"{option} {path}: {existing} is a file; allowed: a folder, or a path to make one at"
        )
    return path


def check_tier(tier: str) -> str:
    if tier not in TIER_NAMES:
        raise UsageError(f"tier '{tier}' is not known; allowed: {', '.join(TIER_NAMES)}")
    return tier


def find_tier(estimates: list[Estimate], tier: str) -> Estimate:
    check_tier(tier)
    for candidate in estimates:
        if candidate.tier == tier:
            return candidate
    raise UsageError(f"tier '{tier}' is not in this assembly; synthesize it first")


def summary(e: Estimate) -> dict[str, Any]:
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


def new_table(title: str, columns: Sequence[str], text: Sequence[str] = ()) -> Table:
    """An empty table with these column headings. The columns named in ``text`` hold prose:
    they wrap at spaces and fold a word too long for them (a source's URL in a log 80 columns
    wide); the others hold one value a row (a figure, a region, an account id) and stay whole."""
    unknown = set(text) - set(columns)
    if unknown:
        raise TypeError(f"text columns {sorted(unknown)} are not among {list(columns)}")
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column not in text)
    return table


def print_price_notes(estimates: list[Estimate]) -> None:
    for note in sorted({n for e in estimates for n in e.price_notes}):
        print(f"drtiers: note: {note}", file=sys.stderr)
