"""Every Redis key, key prefix and pub/sub channel the system uses, in one place.

Stream names are not here: they come from the event types
(:func:`bus.schema.stream_of`). What is here is everything else a process reads or
writes in Redis; modules build keys with these constants and functions only, so a
key is spelled once and two modules can never disagree about it.

Live state (:mod:`bus.store`):

* ``live:frame:<camera_id>``: hash ``{jpeg, ts_ms}``, the latest annotated JPEG.
* ``live:camera_status`` / ``live:density`` / ``live:segment``: hashes of envelopes.
* ``live:changed``: pub/sub channel of change hints.

Streams (:mod:`bus.streams`, :mod:`bus.publisher`):

* ``<stream>.dead``: dead-letter stream of ``<stream>``.
* ``bus:dedup:{<stream>}:<producer_id>``: last sequence number a producer appended
  (hash-tagged with the stream so it lives on the stream's cluster slot).

Camera leases and the worker registry (:mod:`bus.leases`):

* ``lease:camera:<camera_id>``: the worker id holding the camera (with a TTL).
* ``workers:alive:<worker_id>``: liveness flag (with a TTL).
* ``workers:info``: hash ``worker_id -> JSON``; ``workers:drain``: hash of draining workers.

Alerts (:mod:`bus.alerts`): ``alerts:open`` (hash ``alert_id -> JSON``); channels
``alerts:warden:<username>`` and ``alerts:<control_room>``.

Watchlist (:mod:`bus.watchlist`): ``watchlist:plates``, ``watchlist:version``,
``watchlist:audit`` (list of changes, newest first, capped), channel ``watchlist:changed``.

Enforcement state (:mod:`bus.rulestate`): ``rules:checkpoint:<camera_id>``,
``rules:pending:<camera_id>``, ``rules:plates:<camera_id>``, ``congestion:episodes``.

Notifications (:mod:`bus.notify`): ``notify:vapid_public_key`` (the Web Push application
server key the notifier signs with), ``notify:status`` (hash of the notifier's counters).

Others: ``evidence:<sha256>`` (:mod:`bus.evidence`), ``ratelimit:<scope>:<key>:<bucket>``
(:mod:`bus.ratelimit`), ``dash:live:stats:<host>:<pid>`` (:mod:`dashboard.live`).
"""

from __future__ import annotations

# --------------------------------------------------------------------------- live state

LIVE_PREFIX = "live:"
LIVE_FRAME_PREFIX = LIVE_PREFIX + "frame:"
LIVE_STATUS_KEY = LIVE_PREFIX + "camera_status"
LIVE_DENSITY_KEY = LIVE_PREFIX + "density"
LIVE_SEGMENT_KEY = LIVE_PREFIX + "segment"
LIVE_CHANNEL = LIVE_PREFIX + "changed"
"""Pub/sub channel of change hints: ``{"kind": frame|camera_status|density|segment, "id", "ts_ms"}``."""


def frame_key(camera_id: str) -> str:
    """Hash holding the latest annotated JPEG of a camera."""
    return LIVE_FRAME_PREFIX + camera_id


# --------------------------------------------------------------------------- streams

DEAD_SUFFIX = ".dead"
"""Dead-letter stream of ``s`` is ``s + DEAD_SUFFIX``."""

DEDUP_PREFIX = "bus:dedup:"


def dead_stream(stream: str) -> str:
    """Name of a stream's dead-letter stream."""
    return stream + DEAD_SUFFIX


def dedup_key(stream: str, producer_id: str) -> str:
    """Key holding the last sequence number of ``producer_id`` appended to ``stream``."""
    return f"{DEDUP_PREFIX}{{{stream}}}:{producer_id}"


# --------------------------------------------------------------------------- leases, workers

LEASE_PREFIX = "lease:camera:"
WORKER_ALIVE_PREFIX = "workers:alive:"
WORKERS_INFO_KEY = "workers:info"
WORKERS_DRAIN_KEY = "workers:drain"


def lease_key(camera_id: str) -> str:
    """Key naming the worker that holds a camera's lease."""
    return LEASE_PREFIX + camera_id


def worker_alive_key(worker_id: str) -> str:
    """Liveness flag of a worker (expires unless the worker heartbeats)."""
    return WORKER_ALIVE_PREFIX + worker_id


# --------------------------------------------------------------------------- alerts

ALERTS_PREFIX = "alerts:"
ALERTS_OPEN_KEY = ALERTS_PREFIX + "open"
WARDEN_CHANNEL_PREFIX = ALERTS_PREFIX + "warden:"


