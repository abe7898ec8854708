"""``python -m vision.plates PATH... --json`` (see :mod:`vision.plates.cli`)."""

from vision.plates.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
