"""The ``drtiers`` command: what each tier gets you and what it costs, before you deploy it.

Every figure comes from the tiers as synthesized (a fresh in-process synth of this checkout, or
``--assembly cdk.out``) and the data files in drtiers/core, each with its source.

drtiers.build (and drtiers.advice, the gates and the reports above it) import aws_cdk, which
starts a Node.js process: only the commands that synthesize import them, inside the command, so
that --help, schema, init and prices answer at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

from drtiers.assembly.reader import AssemblyError
from drtiers.cli.arguments import Parser, add_commands
from drtiers.cli.common import UsageError
from drtiers.config.context import ConfigError
from drtiers.core.facts import ParameterError, use_price_file


def parser() -> argparse.ArgumentParser:
    """drtiers' arguments: one subcommand each, in the order --help lists them."""
    root = Parser(prog="drtiers", description=__doc__.splitlines()[0])
    add_commands(root.add_subparsers(dest="command", required=True, parser_class=Parser))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    try:
        use_price_file(getattr(args, "prices", None))  # init and schema price nothing
        return int(args.run(args, console))
    except (UsageError, ValueError, ConfigError, ParameterError, AssemblyError) as error:
        print(f"drtiers: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a path given that cannot be read or written: its name and why
        where = f"{error.filename}: " if error.filename else ""
        print(f"drtiers: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
