"""drtiers' arguments: the options commands share, and each subcommand with what runs it."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TypeAlias

from drtiers.cli.estimates import cmd_diff, cmd_explain, cmd_list
from drtiers.cli.files import cmd_init, cmd_prices, cmd_schema
from drtiers.cli.fleet import cmd_fleet
from drtiers.cli.recommend import cmd_recommend
from drtiers.cli.recovery import cmd_destroy, cmd_report, cmd_results, cmd_simulate
from drtiers.config.fleet import DEFAULT_FLEET
from drtiers.config.workload import DEFAULT_FILE
from drtiers.core.tiers import TIER_NAMES


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, not a usage dump
        print(f"drtiers: error: {message} (see drtiers --help)", file=sys.stderr)
        sys.exit(2)


Commands: TypeAlias = "argparse._SubParsersAction[Parser]"  # the subcommands being added


JSON_HELP = "machine-readable output"


def _shared_options() -> tuple[Parser, Parser, Parser, Parser]:
    """The parents, each with the one before: --prices (every command that prices); --context
    (every command that synthesizes); --assembly and --set (every command that reads the
    tiers); --json, for the commands whose output a program reads (report writes files,
    destroy prints a procedure)."""
    top = Parser(add_help=False)
    top.add_argument(
        "--prices",
        metavar="FILE",
        help="price file to estimate with (default: the bundled drtiers/core/prices.json)",
    )
    synth = Parser(add_help=False, parents=[top])
    synth.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="CDK context override for the synth (regions, counts, ...)",
    )
    tiers = Parser(add_help=False, parents=[synth])
    tiers.add_argument(
        "--assembly",
        metavar="DIR",
        help="read this cloud assembly instead of synthesizing all four tiers",
    )
    tiers.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override an assumption (restore_rate_gb_per_hour, database_size_gb, ...)",
    )
    printed = Parser(add_help=False, parents=[tiers])
    printed.add_argument("--json", action="store_true", help=JSON_HELP)
    return top, synth, tiers, printed


def _add_estimate_commands(sub: Commands, printed: Parser) -> None:
    """list, explain, recommend and diff: the estimates of the tiers."""
    sub.add_parser("list", parents=[printed], help="one row per tier").set_defaults(run=cmd_list)
    explain = sub.add_parser("explain", parents=[printed], help="steps, sources and costs")
    explain.add_argument("--tier", required=True, help=", ".join(TIER_NAMES))
    explain.set_defaults(run=cmd_explain)
    recommend = sub.add_parser(
        "recommend",
        parents=[printed],
        help="the cheapest configuration (tier and settings) meeting an RTO and RPO",
    )
    recommend.add_argument("--rto", help="such as 15m")
    recommend.add_argument("--rpo", help="such as 1m")
    recommend.add_argument(
        "--budget", type=float, help="USD a month at most (steady state), such as 2000"
    )
    recommend.set_defaults(run=cmd_recommend)
    diff = sub.add_parser("diff", parents=[printed], help="what changes between two tiers")
    diff.add_argument("old", help="a tier")
    diff.add_argument("new", help="another tier")
    diff.set_defaults(run=cmd_diff)


def _add_recovery_commands(sub: Commands, tiers: Parser, printed: Parser) -> None:
    """simulate, results and report: the recovery run, measured and written up."""
    simulate = sub.add_parser(
        "simulate", parents=[printed], help="lose the primary region and run the recovery steps"
    )
    simulate.add_argument("--tier", help=", ".join(TIER_NAMES) + " (default: all four)")
    simulate.add_argument(
        "--event", choices=["region-loss"], default="region-loss", help="what to simulate"
    )
    simulate.add_argument(
        "--failback", action="store_true", help="then bring the primary back and fail back"
    )
    simulate.set_defaults(run=cmd_simulate)
    destroy = sub.add_parser(
        "destroy",
        parents=[tiers],
        help="print how to destroy a tier: the order, what protects it, what stays (runs nothing)",
    )
    destroy.add_argument("--tier", required=True, help=", ".join(TIER_NAMES))
    destroy.set_defaults(run=cmd_destroy)
    results = sub.add_parser(
        "results",
        parents=[printed],
        help="compare a plan execution, drill or restore job, saved from the AWS CLI, with the "
        "estimate",
    )
    results.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="saved `aws arc-region-switch get-plan-execution`, `aws fis get-experiment`, "
        "`aws backup describe-restore-job` or `aws backup list-restore-jobs` JSON",
    )
    results.add_argument("--tier", help="the tier, where a file does not name it")
    results.set_defaults(run=cmd_results)
    report = sub.add_parser(
        "report", parents=[tiers], help="write reports/<tier>.md, .html and index.html"
    )
    report.add_argument("--tier", help="one tier only (index.html always covers all four)")
    report.add_argument("--out", default="reports", help="output folder (default reports)")
    report.add_argument(
        "--results",
        nargs="+",
        default=[],
        metavar="FILE",
        help="saved plan executions, FIS experiments and restore jobs (as for drtiers results) "
        "to show measured against estimated",
    )
    report.set_defaults(run=cmd_report)


def _add_file_commands(sub: Commands, top: Parser) -> None:
    """init, schema and prices: the workload and price files; none of them synthesizes."""
    init = sub.add_parser("init", help=f"write a commented starter {DEFAULT_FILE}")
    init.add_argument("--out", default=DEFAULT_FILE, help=f"where (default {DEFAULT_FILE})")
    init.set_defaults(run=cmd_init)
    sub.add_parser("schema", help="print the workload file's JSON Schema").set_defaults(
        run=cmd_schema
    )
    prices = sub.add_parser("prices", help="the price file: refresh it from AWS")
    actions = prices.add_subparsers(dest="action", required=True, parser_class=Parser)
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


def _add_fleet_command(sub: Commands, synth: Parser) -> None:
    """fleet list|explain|simulate: many applications, each its own tier from its own file (so
    neither --assembly nor --set)."""
    fleet = sub.add_parser(
        "fleet",
        parents=[synth],
        help="a fleet file's applications per account, its groups' parent plans, its gates",
    )
    fleet.add_argument("--json", action="store_true", help=JSON_HELP)
    fleet.add_argument("action", choices=("list", "explain", "simulate", "check"))
    fleet.add_argument(
        "--fleet", default=DEFAULT_FLEET, help=f"the fleet file (default {DEFAULT_FLEET})"
    )
    fleet.set_defaults(run=cmd_fleet)


def add_commands(sub: Commands) -> None:
    """Every subcommand, in the order --help lists them."""
    top, synth, tiers, printed = _shared_options()
    _add_estimate_commands(sub, printed)
    _add_recovery_commands(sub, tiers, printed)
    _add_fleet_command(sub, synth)
    _add_file_commands(sub, top)