def warden_channel(username: str) -> str:
    """Push channel of one warden's alerts."""
    return WARDEN_CHANNEL_PREFIX + username


def control_channel(control_room: str) -> str:
    """Push channel of a control room (escalations, alerts on segments without wardens)."""
    return ALERTS_PREFIX + control_room


# --------------------------------------------------------------------------- watchlist

WATCHLIST_PLATES_KEY = "watchlist:plates"
WATCHLIST_VERSION_KEY = "watchlist:version"
WATCHLIST_CHANNEL = "watchlist:changed"
WATCHLIST_AUDIT_KEY = "watchlist:audit"
#: Changes kept in ``watchlist:audit``.
WATCHLIST_AUDIT_MAX = 1000

# --------------------------------------------------------------------------- enforcement state

RULES_CHECKPOINT_PREFIX = "rules:checkpoint:"
RULES_PENDING_PREFIX = "rules:pending:"
RULES_PLATES_PREFIX = "rules:plates:"
CONGESTION_EPISODES_KEY = "congestion:episodes"


def rules_checkpoint_key(camera_id: str) -> str:
    """JSON checkpoint of a camera's rule engine."""
    return RULES_CHECKPOINT_PREFIX + camera_id


def rules_pending_key(camera_id: str) -> str:
    """Hash of a camera's violations detected but not published yet."""
    return RULES_PENDING_PREFIX + camera_id


def rules_plates_key(camera_id: str) -> str:
    """Hash of a camera's plate reads asked for and not finished yet (replayed after a crash)."""
    return RULES_PLATES_PREFIX + camera_id


# --------------------------------------------------------------------------- notifications

NOTIFY_VAPID_PUBLIC_KEY = "notify:vapid_public_key"
NOTIFY_STATUS_KEY = "notify:status"

# --------------------------------------------------------------------------- evidence, rate limits

EVIDENCE_PREFIX = "evidence:"
RATELIMIT_PREFIX = "ratelimit:"


def evidence_key(sha256: str) -> str:
    """Key of an evidence blob, by its SHA-256 hex digest."""
    return EVIDENCE_PREFIX + sha256


def ratelimit_key(scope: str, key: str, bucket: int) -> str:
    """Counter of one fixed rate-limit window."""
    return f"{RATELIMIT_PREFIX}{scope}:{key}:{bucket}"


# --------------------------------------------------------------------------- dashboard

LIVE_STATS_PREFIX = "dash:live:stats:"
"""Per websocket-server process statistics (``dash:live:stats:<host>:<pid>``)."""


def live_stats_key(host: str, pid: int) -> str:
    """Statistics key of one websocket-server process."""
    return f"{LIVE_STATS_PREFIX}{host}:{pid}"


__all__ = [
    "ALERTS_OPEN_KEY",
    "ALERTS_PREFIX",
    "CONGESTION_EPISODES_KEY",
    "DEAD_SUFFIX",
    "DEDUP_PREFIX",
    "EVIDENCE_PREFIX",
    "LEASE_PREFIX",
    "LIVE_CHANNEL",
    "LIVE_DENSITY_KEY",
    "LIVE_FRAME_PREFIX",
    "LIVE_PREFIX",
    "LIVE_SEGMENT_KEY",
    "LIVE_STATS_PREFIX",
    "LIVE_STATUS_KEY",
    "NOTIFY_STATUS_KEY",
    "NOTIFY_VAPID_PUBLIC_KEY",
    "RATELIMIT_PREFIX",
    "RULES_CHECKPOINT_PREFIX",
    "RULES_PENDING_PREFIX",
    "WARDEN_CHANNEL_PREFIX",
    "WATCHLIST_AUDIT_KEY",
    "WATCHLIST_AUDIT_MAX",
    "WATCHLIST_CHANNEL",
    "WATCHLIST_PLATES_KEY",
    "WATCHLIST_VERSION_KEY",
    "WORKERS_DRAIN_KEY",
    "WORKERS_INFO_KEY",
    "WORKER_ALIVE_PREFIX",
    "control_channel",
    "dead_stream",
    "dedup_key",
    "evidence_key",
    "frame_key",
    "lease_key",
    "live_stats_key",
    "ratelimit_key",
    "rules_checkpoint_key",
    "rules_pending_key",
    "rules_plates_key",
    "warden_channel",
    "worker_alive_key",
]
