"""``python -m ingest.worker``."""

import sys

from ingest.worker.cli import main

sys.exit(main())
