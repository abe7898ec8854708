"""Live state in Redis: what the dashboard shows right now.

Keys (all prefixed ``live:``):

* ``live:frame:<camera_id>``: hash ``{jpeg, ts_ms}``, the latest annotated JPEG of
  a camera, overwritten in place (frames never go through streams).
* ``live:camera_status``: hash ``camera_id -> JSON envelope`` of :class:`CameraStatus`.
* ``live:density``: hash ``camera_id -> JSON envelope`` of :class:`DensityReport`.
* ``live:segment``: hash ``segment_id -> JSON envelope`` of :class:`SegmentDensity`.

Values are :func:`bus.schema.dumps` envelopes, so they carry the schema version
and decode with the same rules as stream entries. Last write wins.

Every write also publishes a hint on :data:`bus.keys.LIVE_CHANNEL` (pub/sub), e.g.
``{"kind": "segment", "id": "gt-road-1", "ts_ms": 1700000000000}``, so live views
can refresh on change instead of polling (disable with ``notify=False``).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import redis

from bus.embedded import is_cluster
from bus.keys import LIVE_CHANNEL, LIVE_DENSITY_KEY, LIVE_FRAME_PREFIX, LIVE_SEGMENT_KEY, LIVE_STATUS_KEY, frame_key
from bus.schema import SchemaError, dumps, loads
from bus.streams import notification_text
from core.types import CameraStatus, DensityReport, SegmentDensity

_JPEG_MAGIC = b"\xff\xd8"

T = TypeVar("T")


def _s(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


class LiveStore:
    """Read/write the live state.

    Args:
        client: A redis client with ``decode_responses=False`` (JPEG bytes must stay bytes).
        notify: Publish a change hint on :data:`bus.keys.LIVE_CHANNEL` with every write.
        frame_ttl_s: Expire a camera's frame key this long after its last update
            (None keeps it; the frame's ``ts_ms`` tells how old it is).

    Attributes:
        malformed: Stored values that could not be decoded and were skipped, by hash key.
    """

    def __init__(self, client: redis.Redis, notify: bool = True, frame_ttl_s: float | None = None) -> None:
        kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", {})
        if kwargs.get("decode_responses"):
            raise ValueError("LiveStore needs a redis client with decode_responses=False (frames are bytes)")
        self.client = client
        self.notify = notify
        self.frame_ttl_s = frame_ttl_s
        self.malformed: dict[str, int] = {}
        self._cluster = is_cluster(client)

    def ping(self) -> bool:
        """True when Redis answers; False (never raises) when it is down or unreachable."""
        try:
            return bool(self.client.ping())
        except (redis.RedisError, OSError):
            return False

    def server_info(self) -> dict[str, Any]:
        """The server's ``INFO`` (``redis_version``, ``used_memory_human``, ``connected_clients`` ...).

        Raises:
            One of :data:`bus.embedded.REDIS_ERRORS` when Redis is unreachable.
        """
        info: Any = self.client.info()
        return dict(info)

    def json_values(self, key_prefix: str) -> list[dict[str, Any]]:
        """The JSON objects stored under every key starting with ``key_prefix`` (e.g. the live servers' stats).

        Keys that vanish meanwhile and values that are not JSON objects are skipped. One
        pipelined GET per key, so the keys may live in different Cluster slots.

        Raises:
            One of :data:`bus.embedded.REDIS_ERRORS` when Redis is unreachable.
        """
        keys = list(self.client.scan_iter(match=key_prefix + "*", count=100))
        if not keys:
            return []
        pipe = self.client.pipeline(transaction=False)
        for k in keys:
            pipe.get(k)
        out = []
        for raw in pipe.execute():
            if raw is None:
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
        return out

    # ------------------------------------------------------------------ frames

    def put_frame(self, camera_id: str, jpeg: bytes, ts_ms: int) -> None:
        """Store a camera's latest annotated JPEG (one key per camera, overwritten).

        Raises:
            ValueError: ``jpeg`` is not JPEG data (raw pixels never go to Redis).
        """
        if not isinstance(jpeg, bytes | bytearray | memoryview) or bytes(jpeg[:2]) != _JPEG_MAGIC:
            raise ValueError(f"{camera_id}: put_frame expects JPEG bytes (starting FF D8)")
        key = frame_key(camera_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping={"jpeg": bytes(jpeg), "ts_ms": str(int(ts_ms))})
        if self.frame_ttl_s is not None:
            pipe.pexpire(key, max(1, int(self.frame_ttl_s * 1000)))
        self._notify(pipe, {"kind": "frame", "id": camera_id, "ts_ms": int(ts_ms)})

    def get_frame(self, camera_id: str) -> tuple[bytes, int] | None:
        """``(jpeg, ts_ms)`` of a camera's latest frame, or None."""
        raw: Any = self.client.hmget(frame_key(camera_id), ["jpeg", "ts_ms"])
        jpeg, ts = raw
        if jpeg is None or ts is None:
            return None
        try:
            return bytes(jpeg), int(ts)
        except ValueError:
            return None

    def frame_ts(self, camera_id: str) -> int | None:
        """Capture time of a camera's latest frame without fetching the JPEG, or None."""
        raw: Any = self.client.hget(frame_key(camera_id), "ts_ms")
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None

    def frame_cameras(self) -> list[str]:
        """Ids of cameras that have a stored frame."""
        raw: Any = self.client.scan_iter(match=LIVE_FRAME_PREFIX + "*", count=500)
        return sorted(_s(k)[len(LIVE_FRAME_PREFIX) :] for k in raw)

    # ------------------------------------------------------------------ hashes of events

    def _put(self, key: str, kind: str, member: str, obj: object, ts_ms: int) -> None:
        value = dumps(obj)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, member, value)
        self._notify(pipe, {"kind": kind, "id": member, "ts_ms": int(ts_ms)})

    def _notify(self, pipe: Any, hint: dict[str, Any]) -> None:
        """Execute ``pipe`` with the change hint; on Redis Cluster (no PUBLISH in pipelines) publish after it."""
        if not self.notify:
            pipe.execute()
        elif self._cluster:
            pipe.execute()
            self.client.publish(LIVE_CHANNEL, notification_text(hint))
        else:
            pipe.publish(LIVE_CHANNEL, notification_text(hint))
            pipe.execute()

    def _get_one(self, key: str, member: str, cls: type[T]) -> T | None:
        raw: Any = self.client.hget(key, member)
        return None if raw is None else self._decode(key, raw, cls)

    def _get_all(self, key: str, cls: type[T]) -> dict[str, T]:
        raw: Any = self.client.hgetall(key)
        out: dict[str, T] = {}
        for member, value in raw.items():
            obj = self._decode(key, value, cls)
            if obj is not None:
                out[_s(member)] = obj
        return dict(sorted(out.items()))

    def _decode(self, key: str, raw: bytes | str, cls: type[T]) -> T | None:
        try:
            obj = loads(raw).obj
        except SchemaError:
            obj = None
        if not isinstance(obj, cls):
            self.malformed[key] = self.malformed.get(key, 0) + 1
            return None
        return obj

    def put_camera_status(self, status: CameraStatus) -> None:
        """Store a camera's latest heartbeat."""
        self._put(LIVE_STATUS_KEY, "camera_status", status.camera_id, status, status.ts_ms)

    def camera_status(self, camera_id: str) -> CameraStatus | None:
        """One camera's latest heartbeat, or None."""
        return self._get_one(LIVE_STATUS_KEY, camera_id, CameraStatus)

    def camera_statuses(self) -> dict[str, CameraStatus]:
        """Latest heartbeat of every camera, by camera id (malformed values skipped and counted)."""
        return self._get_all(LIVE_STATUS_KEY, CameraStatus)

    def put_density(self, rep: DensityReport) -> None:
        """Store a camera's latest density report."""
        self._put(LIVE_DENSITY_KEY, "density", rep.camera_id, rep, rep.ts_ms)

    def density(self, camera_id: str) -> DensityReport | None:
        """One camera's latest density report, or None."""
        return self._get_one(LIVE_DENSITY_KEY, camera_id, DensityReport)

    def densities(self) -> dict[str, DensityReport]:
        """Latest density report of every camera, by camera id."""
        return self._get_all(LIVE_DENSITY_KEY, DensityReport)

    def put_segment(self, seg: SegmentDensity) -> None:
        """Store a road segment's latest state."""
        self._put(LIVE_SEGMENT_KEY, "segment", seg.segment_id, seg, seg.ts_ms)

    def segment(self, segment_id: str) -> SegmentDensity | None:
        """One segment's latest state, or None."""
        return self._get_one(LIVE_SEGMENT_KEY, segment_id, SegmentDensity)

    def segments(self) -> dict[str, SegmentDensity]:
        """Latest state of every road segment, by segment id."""
        return self._get_all(LIVE_SEGMENT_KEY, SegmentDensity)

    def remove_camera(self, camera_id: str) -> None:
        """Forget a camera's frame, status and density (e.g. removed from the config)."""
        pipe = self.client.pipeline(transaction=not self._cluster)  # three keys: three slots on a Cluster
        pipe.delete(frame_key(camera_id))
        pipe.hdel(LIVE_STATUS_KEY, camera_id)
        pipe.hdel(LIVE_DENSITY_KEY, camera_id)
        pipe.execute()
