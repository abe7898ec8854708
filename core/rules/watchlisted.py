"""Watch-listed plates: where the engine gets the watchlist in force."""

from __future__ import annotations

from collections.abc import Callable

from core.anpr.watchlist import Watchlist

#: A watchlist, or a callable returning the current one (a run-time cache fed from Redis).
WatchlistSource = Watchlist | Callable[[], Watchlist]
