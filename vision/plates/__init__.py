"""Number-plate finding and reading (ANPR), offline, with the PP-OCR models bundled in rapidocr.

Pipeline for one image (a whole frame or a vehicle crop):

1. **Find text**: the PP-OCR text detector (DB) bundled in the ``rapidocr`` wheel finds
   text lines (rotated quadrilaterals).
2. **Read**: each line is rectified (perspective warp of its quadrilateral, so skewed
   plates come out level) and read by the PP-OCR recogniser. The recogniser's
   per-frame character probabilities are folded to the plate alphabet (``0-9A-Z``),
   so lower-case letters, punctuation and other scripts count as "not plate".
3. **Group**: neighbouring lines on one level (plate text split by a logo) and lines
   stacked one above the other (two-line motorcycle plates) also make candidates.
4. **Fit and rank**: each candidate is fitted to the configured plate layouts
   (:class:`core.anpr.PlateFormatSet`, ``config/plate_formats.yaml``), which settles
   confusions such as ``0``/``O``; candidates are ranked by a plate score that weighs
   OCR confidence, the layout fitted, presence of digits, non-plate ink and text
   height.

:class:`PlateReader` is the API the worker calls per vehicle crop; ``python -m
vision.plates PATH... --json`` is the command line. Models load lazily, once per
process. Plate texts are personal data: they are logged at debug level only.

One module per step, every public name re-exported here (import them from ``vision.plates``):
:mod:`~vision.plates.ocr` (the engine), :mod:`~vision.plates.ctc` (decoding),
:mod:`~vision.plates.rectify` (image geometry), :mod:`~vision.plates.candidates` (grouping
and ranking helpers), :mod:`~vision.plates.reader` (:class:`PlateReader`),
:mod:`~vision.plates.monitor` (:class:`PlateMonitor`) and :mod:`~vision.plates.cli`.
"""

from __future__ import annotations

from vision.plates.candidates import PlateCandidate, drop_squeezed
from vision.plates.cli import main
from vision.plates.ctc import _decode as _decode  # used by tests
from vision.plates.ctc import _fold_table as _fold_table
from vision.plates.monitor import PlateHit, PlateMonitor, PlateUpdate, WatchlistSource
from vision.plates.ocr import OcrEngine, PlateReaderError, get_engine
from vision.plates.reader import DEFAULT_FORMATS_PATH, PlateReader, load_formats
from vision.plates.rectify import rectify

__all__ = [
    "DEFAULT_FORMATS_PATH",
    "OcrEngine",
    "PlateCandidate",
    "PlateHit",
    "PlateMonitor",
    "PlateReader",
    "PlateReaderError",
    "PlateUpdate",
    "WatchlistSource",
    "drop_squeezed",
    "get_engine",
    "load_formats",
    "main",
    "rectify",
]
