#!/usr/bin/env python3
"""drtiers CDK entry point: reads context once, validates it, builds the tier(s)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import aws_cdk as cdk

from drtiers.assess.targets import missed_targets
from drtiers.config import ConfigError, from_context
from drtiers.stacks.compose import compose


def main() -> int:
    # The pinned cfn-lint (make lint, CI) checks every template; the CDK's built-in WASM copy of
    # it would add ~1.5 s to every synth, so it is off here and on in the tests.
    app = cdk.App(builtin_cloud_formation_validation=False)
    try:
        config = from_context(app.node.try_get_context)
    except ConfigError as error:
        print(f"drtiers: error: {error}", file=sys.stderr)
        return 2
    if config.sandbox:
        print(
            "drtiers: WARNING: sandbox=true: data is destroyed with the stacks, deletion "
            "protection is off and sizes are minimal. Never use it for real data.",
            file=sys.stderr,
        )
    compose(app, config)
    assembly = app.synth()
    missed = missed_targets(config, Path(assembly.directory), app.node.get_all_context())
    if missed:
        # Leave nothing behind that looks like a usable synth of the rejected tier.
        for entry in Path(assembly.directory).iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        print(f"drtiers: error: {missed}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
