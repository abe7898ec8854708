"""Number-plate text logic (pure): normalisation, format rules, voting, watchlists.

Everything here works on text and on per-character probabilities coming from an
OCR model; nothing reads images (that is :mod:`vision.plates`).

* :func:`normalize_plate_text`: upper-case ASCII letters and digits only.
* :class:`PlateLayout` / :class:`PlateFormatSet`: the configurable set of plate layouts
  (``config/plate_formats.yaml``). A layout is written in a tiny pattern language, e.g.
  ``"L{2,3} D{1,4}"`` (2-3 letters then 1-4 digits); :meth:`PlateFormatSet.resolve` picks
  the most probable reading that fits a layout, which is how OCR confusions such as
  ``0``/``O``, ``1``/``I``, ``8``/``B`` and ``5``/``S`` are settled.
* :class:`TrackPlateVoter`: per-track voting over the readings of several frames.
* :class:`Watchlist`: exact and fuzzy (one character off) matching of plates against
  watch-listed ones, and :func:`watchlist_incident` to turn a hit into an
  :class:`~core.types.Incident`.

Plates are personal data: this module never logs them.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from core.types import Box, Incident, IncidentKind, PlateRead, Priority

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: The plate alphabet; per-character probability vectors are indexed in this order.
ALPHABET = DIGITS + LETTERS
_INDEX = {c: i for i, c in enumerate(ALPHABET)}

#: Position classes of the layout pattern language.
CLASSES: dict[str, str] = {"L": LETTERS, "D": DIGITS, "A": ALPHABET}

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


def normalize_plate_text(text: str) -> str:
    """Upper-case ASCII letters and digits only: ``"lea-1234"`` -> ``"LEA1234"``.

    Full-width forms (``"ＬＥＡ"``) are folded to ASCII first; anything else
    (separators, spaces, other scripts) is dropped.
    """
    folded = unicodedata.normalize("NFKC", text).upper()
    return "".join(ch for ch in folded if ch in _INDEX)


# --------------------------------------------------------------------------- OCR readings


@dataclass(frozen=True)
class OcrLine:
    """One line of plate text as an OCR model read it.

    Attributes:
        text: Greedy reading, plate alphabet only (see :func:`normalize_plate_text`).
        probs: ``(len(text), len(ALPHABET))`` probabilities of each read character
            (rows sum to at most 1; the rest is mass the model gave to other symbols).
        other: Share of the line's ink the model read as non-plate symbols
            (lower-case letters, punctuation, other scripts), 0-1.
        spans: Optional ``(start, end)`` of each character as fractions of the line's
            width (empty when unknown).
    """

    text: str
    probs: np.ndarray = field(repr=False, compare=False)
    other: float = 0.0
    spans: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if self.probs.shape != (len(self.text), len(ALPHABET)):
            raise ValueError(f"probs shape {self.probs.shape} does not fit text of length {len(self.text)}")
        if self.spans and len(self.spans) != len(self.text):
            raise ValueError(f"{len(self.spans)} spans for text of length {len(self.text)}")

    def without(self, drop: Iterable[int]) -> OcrLine:
        """The reading with the characters at the given positions removed."""
        gone = set(drop)
        keep = [i for i in range(len(self.text)) if i not in gone]
        return OcrLine(
            "".join(self.text[i] for i in keep),
            self.probs[keep] if keep else np.zeros((0, len(ALPHABET))),
            self.other,
            tuple(self.spans[i] for i in keep) if self.spans else (),
        )

    @property
    def confidence(self) -> float:
        """Mean probability of the read characters (0 for an empty line)."""
        if not self.text:
            return 0.0
        idx = [_INDEX[c] for c in self.text]
        return float(self.probs[np.arange(len(idx)), idx].mean())

    @classmethod
    def from_text(cls, text: str, confidence: float = 1.0) -> OcrLine:
        """A reading with one-hot probabilities (for text from an OCR without per-character scores)."""
        norm = normalize_plate_text(text)
        probs = np.full((len(norm), len(ALPHABET)), (1.0 - confidence) / (len(ALPHABET) - 1))
        for i, c in enumerate(norm):
            probs[i, _INDEX[c]] = confidence
        return cls(norm, probs)

    @staticmethod
    def concat(lines: Sequence[OcrLine]) -> OcrLine:
        """Join lines read separately (two-line plates, text split by a logo) into one."""
        text = "".join(ln.text for ln in lines)
        probs = np.concatenate([ln.probs for ln in lines], axis=0) if text else np.zeros((0, len(ALPHABET)))
        n = sum(max(len(ln.text), 1) for ln in lines)
        other = sum(ln.other * max(len(ln.text), 1) for ln in lines) / max(n, 1)
        return OcrLine(text, probs, other)


# --------------------------------------------------------------------------- layouts

_TOKEN_RE = re.compile(r"\s*(\(|\)|[LDA]|\[[A-Z0-9]+\]|[A-Z0-9])(?:\{(\d+)(?:,(\d+))?\})?\s*")


@dataclass(frozen=True)
class PlateLayout:
    """One plate layout of a format set.

    Attributes:
        name: Id of the layout (e.g. ``"pk_standard"``).
        region: Where it is issued (free text, e.g. ``"pk"``).
        pattern: The pattern it was made from (see :func:`parse_pattern`).
        weight: Prior weight (> 0): how much a fitting reading is preferred.
        variants: Every concrete expansion: per-position allowed characters and whether the
            position is kept in the plate id (``False`` for printed marks such as a year).
        substitute: For ``A`` (any) positions: characters replaced by a canonical twin
            (e.g. ``{"O": "0"}`` where a region prints the two alike).
    """

    name: str
    region: str
    pattern: str
    weight: float
    variants: tuple[tuple[tuple[str, bool], ...], ...]
    substitute: Mapping[str, str] = field(default_factory=dict)
    any_positions: frozenset[int] = frozenset()

    @classmethod
    def from_pattern(
        cls, name: str, pattern: str, weight: float = 1.0, region: str = "", substitute: Mapping[str, str] | None = None
    ) -> PlateLayout:
        """Build a layout from a pattern string; see :func:`parse_pattern`."""
        if weight <= 0:
            raise ValueError(f"layout {name!r}: weight must be > 0, got {weight}")
        subs = {normalize_plate_text(k): normalize_plate_text(v) for k, v in (substitute or {}).items()}
        for k, v in subs.items():
            if len(k) != 1 or len(v) != 1:
                raise ValueError(f"layout {name!r}: substitute maps one character to one, got {k!r}: {v!r}")
        return cls(name, region, pattern, float(weight), parse_pattern(pattern), subs)


def parse_pattern(pattern: str) -> tuple[tuple[tuple[str, bool], ...], ...]:
    """Expand a layout pattern into every concrete sequence of position classes.

    Pattern language: ``L`` a letter, ``D`` a digit, ``A`` any letter or digit,
    ``[ABC]`` one of the listed characters, a bare upper-case letter or digit that
    exact character; each may be followed by ``{n}`` or ``{m,n}`` repeats. Tokens
    between ``(`` and ``)`` are printed on the plate but are not part of its id
    (e.g. a small registration year). Spaces are ignored.

    Examples:
        ``"L{2,3} D{1,4}"`` (Pakistan: ``LEA1234``), ``"L{2} D{3} L{2}"`` (Italy),
        ``"L{3} D L D{2}"`` (Mercosur), ``"L{2,3} D{1,4} (D{2})"`` (with a year mark).

    Returns:
        Tuples of ``(allowed_characters, kept)`` per position, one tuple per expansion
        (at most 512 expansions).

    Raises:
        ValueError: on a malformed pattern.
    """
    pos = 0
    parts: list[tuple[str, int, int, bool]] = []
    kept = True
    while pos < len(pattern):
        m = _TOKEN_RE.match(pattern, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"bad plate pattern {pattern!r} at {pattern[pos:]!r}")
        pos = m.end()
        tok = m.group(1)
        if tok == "(":
            if not kept:
                raise ValueError(f"bad plate pattern {pattern!r}: nested '('")
            kept = False
            continue
        if tok == ")":
            if kept:
                raise ValueError(f"bad plate pattern {pattern!r}: ')' without '('")
            kept = True
            continue
        lo = int(m.group(2)) if m.group(2) else 1
        hi = int(m.group(3)) if m.group(3) else lo
        if not 0 <= lo <= hi or hi > 10:
            raise ValueError(f"bad plate pattern {pattern!r}: bad repeat {{{lo},{hi}}}")
        chars = CLASSES.get(tok, tok.strip("[]"))
        parts.append((chars, lo, hi, kept))
    if not kept:
        raise ValueError(f"bad plate pattern {pattern!r}: '(' without ')'")
    if not parts:
        raise ValueError("empty plate pattern")
    variants: list[tuple[tuple[str, bool], ...]] = [()]
    for chars, lo, hi, keep in parts:
        variants = [v + ((chars, keep),) * n for v in variants for n in range(lo, hi + 1)]
        if len(variants) > 512:
            raise ValueError(f"plate pattern {pattern!r} expands to too many layouts")
    out = tuple(v for v in dict.fromkeys(variants) if v and any(k for _, k in v))
    if not out:
        raise ValueError(f"plate pattern {pattern!r} matches no plate")
    return out


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
            kwargs["confusions"] = {str(k): normalize_plate_text(str(v)) for k, v in conf.items()}
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
                if a in _INDEX and b in _INDEX and a != b:
                    f = self.confusion_floor * 0.9**rank
                    ia, ib = _INDEX[a], _INDEX[b]
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
        greedy = np.array([_INDEX[c] for c in line.text], dtype=np.int64)
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
                            idx = np.array([_INDEX[c] for c in allowed], dtype=np.int64)
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


# --------------------------------------------------------------------------- voting


@dataclass(frozen=True)
class PlateObservation:
    """One frame's best plate reading for a track (input of :class:`TrackPlateVoter`)."""

    text: str
    confidence: float
    ts_ms: int
    box: Box


