"""Schema migrations from a shell: ``python -m archive.migrate_cli {upgrade,current,check}``.

``upgrade`` migrates the database to the newest revision (what every process does on start,
:func:`archive.migrate.upgrade`), ``current`` prints its revision and the head, ``check``
prints where the database and the models differ (:func:`archive.schema.schema_diff`) and
exits 1 when they do.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from archive.db import archive_url, make_engine
from archive.migrate import current_revision, head_revision, upgrade
from archive.schema import schema_diff
from config.settings import load_config


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m archive.migrate_cli", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "action",
        choices=["upgrade", "current", "check"],
        help="upgrade to head, print the revision, or check that the database matches the models (exit 1 when not)",
    )
    ap.add_argument("--archive-url", help="SQLAlchemy URL (default: config archive.url, $ARCHIVE_URL, SQLite)")
    ap.add_argument("--config", help="YAML config (default: $SAFECITY_CONFIG or config/default.yaml)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = args.archive_url or archive_url(load_config(args.config))
    engine = make_engine(url)
    try:
        if args.action == "upgrade":
            print("migrated" if upgrade(engine) else "already current", head_revision())
        elif args.action == "current":
            with engine.connect() as conn:
                print(current_revision(conn) or "none (not migrated)", "head:", head_revision())
        else:
            diff = schema_diff(engine)
            for d in diff:
                print(d)
            return 1 if diff else 0
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
