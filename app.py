#!/usr/bin/env python3
"""drtiers CDK entry point: reads context once, validates it, builds the tier(s)."""

from __future__ import annotations

import sys

import aws_cdk as cdk

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
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
