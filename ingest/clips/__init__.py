"""Video evidence in the worker: per-camera clip rings and writers, continuous recording segments.

:mod:`~ingest.clips.encode` (H.264 MP4 with PyAV), :mod:`~ingest.clips.recorder` (ring + clips of violations
and incidents, written in a background thread), :mod:`~ingest.clips.recording` (continuous segments).
"""
