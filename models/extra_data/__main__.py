"""``python -m models.extra_data``."""

import sys

from models.extra_data.cli import main

if __name__ == "__main__":
    sys.exit(main())
