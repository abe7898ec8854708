"""Watch-listed plates: entries, exact and fuzzy matching, loaders, and the incident a hit raises (pure).

* :class:`Watchlist`: exact and fuzzy (one character off) matching of plates against
  watch-listed ones (:class:`WatchlistEntry`), giving a :class:`WatchlistHit`.
* :func:`watchlist_from_mapping` / :func:`watchlist_from_csv`: entries from parsed
  YAML/JSON or CSV text.
* :func:`watchlist_incident`: a hit as an :class:`~core.types.Incident`.

Plates are personal data: this module never logs them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.anpr.text import edit_distance, normalise_plate_text
from core.types import Incident, IncidentKind, PlateRead, Priority

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
        norm = normalise_plate_text(plate)
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
        return isinstance(plate, str) and normalise_plate_text(plate) in self._entries

    def entries(self) -> list[WatchlistEntry]:
        """All entries, sorted by plate."""
        return [self._entries[k] for k in sorted(self._entries)]

    def match(self, text: str) -> WatchlistHit | None:
        """The best hit for a reading: an exact hit, else the closest possible hit, else None."""
        read = normalise_plate_text(text)
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
