"""Plate layouts and the tiny pattern language they are written in (pure).

A layout such as ``"L{2,3} D{1,4}"`` (2-3 letters then 1-4 digits) is expanded by
:func:`parse_pattern` into every concrete sequence of allowed characters;
:class:`PlateLayout` is one named layout of a format set
(:class:`core.anpr.format_set.PlateFormatSet`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.anpr.text import ALPHABET, DIGITS, LETTERS, normalise_plate_text

#: Position classes of the layout pattern language.
CLASSES: dict[str, str] = {"L": LETTERS, "D": DIGITS, "A": ALPHABET}

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
        subs = {normalise_plate_text(k): normalise_plate_text(v) for k, v in (substitute or {}).items()}
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
