"""What `cdk synth` runs (app.py calls this): read context once, build the tier(s), synthesize,
then hold the result to the DR rule pack and the user's RTO/RPO targets. A tier that fails
either leaves nothing behind and exits 2 with one line per problem."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk

from drtiers.advice.targets import missed_targets
from drtiers.build import DrApp
from drtiers.checks.dr import dr_findings
from drtiers.config.context import ConfigError
from drtiers.core.facts import ParameterError

PLAIN_HTTP_NOTICE = (
    "drtiers: notice: plain HTTP entry point: give domain_name with hosted_zone_id, or "
    "certificate_arns, for HTTPS"
)


def _empty(directory: Path) -> None:
    """Leave nothing behind that looks like a usable synth of a rejected tier."""
    for entry in directory.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def main(customize: Callable[[cdk.App], None] | None = None) -> int:
    """``customize`` runs on the composed app before synthesis: for tests that break a tier
    on purpose, and for adopters who extend one."""
    try:
        app = DrApp()
    except ConfigError as error:
        print(f"drtiers: error: {error}", file=sys.stderr)
        return 2
    config = app.config
    if config.sandbox:
        print(
            "drtiers: WARNING: sandbox=true: data is destroyed with the stacks, deletion "
            "protection is off and sizes are minimal. Never use it for real data.",
            file=sys.stderr,
        )
    if not config.https:
        print(PLAIN_HTTP_NOTICE, file=sys.stderr)
    if customize is not None:
        customize(app)
    directory = Path(app.synth().directory)
    problems = [str(finding) for finding in dr_findings(directory)]
    try:
        missed = (
            missed_targets(config, directory, app.node.get_all_context()) if not problems else None
        )
    except ParameterError as error:  # an estimate needs a price the price file does not have
        missed = str(error)
    if missed:
        problems.append(f"drtiers: error: {missed}")
    if problems:
        _empty(directory)
        print("\n".join(problems), file=sys.stderr)
        return 2
    return 0
