"""Watch-listed plates: entries, exact and fuzzy matching, loaders, and the incident a hit raises (pure).

* :class:`Watchlist`: exact and fuzzy (one character off, or OCR twins) matching of plates
  against watch-listed ones (:class:`WatchlistEntry`, optionally expiring), giving a
  :class:`WatchlistHit`. Lookups are indexed (:mod:`core.anpr.watch_index`): a read costs
  a few dictionary lookups and rapidfuzz verifications, not a scan of the list.
* :func:`watchlist_from_mapping` / :func:`watchlist_from_csv`: entries from parsed
  YAML/JSON or CSV text.
* :func:`watchlist_incident`: a hit as an :class:`~core.types.Incident`.

Plates are personal data: this module never logs them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.anpr.expiry import parse_expiry
from core.anpr.text import normalise_plate_text
from core.anpr.watch_index import PlateIndex
from core.clock import now_ms
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
        expires_ms: When the entry stops matching (UTC epoch ms; None: never).
    """

    plate: str
    reason: str
    priority: Priority = Priority.HIGH
    note: str = ""
    expires_ms: int | None = None

    def active(self, at_ms: int) -> bool:
        """True when the entry matches readings made at ``at_ms`` (not expired yet)."""
        return self.expires_ms is None or at_ms < self.expires_ms

    @classmethod
    def create(
        cls,
        plate: str,
        reason: str,
        priority: str | Priority = Priority.HIGH,
        note: str = "",
        expiry: object = None,
    ) -> WatchlistEntry:
        """Validated entry: the plate is normalised and must keep 2-10 characters.

        Args:
            plate: Plate text (normalised here).
            reason: Why it is listed.
            priority: ``low`` | ``medium`` | ``high`` | ``critical``.
            note: Free text.
            expiry: None (never), an ISO date/datetime or epoch ms (:func:`core.anpr.expiry.parse_expiry`).

        Raises:
            ValueError: for an empty/too long plate, an empty reason, an unknown priority or a bad expiry.
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
        return cls(norm, reason.strip(), prio, note.strip(), parse_expiry(expiry))


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


def hit_order(hit: WatchlistHit) -> tuple[int, int, str]:
    """Sort key of hits, best first: closest, then highest priority, then plate."""
    return (hit.distance, -_PRIORITY_RANK[hit.entry.priority], hit.entry.plate)


class Watchlist:
    """An in-memory set of watch-listed plates with exact and fuzzy lookup.

    A reading equal to a listed plate is an exact hit. One that differs by one
    character (substitution, insertion or deletion), or only by OCR twins
    (``0``/``O``, ``1``/``I``, ``8``/``B``, ``5``/``S`` ...), is a possible hit
    (plates and readings of 2-3 characters match exactly only). Expired entries
    never match. Building indexes the plates (:class:`~core.anpr.watch_index.PlateIndex`),
    so :meth:`match` costs O(length of the reading), whatever the size of the list.

    Args:
        entries: Listed plates (later duplicates replace earlier ones).
        fuzzy: Allow possible hits (one character off).
        clock: Wall clock (UTC epoch ms) for :meth:`match` calls that give no time.
    """

    def __init__(
        self, entries: Iterable[WatchlistEntry] = (), fuzzy: bool = True, clock: Callable[[], int] = now_ms
    ) -> None:
        self.fuzzy = fuzzy
        self._clock = clock
        self._entries: dict[str, WatchlistEntry] = {}
        for e in entries:
            self._entries[e.plate] = e
        self._index = PlateIndex(self._entries) if fuzzy else PlateIndex()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, plate: object) -> bool:
        return isinstance(plate, str) and normalise_plate_text(plate) in self._entries

    @property
    def index_keys(self) -> int:
        """Keys of the fuzzy index (a measure of its memory)."""
        return self._index.keys

    def get(self, plate: str) -> WatchlistEntry | None:
        """The entry of a plate (expired or not), or None."""
        return self._entries.get(normalise_plate_text(plate))

    def entries(self) -> list[WatchlistEntry]:
        """All entries (expired ones too), sorted by plate."""
        return [self._entries[k] for k in sorted(self._entries)]

    def match(self, text: str, at_ms: int | None = None) -> WatchlistHit | None:
        """The best hit for a reading: an exact hit, else the closest possible hit, else None.

        Args:
            text: The reading (normalised here).
            at_ms: When it was read (UTC epoch ms; default: the clock): entries expired
                by then are ignored.
        """
        read = normalise_plate_text(text)
        if len(read) < 2:
            return None
        at = self._clock() if at_ms is None else at_ms
        exact = self._entries.get(read)
        if exact is not None and exact.active(at):
            return WatchlistHit(exact, read, True, 0)
        if not self.fuzzy:
            return None
        best: WatchlistHit | None = None
        for plate, d in self._index.near(read).items():
            entry = self._entries[plate]
            if plate == read or not entry.active(at):
                continue
            cand = WatchlistHit(entry, read, False, d)
            if best is None or hit_order(cand) < hit_order(best):
                best = cand
        return best


def watchlist_from_mapping(data: object) -> list[WatchlistEntry]:
    """Entries from parsed YAML/JSON: ``{"plates": [{"plate": ..., "reason": ..., "priority": ..., "note": ...,
    "expiry": ...}]}`` (or the bare list); ``expiry`` is an ISO date/datetime (a date: the end of that day, UTC).

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
        extra = set(item) - {"plate", "reason", "priority", "note", "expiry"}
        if extra:
            raise ValueError(f"watchlist entry {i}: unknown keys {sorted(extra)}")
        try:
            out.append(
                WatchlistEntry.create(
                    str(item.get("plate", "")),
                    str(item.get("reason", "")),
                    str(item.get("priority", "high")),
                    str(item.get("note", "") or ""),
                    item.get("expiry"),
                )
            )
        except ValueError as e:
            raise ValueError(f"watchlist entry {i}: {e}") from None
    return out


def watchlist_from_csv(text: str) -> list[WatchlistEntry]:
    """Entries from CSV text with a header row: ``plate,reason[,priority][,note][,expiry]``
    (``expiry``: ISO date or datetime, empty for none).

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
            out.append(
                WatchlistEntry.create(
                    r["plate"], r["reason"], r.get("priority") or "high", r.get("note", ""), r.get("expiry") or None
                )
            )
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
