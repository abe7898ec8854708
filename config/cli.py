"""Start-up shared by the command-line entry points: logging, then the configuration."""

from __future__ import annotations

import logging
import os
import sys

from config.settings import AppConfig, ConfigError, load_config

#: Log line format of every process of the system.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def start_cli(config_path: str | os.PathLike[str] | None, log_level: str) -> AppConfig | None:
    """Configure logging and load the config.

    Returns:
        The configuration, or None when it cannot be used (the error, naming the file and
        field, is printed on stderr; the caller exits with status 2).
    """
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    try:
        return load_config(config_path)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return None
