"""``python -m drtiers.cli``: the drtiers command."""

import sys

from drtiers.cli import main

sys.exit(main())
