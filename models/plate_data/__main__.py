"""``python -m models.plate_data``."""

import sys

from models.plate_data.cli import main

sys.exit(main())
