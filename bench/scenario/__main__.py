"""``python -m bench.scenario``: see :mod:`bench.scenario.cli`."""

import sys

from bench.scenario.cli import main

sys.exit(main())