@dataclass
class _TrackVotes:
    observations: list[PlateObservation] = field(default_factory=list)
    last_ts_ms: int = 0
    reported: str | None = None


class TrackPlateVoter:
    """Per-track voting over plate readings from several frames.

    Each track collects the readings of its frames; :meth:`best` returns the text
    with the most support, where a reading supports its own text with its confidence
    and a same-length text one character off with a quarter of it (OCR slips on one
    frame). Confidence is the winner's share of all support, times the mean
    confidence of the readings that agreed exactly.

    Args:
        min_votes: Readings needed before :meth:`best` answers.
        min_confidence: Readings below this are ignored.
        max_observations: Readings kept per track (oldest dropped).
        stale_ms: Tracks silent for this long are dropped by :meth:`prune`.
    """

    def __init__(
        self, min_votes: int = 2, min_confidence: float = 0.3, max_observations: int = 30, stale_ms: int = 10_000
    ) -> None:
        if min_votes < 1:
            raise ValueError("min_votes must be >= 1")
        self.min_votes = min_votes
        self.min_confidence = min_confidence
        self.max_observations = max_observations
        self.stale_ms = stale_ms
        self._tracks: dict[int, _TrackVotes] = {}

    def add(self, track_id: int, text: str, confidence: float, ts_ms: int, box: Box) -> None:
        """Record one frame's reading of a track's plate (ignored when empty or unsure)."""
        norm = normalize_plate_text(text)
        if not norm or confidence < self.min_confidence:
            return
        tv = self._tracks.setdefault(track_id, _TrackVotes())
        tv.observations.append(PlateObservation(norm, float(confidence), int(ts_ms), box))
        if len(tv.observations) > self.max_observations:
            del tv.observations[0]
        tv.last_ts_ms = max(tv.last_ts_ms, int(ts_ms))

    def tracks(self) -> list[int]:
        """Ids of the tracks with readings."""
        return list(self._tracks)

    def votes(self, track_id: int) -> int:
        """Readings recorded for a track."""
        tv = self._tracks.get(track_id)
        return len(tv.observations) if tv else 0

    def best(self, track_id: int, camera_id: str = "") -> PlateRead | None:
        """The best-supported reading of a track, or None with too few readings."""
        tv = self._tracks.get(track_id)
        if tv is None or len(tv.observations) < self.min_votes:
            return None
        obs = tv.observations
        support: dict[str, float] = {}
        for o in obs:
            support.setdefault(o.text, 0.0)
        for text in support:
            for o in obs:
                if o.text == text:
                    support[text] += o.confidence
                elif len(o.text) == len(text) and hamming(o.text, text) == 1:
                    support[text] += 0.25 * o.confidence
        total = sum(o.confidence for o in obs)
        winner = max(support, key=lambda t: (support[t], sum(o.text == t for o in obs)))
        agreeing = [o for o in obs if o.text == winner]
        if not agreeing:  # pragma: no cover - the winner always has its own reading
            return None
        top = max(agreeing, key=lambda o: o.confidence)
        share = min(1.0, support[winner] / total) if total > 0 else 0.0
        confidence = share * float(np.mean([o.confidence for o in agreeing]))
        return PlateRead(
            camera_id=camera_id,
            track_id=track_id,
            ts_ms=top.ts_ms,
            text=winner,
            confidence=round(confidence, 4),
            box=top.box,
            votes=len(agreeing),
        )

    def finish(self, track_id: int, camera_id: str = "") -> PlateRead | None:
        """Best reading of a track that has ended, and forget the track."""
        tv = self._tracks.get(track_id)
        if tv is None:
            return None
        saved, self.min_votes = self.min_votes, 1
        try:
            return self.best(track_id, camera_id)
        finally:
            self.min_votes = saved
            del self._tracks[track_id]

    def mark_reported(self, track_id: int, text: str) -> bool:
        """Remember that ``text`` was published for a track; False if it already was."""
        tv = self._tracks.get(track_id)
        if tv is None or tv.reported == text:
            return False
        tv.reported = text
        return True

    def prune(self, now_ms: int) -> list[int]:
        """Forget tracks silent for :attr:`stale_ms`; returns their ids."""
        gone = [tid for tid, tv in self._tracks.items() if now_ms - tv.last_ts_ms > self.stale_ms]
        for tid in gone:
            del self._tracks[tid]
        return gone


