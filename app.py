#!/usr/bin/env python3
"""drtiers CDK entry point (see drtiers/entry.py): `cdk synth --context tier=warm-standby`."""

import sys

from drtiers.entry import main

if __name__ == "__main__":
    sys.exit(main())
