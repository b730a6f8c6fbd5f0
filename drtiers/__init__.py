"""drtiers: disaster-recovery reference architectures as code."""

import os
from pathlib import Path


def _pinned_node() -> None:
    """Run the CDK's jsii runtime on the repository's pinned Node.js (node_modules/.bin/node,
    from package.json) rather than whatever `node` the machine has: the same Node.js for
    `drtiers`, `cdk synth` and the tests, and no end-of-life banner from an older one. The
    nearest node_modules from the working directory up wins, then this checkout's own."""
    if "JSII_NODE" in os.environ:
        return
    here = Path.cwd().resolve()
    for folder in (here, *here.parents, Path(__file__).resolve().parents[1]):
        node = folder / "node_modules" / ".bin" / "node"
        if node.is_file():
            os.environ["JSII_NODE"] = str(node)
            return


_pinned_node()
