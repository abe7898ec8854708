"""Ingest worker: cameras -> vision pipeline -> Redis.

``python -m ingest.worker`` runs the configured cameras (all enabled ones, or those
named with ``--camera``). Per camera, a capture thread (:class:`ingest.sources.CameraCapture`)
keeps the newest frames; an analysis thread samples them to ``analysis_fps`` (by frame
time), runs the :class:`vision.pipeline.CameraPipeline`, and publishes through ``bus/``:

* ``traffic.crossing``: every counting-line crossing, as it happens;
* ``traffic.density``: per-camera density every ``worker.density_interval_s`` of frame time;
* ``camera.status``: a heartbeat every ``worker.heartbeat_s`` (online/offline, fps in and
  analysed, frames skipped/corrupt, reconnects), also kept as live state;
* the latest annotated JPEG per camera (one key, overwritten, at most ``frame_publish_fps``).

A camera whose source fails is shown offline and retried with backoff by its capture
thread; the worker itself never stops for a bad camera.

Scale-out and faults (docs/operations.md): any number of workers, on any number of
machines, share the cameras through Redis leases (:mod:`bus.leases`); events go through a
durable local spool (:mod:`bus.spool`, :mod:`bus.publisher`) so a Redis outage loses
nothing and a replay duplicates nothing; SIGTERM stops the cameras, flushes the spool and
releases the leases.

The package, one idea per module: :mod:`~ingest.worker.runner` (one camera's analysis
loop), :mod:`~ingest.worker.live` (status, heartbeats), :mod:`~ingest.worker.publish`
(events, density, the latest frame), :mod:`~ingest.worker.process` (the worker process:
cameras, leases, adopted spools) and :mod:`~ingest.worker.cli` (its command line).
"""

from ingest.worker.cli import main
from ingest.worker.live import CameraHeartbeats, LiveGate, Rate
from ingest.worker.process import Worker, default_worker_id
from ingest.worker.publish import DensityWindow, ResultPublishing
from ingest.worker.runner import CameraRunner

__all__ = [
    "CameraHeartbeats",
    "CameraRunner",
    "DensityWindow",
    "LiveGate",
    "Rate",
    "ResultPublishing",
    "Worker",
    "default_worker_id",
    "main",
]
