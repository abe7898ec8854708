"""Pakistani number-plate formats: generators and validators (pure).

Pakistani registration plates are issued per province and district; the common
private-vehicle layouts are a 2-3 letter district/series code followed by 1-4 digits,
for example ``LEA-1234`` (Lahore, Punjab), ``BKA-123`` (Karachi, Sindh),
``PRA 1234`` (Peshawar, Khyber Pakhtunkhwa) or ``ABC 123`` (Islamabad). Plates carry
black text on a white plate (private) or on a yellow plate (commercial/public
service vehicles in the synthetic scenes).

This module is what the synthetic camera draws and what a plate reader checks its
output against: :func:`random_plate` makes plates deterministically from an rng,
:data:`PLATE_RE` / :func:`is_valid_plate` accept them with or without the separator,
:func:`core.anpr.normalise_plate_text` removes separators for comparison, and
:func:`fix_ocr_confusions` repairs the usual OCR swaps (``O``/``0``, ``I``/``1``...)
using the letters-then-digits layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from core.anpr.text import normalise_plate_text


class RandomLike(Protocol):
    """Anything with ``random() -> float`` in [0, 1): :class:`random.Random` or a numpy Generator."""

    def random(self) -> float: ...


@dataclass(frozen=True, slots=True)
class PlateFormat:
    """One plate layout: ``<series letters><separator><digits>``.

    Attributes:
        name: Short id of the format (e.g. ``"punjab"``).
        region: Human-readable issuing region.
        series: Letter codes issued in that region (2-3 upper-case letters each).
        min_digits: Fewest digits in the number part.
        max_digits: Most digits in the number part (at most 4).
        separator: What is printed between letters and digits (``"-"`` or ``" "``).
        weight: Relative frequency when a format is picked at random.
    """

    name: str
    region: str
    series: tuple[str, ...]
    min_digits: int
    max_digits: int
    separator: str
    weight: float = 1.0


#: Formats used by the synthetic scenes (weights lean to Khyber Pakhtunkhwa: the demo city is Peshawar).
PLATE_FORMATS: tuple[PlateFormat, ...] = (
    PlateFormat(
        "kpk",
        "Khyber Pakhtunkhwa (Peshawar)",
        ("PRA", "PRB", "PRC", "PRD", "PRE", "PRF", "PRG", "PRH", "PRJ", "PRK", "PRL", "PRM"),
        1,
        4,
        " ",
        weight=4.0,
    ),
    PlateFormat(
        "punjab",
        "Punjab",
        ("LEA", "LEB", "LEC", "LED", "LEE", "LEF", "LEH", "LEJ", "RIA", "RIB", "RIC", "FDA", "FDB", "GAA", "MNA"),
        1,
        4,
        "-",
        weight=3.0,
    ),
    PlateFormat("sindh", "Sindh (Karachi)", ("BKA", "BKB", "BKC", "AKA", "AKB", "AKC", "AAA", "AAB", "AUA"), 3, 3, "-"),
    PlateFormat(
        "islamabad", "Islamabad Capital Territory", ("ABC", "ABD", "ABE", "ABF", "ICT", "IDA", "IDB"), 3, 3, " "
    ),
    PlateFormat("balochistan", "Balochistan (Quetta)", ("QA", "QB", "QC", "QD"), 3, 4, "-", weight=0.5),
)

#: Any plate of :data:`PLATE_FORMATS`: 2-3 letters, an optional ``-`` or space, 1-4 digits.
PLATE_RE = re.compile(r"^(?P<letters>[A-Z]{2,3})[- ]?(?P<digits>[0-9]{1,4})$")

_FORMATS_BY_NAME = {f.name: f for f in PLATE_FORMATS}

# Letter <-> digit confusions typical of OCR on plates.
_TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6", "T": "7"}
_TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "7": "T", "4": "A"}


def _pick(rng: RandomLike, n: int) -> int:
    return min(int(rng.random() * n), n - 1)


def plate_format(name: str) -> PlateFormat:
    """The format called ``name``.

    Raises:
        KeyError: for an unknown name (the message lists the known ones).
    """
    try:
        return _FORMATS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown plate format {name!r} (known: {', '.join(_FORMATS_BY_NAME)})") from None


def random_plate(rng: RandomLike, fmt: PlateFormat | str | None = None) -> str:
    """A plate in a Pakistani format, deterministic given the rng state.

    Args:
        rng: Source of uniform numbers (``random.Random`` or ``numpy.random.Generator``).
        fmt: A format or its name; None picks one by :attr:`PlateFormat.weight`.

    Returns:
        Plate text as printed, e.g. ``"PRA 1234"`` or ``"LEA-56"``.
    """
    if fmt is None:
        total = sum(f.weight for f in PLATE_FORMATS)
        r = rng.random() * total
        chosen = PLATE_FORMATS[-1]
        for f in PLATE_FORMATS:
            r -= f.weight
            if r < 0:
                chosen = f
                break
    elif isinstance(fmt, str):
        chosen = plate_format(fmt)
    else:
        chosen = fmt
    series = chosen.series[_pick(rng, len(chosen.series))]
    n_digits = chosen.min_digits + _pick(rng, chosen.max_digits - chosen.min_digits + 1)
    first = 1 + _pick(rng, 9)  # numbers never start with 0
    rest = "".join(str(_pick(rng, 10)) for _ in range(n_digits - 1))
    return f"{series}{chosen.separator}{first}{rest}"


def parse_plate(text: str) -> tuple[str, str] | None:
    """Split a plate into ``(letters, digits)``; None when it is not a plate of this layout."""
    m = PLATE_RE.match(text.strip().upper())
    if m is None:
        m = PLATE_RE.match(normalise_plate_text(text))
    return (m.group("letters"), m.group("digits")) if m else None


def is_valid_plate(text: str) -> bool:
    """True for text in the letters-then-digits layout (separator optional, case ignored)."""
    return parse_plate(text) is not None


def format_plate(letters: str, digits: str, separator: str = "-") -> str:
    """Print a plate from its parts: ``format_plate("LEA", "1234")`` -> ``"LEA-1234"``.

    Raises:
        ValueError: when the parts do not make a valid plate.
    """
    text = f"{letters.upper()}{separator}{digits}"
    if separator not in ("-", " ", "") or not is_valid_plate(text):
        raise ValueError(f"not a valid plate: {text!r}")
    return text


def fix_ocr_confusions(text: str) -> str | None:
    """Repair typical OCR letter/digit swaps using the plate layout.

    The first 2 or 3 characters must be letters and the rest digits; characters on
    the wrong side are mapped (``0``->``O`` among the letters, ``O``->``0`` among the
    digits, and so on). A separator in the text decides where the letters end;
    without one, 3 letters are tried before 2. Returns the normalised plate (no
    separator) or None when no layout fits.

    Examples:
        ``"LEA-I234"`` -> ``"LEA1234"``; ``"8KA 123"`` -> ``"BKA123"``; ``"QA-5S"`` -> ``"QA55"``.
    """
    raw = normalise_plate_text(text)
    if not 3 <= len(raw) <= 7:
        return None
    splits = [3, 2]
    sep = re.match(r"^\s*([A-Za-z0-9]{2,3})\s*[- ]\s*[A-Za-z0-9]{1,4}\s*$", text)
    if sep:
        splits.sort(key=lambda n: n != len(sep.group(1)))
    for n_letters in splits:
        digits_part = raw[n_letters:]
        if not 1 <= len(digits_part) <= 4:
            continue
        letters = "".join(_TO_LETTER.get(c, c) if c.isdigit() else c for c in raw[:n_letters])
        digits = "".join(_TO_DIGIT.get(c, c) if c.isalpha() else c for c in digits_part)
        if letters.isalpha() and digits.isdigit():
            return letters + digits
    return None


__all__ = [
    "PLATE_FORMATS",
    "PLATE_RE",
    "PlateFormat",
    "RandomLike",
    "fix_ocr_confusions",
    "format_plate",
    "is_valid_plate",
    "parse_plate",
    "plate_format",
    "random_plate",
]
