"""Demo vehicle registrations for the synthetic cameras' plates (seeds ``vehicle_registrations``).

The synthetic scenes are deterministic from their seed, so the plates a camera will show are known by
simulating its traffic without drawing it (:meth:`sim.scene.SyntheticScene.advance`, about 30x faster
than real time). :func:`demo_registrations` does that for the first ``minutes`` of every synthetic camera
and invents an owner for each plate, except one plate in :data:`UNREGISTERED_ONE_IN` (by a hash of the
plate, so always the same ones): those tickets end in "owner unknown", as unregistered or foreign cars do.
Owners are made up (names, addresses, phone numbers from fixed lists); CNICs are masked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from config.settings import AppConfig
from config.sources import SyntheticSource
from core.owners import OwnerRecord, mask_cnic
from sim.scene import SyntheticScene

UNREGISTERED_ONE_IN = 8
_NAMES = ("Ali Khan", "Ayesha Bibi", "Imran Shah", "Sana Gul", "Bilal Afridi", "Fatima Yousafzai", "Usman Khattak")
_STREETS = ("University Road", "GT Road", "Jamrud Road", "Saddar Road", "Dalazak Road", "Charsadda Road")
_MAKES = (("Toyota Corolla", "white"), ("Suzuki Alto", "silver"), ("Honda Civic", "black"), ("Suzuki Mehran", "red"))


def registered(plate: str) -> bool:
    """False for the plates the demo leaves out of the register (one in :data:`UNREGISTERED_ONE_IN`)."""
    return int(hashlib.sha256(plate.encode()).hexdigest()[:8], 16) % UNREGISTERED_ONE_IN != 0


def synthetic_owner(plate: str) -> OwnerRecord:
    """A made-up owner for ``plate`` (the same every time)."""
    h = int(hashlib.sha256(("owner" + plate).encode()).hexdigest(), 16)
    name = _NAMES[h % len(_NAMES)]
    make, colour = _MAKES[(h >> 8) % len(_MAKES)]
    cnic = f"17301{h % 10**8:08d}"  # Peshawar district prefix
    login = name.lower().replace(" ", ".")
    return OwnerRecord(
        plate,
        name,
        mask_cnic(cnic),
        f"House {h % 300 + 1}, {_STREETS[(h >> 16) % len(_STREETS)]}, Peshawar",
        f"+92300{h % 10**7:07d}",
        f"{login}@example.pk",
        make,
        colour,
    )


def scene_plates(source: SyntheticSource, seconds: float) -> Iterator[str]:
    """Plates of the vehicles a synthetic camera shows in its first ``seconds``, each once, in order."""
    scene = SyntheticScene(source, None, 0)
    seen: set[str] = set()
    for _ in range(int(seconds * source.fps)):
        for v in scene.advance().vehicles:
            if v.plate and v.plate not in seen:
                seen.add(v.plate)
                yield v.plate


def demo_registrations(cfg: AppConfig, minutes: float) -> Iterator[OwnerRecord]:
    """Owners for most plates of every synthetic camera's first ``minutes`` (and its scripted plates)."""
    for cam in cfg.cameras:
        if not isinstance(cam.source, SyntheticSource):
            continue
        for b in cam.source.rule_breakers:
            if b.plate and registered(b.plate):
                yield synthetic_owner(b.plate)
        for plate in scene_plates(cam.source, minutes * 60):
            if registered(plate):
                yield synthetic_owner(plate)


__all__ = ["UNREGISTERED_ONE_IN", "demo_registrations", "registered", "scene_plates", "synthetic_owner"]