# --------------------------------------------------------------------------- watchlist


def hamming(a: str, b: str) -> int:
    """Positions that differ between two equal-length strings."""
    if len(a) != len(b):
        raise ValueError("hamming distance needs equal lengths")
    return sum(x != y for x, y in zip(a, b, strict=True))


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance (insert, delete, substitute); stops early above ``limit``."""
    if a == b:
        return 0
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if limit is not None and min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}


@dataclass(frozen=True)
class WatchlistEntry:
    """A watch-listed plate.

    Attributes:
        plate: Normalised plate text.
        reason: Why it is listed (e.g. ``"stolen"``).
        priority: Priority of the incident a hit raises (at least ``high`` for exact hits).
        note: Free text for operators.
    """

    plate: str
    reason: str
    priority: Priority = Priority.HIGH
    note: str = ""

    @classmethod
    def create(
        cls, plate: str, reason: str, priority: str | Priority = Priority.HIGH, note: str = ""
    ) -> WatchlistEntry:
        """Validated entry: the plate is normalised and must keep 2-10 characters.

        Raises:
            ValueError: for an empty/too long plate, an empty reason or an unknown priority.
        """
        norm = normalize_plate_text(plate)
        if not 2 <= len(norm) <= 10:
            raise ValueError(f"watchlist plate must have 2-10 letters/digits, got {len(norm)}")
        if not reason.strip():
            raise ValueError("watchlist entry needs a reason")
        try:
            prio = Priority(str(priority.value if isinstance(priority, Priority) else priority).lower())
        except ValueError:
            raise ValueError(f"unknown priority {priority!r} (known: {[p.value for p in Priority]})") from None
        return cls(norm, reason.strip(), prio, note.strip())


@dataclass(frozen=True)
class WatchlistHit:
    """A reading that matches a watch-listed plate.

    Attributes:
        entry: The listed plate.
        read: The plate as read.
        exact: True when the texts are identical; False for a possible hit (one
            character off, or equal only up to OCR twins such as ``0``/``O``).
        distance: Edit distance between the texts.
    """

    entry: WatchlistEntry
    read: str
    exact: bool
    distance: int


#: Twins folded together for fuzzy watchlist matching.
_FOLD = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6"})


class Watchlist:
    """An in-memory set of watch-listed plates with exact and fuzzy lookup.

    A reading equal to a listed plate is an exact hit. One that differs by one
    character (substitution, insertion or deletion), or only by OCR twins
    (``0``/``O``, ``1``/``I``, ``8``/``B``, ``5``/``S`` ...), is a possible hit.

    Args:
        entries: Listed plates (later duplicates replace earlier ones).
        fuzzy: Allow possible hits (one character off).
    """

    def __init__(self, entries: Iterable[WatchlistEntry] = (), fuzzy: bool = True) -> None:
        self.fuzzy = fuzzy
        self._entries: dict[str, WatchlistEntry] = {}
        for e in entries:
            self._entries[e.plate] = e

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, plate: object) -> bool:
        return isinstance(plate, str) and normalize_plate_text(plate) in self._entries

    def entries(self) -> list[WatchlistEntry]:
        """All entries, sorted by plate."""
        return [self._entries[k] for k in sorted(self._entries)]

    def match(self, text: str) -> WatchlistHit | None:
        """The best hit for a reading: an exact hit, else the closest possible hit, else None."""
        read = normalize_plate_text(text)
        if len(read) < 2:
            return None
        exact = self._entries.get(read)
        if exact is not None:
            return WatchlistHit(exact, read, True, 0)
        if not self.fuzzy:
            return None
        best: WatchlistHit | None = None
        folded = read.translate(_FOLD)
        for plate, entry in self._entries.items():
            if len(plate) >= 4 and plate.translate(_FOLD) == folded:
                d = edit_distance(read, plate)
            else:
                if min(len(plate), len(read)) < 4:
                    continue  # one character off a 2-3 character plate is noise
                d = edit_distance(read, plate, limit=1)
                if d > 1:
                    continue
            cand = WatchlistHit(entry, read, False, d)
            if best is None or (
                (d, -_PRIORITY_RANK[entry.priority], plate)
                < (best.distance, -_PRIORITY_RANK[best.entry.priority], best.entry.plate)
            ):
                best = cand
        return best


def watchlist_from_mapping(data: object) -> list[WatchlistEntry]:
    """Entries from parsed YAML/JSON: ``{"plates": [{"plate": ..., "reason": ..., "priority": ...}]}``
    (or the bare list).

    Raises:
        ValueError: naming the first bad entry.
    """
    items = data.get("plates") if isinstance(data, Mapping) else data
    if items is None:
        return []
    if not isinstance(items, list):
        raise ValueError("watchlist: expected a list of entries under 'plates'")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValueError(f"watchlist entry {i}: expected a mapping")
        extra = set(item) - {"plate", "reason", "priority", "note"}
        if extra:
            raise ValueError(f"watchlist entry {i}: unknown keys {sorted(extra)}")
        try:
            out.append(
                WatchlistEntry.create(
                    str(item.get("plate", "")),
                    str(item.get("reason", "")),
                    str(item.get("priority", "high")),
                    str(item.get("note", "") or ""),
                )
            )
        except ValueError as e:
            raise ValueError(f"watchlist entry {i}: {e}") from None
    return out


def watchlist_from_csv(text: str) -> list[WatchlistEntry]:
    """Entries from CSV text with a header row: ``plate,reason[,priority][,note]``.

    Raises:
        ValueError: for a missing column or a bad row (the message gives its line).
    """
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if not {"plate", "reason"} <= fields:
        raise ValueError("watchlist CSV needs a header with at least 'plate' and 'reason'")
    out = []
    for row in reader:
        r = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not any(r.values()):
            continue
        try:
            out.append(WatchlistEntry.create(r["plate"], r["reason"], r.get("priority") or "high", r.get("note", "")))
        except ValueError as e:
            raise ValueError(f"watchlist CSV line {reader.line_num}: {e}") from None
    return out


def watchlist_incident(
    hit: WatchlistHit,
    read: PlateRead,
    segment_id: str | None = None,
    location: tuple[float, float] | None = None,
    evidence: Sequence[str] = (),
) -> Incident:
    """The incident a watchlist hit raises.

    Exact hits take the entry's priority but at least ``high``; possible hits are one
    level lower than that (``critical`` -> ``high``, otherwise ``medium``) and say so
    in the summary. The id depends only
    on camera, track and listed plate, so one vehicle raises one incident however many
    times its plate is read.

    Args:
        hit: The match.
        read: The (voted) reading that matched.
        segment_id: Road segment of the camera, if known.
        location: (lat, lon) of the camera, if known.
        evidence: Ids (SHA-256 hex) of the stored plate crop and frame.
    """
    rank = max(_PRIORITY_RANK[hit.entry.priority], 2)  # a hit is at least high
    if not hit.exact:
        rank -= 1  # a possible hit: one level below the hit it may be
    priority = next(p for p, r in _PRIORITY_RANK.items() if r == rank)
    key = f"watchlist|{read.camera_id}|{read.track_id}|{hit.entry.plate}"
    if read.track_id < 0:  # still image: no track to deduplicate on
        key += f"|{read.ts_ms}"
    incident_id = hashlib.sha1(key.encode()).hexdigest()[:20]
    kind = "hit" if hit.exact else "possible hit"
    return Incident(
        incident_id=incident_id,
        kind=IncidentKind.WATCHLIST,
        priority=priority,
        ts_ms=read.ts_ms,
        camera_id=read.camera_id or None,
        segment_id=segment_id,
        location=location,
        track_id=read.track_id if read.track_id >= 0 else None,
        plate=read.text,
        summary=f"Watchlist {kind}: {hit.entry.reason}",
        evidence=tuple(evidence),
        details=(
            ("listed_plate", hit.entry.plate),
            ("match", "exact" if hit.exact else "possible"),
            ("distance", str(hit.distance)),
            ("reason", hit.entry.reason),
            ("confidence", f"{read.confidence:.2f}"),
            ("votes", str(read.votes)),
        ),
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
    "normalize_plate_text",
    "parse_pattern",
    "watchlist_from_csv",
    "watchlist_from_mapping",
    "watchlist_incident",
]
