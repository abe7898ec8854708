"""``runtime: auto``: the fastest OpenVINO / onnxruntime detector, measured on this machine at start-up.

:func:`choose_runtime` builds every candidate (runtime x thread count), times them on one
16:9 frame in interleaved rounds and keeps the fastest; the choice (:class:`RuntimeChoice`)
is remembered for the process, so further cameras build the chosen detector directly.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vision.detectors.base import DetectorError, weights_format
from vision.detectors.export import EXPORT_CACHE
from vision.detectors.exported import DETECTOR_CLASSES, ExportedYoloDetector
from vision.runtimes import RUNTIMES, available_runtimes, cpu_count

log = logging.getLogger("vision.detector")  # one logger for every detector module, as before the split


@dataclass(frozen=True, slots=True)
class RuntimeChoice:
    """What ``runtime: auto`` picked at start-up, and the timings it picked from.

    Attributes:
        runtime: The chosen runtime.
        threads: The chosen number of inference threads.
        timings_ms: ``"<runtime>/<threads>"`` -> median ms per 16:9 frame in the start-up trial.
    """

    runtime: str
    threads: int
    timings_ms: tuple[tuple[str, float], ...]


#: A multi-threaded candidate must beat the best single-threaded one by this factor to be chosen:
#: the worker runs one analysis thread per camera, so single-threaded inference keeps every core
#: busy with less overhead as soon as there are as many busy cameras as cores.
MULTI_THREAD_MARGIN = 0.75

_AUTO_CHOICES: dict[tuple[str, int, str, int, str, str], RuntimeChoice] = {}
_AUTO_LOCK = threading.Lock()


def _trial_ms(
    dets: dict[tuple[str, int], ExportedYoloDetector], frame: np.ndarray, repeats: int
) -> dict[tuple[str, int], float]:
    """Median ms per frame of each candidate, timed in interleaved rounds.

    Round after round every candidate runs the frame once, so a burst of load from
    elsewhere (on a shared virtual machine a single run now and then takes 1.5x as long)
    falls on all candidates alike instead of deciding the choice.
    """
    times: dict[tuple[str, int], list[float]] = {k: [] for k in dets}
    for det in dets.values():
        det.detect(frame)  # first runs: compilation, allocation
        det.detect(frame)
    for _ in range(repeats):
        for k, det in dets.items():
            t0 = time.perf_counter()
            det.detect(frame)
            times[k].append((time.perf_counter() - t0) * 1000.0)
    return {k: statistics.median(v) for k, v in times.items()}


def _candidates(
    weights: Path, runtimes: Sequence[str] | None, thread_options: Sequence[int] | None
) -> tuple[list[str], list[int]]:
    """The runtimes and thread counts to try (see :func:`choose_runtime`).

    Raises:
        DetectorError: no runtime is left to try.
    """
    is_ir = weights_format(weights) == "openvino"
    candidates = [r for r in (runtimes or available_runtimes()) if r in RUNTIMES and not (is_ir and r == "onnxruntime")]
    if not candidates:
        raise DetectorError(f"no CPU runtime available for {weights} (install openvino or onnxruntime)")
    threads = sorted({max(1, int(t)) for t in (thread_options or (1, cpu_count()))})
    return candidates, threads


def _build_candidates(
    weights: Path,
    candidates: Sequence[str],
    threads: Sequence[int],
    imgsz: int | None,
    cache_dir: Path,
    precision: str,
    device: str,
) -> tuple[dict[tuple[str, int], ExportedYoloDetector], np.ndarray]:
    """One detector per runtime x thread count, and the 16:9 trial frame at the model's size.

    A runtime that fails to load the weights is not tried with further thread counts.

    Raises:
        DetectorError: no candidate could be built (the message joins every failure).
    """
    frame: np.ndarray | None = None
    built: dict[tuple[str, int], ExportedYoloDetector] = {}
    errors: list[str] = []
    for rt in candidates:
        for n in threads:
            try:
                det = DETECTOR_CLASSES[rt](
                    weights, imgsz=imgsz, threads=n, cache_dir=cache_dir, precision=precision, device=device
                )
                if frame is None:  # a 16:9 camera frame at the model's size
                    size = det.imgsz
                    frame = np.random.default_rng(0).integers(0, 256, size=(size * 9 // 16, size, 3), dtype=np.uint8)
                built[(rt, n)] = det
            except DetectorError as e:
                errors.append(str(e))
                break
    if not built or frame is None:
        raise DetectorError("; ".join(errors))
    return built, frame


def _fastest(timings: dict[tuple[str, int], float]) -> tuple[str, int]:
    """The fastest single-threaded candidate, unless a multi-threaded one beats it by :data:`MULTI_THREAD_MARGIN`."""
    single = {k: v for k, v in timings.items() if k[1] == 1} or timings
    best = min(single, key=lambda k: single[k])
    multi = [k for k in timings if k[1] > 1 and timings[k] < MULTI_THREAD_MARGIN * timings[best]]
    if multi:
        best = min(multi, key=lambda k: timings[k])
    return best


def choose_runtime(
    weights: Path,
    runtimes: Sequence[str] | None = None,
    thread_options: Sequence[int] | None = None,
    imgsz: int | None = None,
    cache_dir: Path = EXPORT_CACHE,
    repeats: int = 7,
    precision: str = "auto",
    device: str = "cpu",
) -> tuple[ExportedYoloDetector, RuntimeChoice]:
    """Build the fastest detector among runtimes x thread counts, timed on this machine now.

    Each candidate runs two warm-ups and ``repeats`` timed inferences of a 16:9 frame (in
    interleaved rounds, see :func:`_trial_ms`); the lowest median wins, except that a
    multi-threaded candidate must be faster than :data:`MULTI_THREAD_MARGIN` x the best
    single-threaded one. The choice is remembered
    for the process (per weights, size and options), so further cameras build the chosen
    detector directly.

    Args:
        weights: ``.pt``/``.onnx``/OpenVINO weights.
        runtimes: Candidates (default: the available ones of :data:`vision.runtimes.RUNTIMES`;
            onnxruntime is left out for OpenVINO IR weights).
        thread_options: Thread counts to try (default: 1 and all cores).
        imgsz: Inference size; None: the model's own (see :class:`~vision.detectors.exported.ExportedYoloDetector`).
        cache_dir: Export cache.
        repeats: Timed inferences per candidate.
        precision: Passed to the detectors (see :class:`~vision.detectors.exported.ExportedYoloDetector`).
        device: Passed to the detectors (``cpu``, ``gpu``/``cuda``).

    Returns:
        The chosen detector and the choice.

    Raises:
        DetectorError: no runtime can load the weights.
    """
    candidates, threads = _candidates(weights, runtimes, thread_options)
    key = (str(weights), int(imgsz or 0), ",".join(candidates), threads[-1], precision, device)
    with _AUTO_LOCK:
        known = _AUTO_CHOICES.get(key)
    if known is not None:
        det = DETECTOR_CLASSES[known.runtime](
            weights, imgsz=imgsz, threads=known.threads, cache_dir=cache_dir, precision=precision, device=device
        )
        return det, known
    built, frame = _build_candidates(weights, candidates, threads, imgsz, cache_dir, precision, device)
    timings = _trial_ms(built, frame, repeats)
    best = _fastest(timings)
    choice = RuntimeChoice(
        runtime=best[0],
        threads=best[1],
        timings_ms=tuple((f"{rt}/{n}", round(ms, 1)) for (rt, n), ms in sorted(timings.items())),
    )
    log.info(
        "detector runtime: %s (%s) with %d thread(s); start-up trial ms/frame: %s",
        best[0],
        built[best].precision,
        best[1],
        dict(choice.timings_ms),
    )
    with _AUTO_LOCK:
        _AUTO_CHOICES[key] = choice
    return built[best], choice


__all__ = ["MULTI_THREAD_MARGIN", "RuntimeChoice", "choose_runtime"]
