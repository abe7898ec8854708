"""Number-plate text logic (pure): normalisation, format rules, voting, watchlists.

Everything here works on text and on per-character probabilities coming from an
OCR model; nothing reads images (that is :mod:`vision.plates`).

* :mod:`core.anpr.text`: the plate alphabet, :func:`normalise_plate_text` (upper-case
  ASCII letters and digits only), :func:`hamming` and :func:`edit_distance`.
* :mod:`core.anpr.ocr`: :class:`OcrLine`, one line of text as an OCR model read it.
* :mod:`core.anpr.layouts`: :class:`PlateLayout` and the tiny pattern language of
  ``config/plate_formats.yaml``, e.g. ``"L{2,3} D{1,4}"`` (2-3 letters then 1-4 digits;
  :func:`parse_pattern`).
* :mod:`core.anpr.format_set`: :class:`PlateFormatSet`, the configurable set of plate
  layouts; :meth:`PlateFormatSet.resolve` picks the most probable reading that fits a
  layout (a :class:`Resolution`), which is how OCR confusions such as ``0``/``O``,
  ``1``/``I``, ``8``/``B`` and ``5``/``S`` are settled.
* :mod:`core.anpr.voting`: :class:`TrackPlateVoter`, per-track voting over the readings
  of several frames.
* :mod:`core.anpr.watchlist`: :class:`Watchlist`, exact and fuzzy (one character off)
  matching of plates against watch-listed ones, and :func:`watchlist_incident` to turn a
  hit into an :class:`~core.types.Incident`.

This package re-exports the public names of all of them.

Plates are personal data: this package never logs them.
"""

from __future__ import annotations

from core.anpr.format_set import DEFAULT_CONFUSIONS, PlateFormatSet, Resolution
from core.anpr.layouts import CLASSES, PlateLayout, parse_pattern
from core.anpr.ocr import OcrLine
from core.anpr.text import ALPHABET, edit_distance, hamming, normalise_plate_text
from core.anpr.text import DIGITS as DIGITS
from core.anpr.text import LETTERS as LETTERS
from core.anpr.voting import PlateObservation, TrackPlateVoter
from core.anpr.watchlist import (
    Watchlist,
    WatchlistEntry,
    WatchlistHit,
    watchlist_from_csv,
    watchlist_from_mapping,
    watchlist_incident,
)

__all__ = [
    "ALPHABET",
    "CLASSES",
    "DEFAULT_CONFUSIONS",
    "OcrLine",
    "PlateFormatSet",
    "PlateLayout",
    "PlateObservation",
    "Resolution",
    "TrackPlateVoter",
    "Watchlist",
    "WatchlistEntry",
    "WatchlistHit",
    "edit_distance",
    "hamming",
    "normalise_plate_text",
    "parse_pattern",
    "watchlist_from_csv",
    "watchlist_from_mapping",
    "watchlist_incident",
]
