"""Fitting OCR readings to the configured plate layouts (pure).

:class:`PlateFormatSet` is the set of layouts a reader accepts
(``config/plate_formats.yaml``); :meth:`PlateFormatSet.resolve` picks the most
probable reading that fits a layout, which is how OCR confusions such as ``0``/``O``,
``1``/``I``, ``8``/``B`` and ``5``/``S`` are settled. The result is a :class:`Resolution`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from core.anpr.layouts import PlateLayout
from core.anpr.ocr import OcrLine
from core.anpr.text import ALPHABET, ALPHABET_INDEX, normalise_plate_text

#: Characters OCR commonly swaps on plates (symmetric use: each key may stand for any of its values).
DEFAULT_CONFUSIONS: dict[str, str] = {
    "0": "ODQU",
    "1": "ILTJ",
    "2": "Z",
    "3": "B",
    "4": "A",
    "5": "S",
    "6": "G",
    "7": "T",
    "8": "B",
    "9": "G",
}


@dataclass(frozen=True)
class Resolution:
    """A reading fitted to a layout.

    Attributes:
        text: The plate id (kept positions only).
        layout: Name of the layout it fits.
        log_score: Log-probability of the fitted characters plus the layout's log weight
            minus trimming penalties (higher is better).
        char_confidence: Mean probability of the fitted characters (0-1).
        changed: Characters that differ from the greedy OCR reading.
        trimmed: Characters dropped from the ends of the reading.
    """

    text: str
    layout: str
    log_score: float
    char_confidence: float
    changed: int = 0
    trimmed: int = 0


@dataclass(frozen=True)
class PlateFormatSet:
    """The plate layouts a reader accepts, with the rules to fit OCR output to them.

    Attributes:
        layouts: Layouts, most specific first.
        confusions: Characters OCR swaps (see :data:`DEFAULT_CONFUSIONS`); a character
            the layout forbids may be read as one of its twins.
        confusion_floor: Probability given to a twin of a confidently read character
            (``floor * p(read)``), so that a layout can overrule the model.
        max_trim: Characters that may be dropped at each end (an EU country band, a
            frame screw read as ``I``).
        trim_penalty: Log penalty per trimmed character, times the OCR's probability
            of that character (a doubtful extra character is cheap to drop).
        trim_base: Log penalty per trimmed character regardless of its probability.
        min_chars: Fewest characters in a plate id.
        max_chars: Most characters in a plate id.
    """

    layouts: tuple[PlateLayout, ...]
    confusions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CONFUSIONS))
    confusion_floor: float = 0.2
    max_trim: int = 1
    trim_penalty: float = 4.0
    trim_base: float = 0.5
    min_chars: int = 2
    max_chars: int = 10

    def __post_init__(self) -> None:
        if not self.layouts:
            raise ValueError("a plate format set needs at least one layout")
        names = [lay.name for lay in self.layouts]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate layout names in {names}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> PlateFormatSet:
        """Build from parsed YAML (``config/plate_formats.yaml``).

        Raises:
            ValueError: for unknown keys or bad values (the message names them).
        """
        known = {
            "layouts",
            "confusions",
            "confusion_floor",
            "max_trim",
            "trim_penalty",
            "trim_base",
            "min_chars",
            "max_chars",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown plate format keys: {sorted(unknown)} (known: {sorted(known)})")
        raw_layouts = data.get("layouts")
        if not isinstance(raw_layouts, list) or not raw_layouts:
            raise ValueError("plate formats: 'layouts' must be a non-empty list")
        layouts = []
        for i, item in enumerate(raw_layouts):
            if not isinstance(item, Mapping):
                raise ValueError(f"plate formats: layouts[{i}] must be a mapping")
            extra = set(item) - {"name", "pattern", "weight", "region", "substitute", "example", "examples"}
            if extra:
                raise ValueError(f"plate formats: layouts[{i}] has unknown keys {sorted(extra)}")
            try:
                layouts.append(
                    PlateLayout.from_pattern(
                        str(item["name"]),
                        str(item["pattern"]),
                        float(item.get("weight", 1.0)),
                        str(item.get("region", "")),
                        item.get("substitute") or {},
                    )
                )
            except KeyError as e:
                raise ValueError(f"plate formats: layouts[{i}] lacks {e}") from None
        kwargs: dict[str, object] = {"layouts": tuple(layouts)}
        if "confusions" in data:
            conf = data["confusions"]
            if not isinstance(conf, Mapping):
                raise ValueError("plate formats: 'confusions' must map a character to its twins")
            kwargs["confusions"] = {str(k): normalise_plate_text(str(v)) for k, v in conf.items()}
        for key, typ in (
            ("confusion_floor", float),
            ("trim_penalty", float),
            ("trim_base", float),
            ("max_trim", int),
            ("min_chars", int),
            ("max_chars", int),
        ):
            if key in data:
                kwargs[key] = typ(str(data[key]))
        return cls(**kwargs)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ fitting

    @cached_property
    def _twins(self) -> dict[int, dict[int, float]]:
        """Twin -> {read character: factor}; earlier-listed twins get a slightly larger factor."""
        twins: dict[int, dict[int, float]] = {}
        for a, bs in self.confusions.items():
            for rank, b in enumerate(bs):
                if a in ALPHABET_INDEX and b in ALPHABET_INDEX and a != b:
                    f = self.confusion_floor * 0.9**rank
                    ia, ib = ALPHABET_INDEX[a], ALPHABET_INDEX[b]
                    twins.setdefault(ib, {})[ia] = max(f, twins.get(ib, {}).get(ia, 0.0))
                    twins.setdefault(ia, {})[ib] = max(self.confusion_floor, twins.get(ia, {}).get(ib, 0.0))
        return twins

    def effective_probs(self, probs: np.ndarray) -> np.ndarray:
        """Per-character probabilities raised for the twins of each read character.

        ``p'(c) = max(p(c), floor * p(t))`` over the twins ``t`` of ``c``, so that a layout
        that forbids ``8`` can still choose ``B`` when the model was sure of ``8``. When a
        character has several twins (``0`` -> ``O D Q U``), the ones listed first win ties.
        """
        out = probs.copy()
        for c, sources in self._twins.items():
            for t, f in sources.items():
                out[:, c] = np.maximum(out[:, c], f * probs[:, t])
        return out

    def resolve(self, line: OcrLine, top: int = 3) -> list[Resolution]:
        """Fit a reading to the layouts; best first.

        Every layout variant of a fitting length is tried, also with up to
        :attr:`max_trim` characters dropped at either end. Each position takes the most
        probable allowed character (twins included, see :meth:`effective_probs`).

        Returns:
            Up to ``top`` resolutions with distinct texts; empty when the reading is too
            short or too long for every layout.
        """
        n = len(line.text)
        if n < self.min_chars or n > self.max_chars + 2 * self.max_trim:
            return []
        eff = np.clip(self.effective_probs(line.probs), 1e-6, 1.0)
        logp = np.log(eff)
        greedy = np.array([ALPHABET_INDEX[c] for c in line.text], dtype=np.int64)
        read_p = line.probs[np.arange(n), greedy]
        trim_cost = self.trim_base + self.trim_penalty * read_p
        # Best allowed character per position, once per distinct class.
        per_class: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        best: dict[str, Resolution] = {}
        for lay in self.layouts:
            lw = math.log(lay.weight)
            for variant in lay.variants:
                m = len(variant)
                for start in range(0, self.max_trim + 1):
                    end_trim = n - start - m
                    if not 0 <= end_trim <= self.max_trim:
                        continue
                    score = lw - float(trim_cost[:start].sum() + trim_cost[n - end_trim :].sum())
                    chars: list[str] = []
                    probs: list[float] = []
                    changed = 0
                    for j, (allowed, keep) in enumerate(variant):
                        if allowed not in per_class:
                            idx = np.array([ALPHABET_INDEX[c] for c in allowed], dtype=np.int64)
                            arg = idx[np.argmax(logp[:, idx], axis=1)]
                            per_class[allowed] = (arg, logp[np.arange(n), arg])
                        arg, lp = per_class[allowed]
                        k = int(arg[start + j])
                        score += float(lp[start + j])
                        c = ALPHABET[k]
                        if len(allowed) == len(ALPHABET) and c in lay.substitute:
                            c = lay.substitute[c]
                        if k != greedy[start + j]:
                            changed += 1
                        if keep:
                            chars.append(c)
                            probs.append(float(eff[start + j, k]))
                    text = "".join(chars)
                    if not self.min_chars <= len(text) <= self.max_chars:
                        continue
                    res = Resolution(
                        text, lay.name, score, float(np.mean(probs)) if probs else 0.0, changed, start + end_trim
                    )
                    if text not in best or best[text].log_score < score:
                        best[text] = res
        return sorted(best.values(), key=lambda r: -r.log_score)[:top]
