"""What `cdk synth` runs (app.py calls this): read context once, build the tier(s), synthesize,
then hold the result to the DR rule pack and the user's RTO/RPO targets. A tier that fails
either leaves nothing behind and exits 2 with one line per problem. A synthesis that passed
is kept (drtiers.assembly.cache) and copied the next time nothing it depends on changed; the
CDK and the builders are imported only when it must run, since importing them starts Node.js."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from drtiers.assembly import cache
from drtiers.config.context import ConfigError, check_context_keys, cli_context, from_context

if TYPE_CHECKING:
    import aws_cdk as cdk

    from drtiers.build import DrApp

PLAIN_HTTP_NOTICE = (
    "drtiers: notice: plain HTTP entry point: give domain_name with hosted_zone_id, or "
    "certificate_arns, for HTTPS"
)
SANDBOX_WARNING = (
    "drtiers: WARNING: sandbox=true: data is destroyed with the stacks, deletion protection "
    "is off and sizes are minimal. Never use it for real data."
)


def _empty(directory: Path) -> None:
    """Leave nothing behind that looks like a usable synth of a rejected tier (the cache of
    other syntheses stays)."""
    for entry in directory.iterdir():
        if entry.name == ".cache":
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def main(customize: Callable[[cdk.App], None] | None = None) -> int:
    """``customize`` runs on the composed app before synthesis: for tests that break a tier
    on purpose, and for adopters who extend one (never cached)."""
    outdir = os.environ.get("CDK_OUTDIR")
    name = cache.key({}) if customize is None and outdir else None
    if name is not None and outdir:
        printed = cache.restore(name, Path(outdir))
        if printed is not None:
            sys.stderr.write(printed)
            return 0
    context = cli_context()
    fleet = context.get("fleet")
    try:  # a bad value is refused before the CDK starts Node.js, as DrApp would refuse it
        if not context:
            raise ConfigError(
                "no CDK context: run the app through the CDK CLI (npx cdk synth, which reads "
                "cdk.json), not python app.py alone"
            )
        check_context_keys(context)
        if fleet:
            return _synthesize_fleet(Path(str(fleet)))
        from_context(context.get)
    except ConfigError as error:
        print(f"drtiers: error: {error}", file=sys.stderr)
        return 2
    return _synthesize(customize, name)


def _synthesize_fleet(path: Path) -> int:
    """`cdk synth --context fleet=FILE`: the fleet's pipeline app (drtiers.fleet.pipeline)."""
    from drtiers.config.fleet import read_fleet

    fleet = read_fleet(path)  # a bad file is one line, before Node.js starts
    import aws_cdk as cdk

    from drtiers.fleet.pipeline import build_fleet_app

    app = cdk.App(builtin_cloud_formation_validation=False)  # the pinned cfn-lint checks
    base = {k: v for k, v in cli_context().items() if k not in ("fleet", "tier", "workload")}
    build_fleet_app(app, fleet, path, base)
    app.synth()
    return 0


def _synthesize(customize: Callable[[cdk.App], None] | None, name: str | None) -> int:
    from drtiers.build import DrApp

    app = DrApp()
    notices = [SANDBOX_WARNING] * app.config.sandbox + [PLAIN_HTTP_NOTICE] * (not app.config.https)
    printed = "".join(f"{line}\n" for line in notices)
    sys.stderr.write(printed)
    if customize is not None:
        customize(app)
    directory = Path(app.synth().directory)
    problems = _problems(app, directory)
    if problems:
        _empty(directory)
        print("\n".join(problems), file=sys.stderr)
        return 2
    cache.store(name, directory, printed)
    return 0


def _problems(app: DrApp, directory: Path) -> list[str]:
    """The DR rule pack's findings, then a missed RTO/RPO target (or the price it lacks)."""
    from drtiers.advice.targets import missed_targets
    from drtiers.checks.dr import dr_findings
    from drtiers.core.facts import ParameterError

    problems = [str(finding) for finding in dr_findings(directory)]
    try:
        missed = (
            missed_targets(app.config, directory, app.node.get_all_context())
            if not problems
            else None
        )
    except ParameterError as error:  # an estimate needs a price the price file does not have
        missed = str(error)
    if missed:
        problems.append(f"drtiers: error: {missed}")
    return problems
