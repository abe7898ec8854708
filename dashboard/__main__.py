"""``python -m dashboard``: serve the control room (default http://127.0.0.1:8050/).

The pages get live pushes from ``python -m dashboard.live`` (run it too; ``make run``
starts both). Users, sessions and traffic updates are in the archive database
(``archive.url``, ``$ARCHIVE_URL``, else ``var/archive.db``).

Redis: ``redis.url`` from the config, else ``$REDIS_URL`` (the system launcher sets it),
else a server already running on ``redis.data_dir``, else an embedded redis-server started
here and stopped on exit - so ``python -m dashboard`` alone still works. When Redis is
down the page shows "degraded: Redis unreachable" and ``/healthz`` answers 503.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from bus.embedded import EmbeddedRedisError
from config.cli import start_cli
from dashboard import redact
from dashboard.app import connect_redis, create_app

log = logging.getLogger("dashboard")


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="Serve the control room (default http://127.0.0.1:8050/). Redis: redis.url from the config, "
        "else $REDIS_URL, else an embedded redis-server started here.",
    )
    ap.add_argument("--config", help="YAML config (default: $SAFECITY_CONFIG or config/default.yaml)")
    ap.add_argument("--host", help="address to listen on (default: dashboard.host, 127.0.0.1)")
    ap.add_argument("--port", type=int, help="TCP port (default: dashboard.port, 8050)")
    ap.add_argument(
        "--live-port", type=int, help="port of the websocket server the pages use (default: dashboard.live.port)"
    )
    ap.add_argument("--debug", action="store_true", help="Dash debug mode (dev tools, reloader off)")
    ap.add_argument("--access-log", action="store_true", help="log every HTTP request (the page polls each second)")
    ap.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = ap.parse_args(argv)
    cfg = start_cli(args.config, args.log_level)
    if cfg is None:
        return 2
    redact.install()  # plate searches carry the plate in the URL: never in the access log
    if not args.access_log:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if args.live_port is not None:
        live = cfg.dashboard.live.model_copy(update={"port": args.live_port})
        cfg = cfg.model_copy(update={"dashboard": cfg.dashboard.model_copy(update={"live": live})})
    host = args.host or cfg.dashboard.host
    port = args.port if args.port is not None else cfg.dashboard.port
    if not 1 <= port <= 65535:
        print(f"--port: {port} is not a TCP port (1-65535)", file=sys.stderr)
        return 2
    try:
        client, embedded = connect_redis(cfg)
    except EmbeddedRedisError as e:
        print(f"cannot start the embedded redis-server: {e}", file=sys.stderr)
        return 1
    if embedded is not None:
        log.info("no REDIS_URL: started an embedded redis-server at %s", embedded.url)

    app = create_app(cfg, client)
    signal.signal(signal.SIGTERM, _raise_interrupt)  # stop like Ctrl-C: close the server, stop our redis
    print(f"control room: http://{host}:{port}/", file=sys.stderr, flush=True)
    try:
        app.run(
            host=host,
            port=port,
            debug=args.debug,
            use_reloader=False,
            threaded=True,
            dev_tools_disable_version_check=True,  # debug mode would ask plotly.com for the latest version
        )
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
