"""Demo registrations: the plates the synthetic cameras really show, most registered, some not, always the same."""

from __future__ import annotations

from config.settings import DEFAULT_CONFIG, load_config
from config.sources import SyntheticSource
from sim.registrations import demo_registrations, registered, scene_plates, synthetic_owner

CFG = load_config(DEFAULT_CONFIG)


def test_seed_covers_the_scene_plates_but_not_all() -> None:
    cam = next(c for c in CFG.cameras if isinstance(c.source, SyntheticSource))
    plates = list(scene_plates(cam.source, 30))
    assert len(plates) >= 5 and len(set(plates)) == len(plates)
    owners = list(demo_registrations(CFG.model_copy(update={"cameras": (cam,)}), 0.5))
    seeded = {o.plate for o in owners}
    assert seeded == {p for p in plates if registered(p)} | {
        b.plate for b in cam.source.rule_breakers if b.plate and registered(b.plate)
    }
    many = [f"LE{i:04d}" for i in range(800)]
    share = sum(registered(p) for p in many) / len(many)
    assert 0.8 < share < 0.95  # most, not all: "owner unknown" shows up
    o = synthetic_owner("LEA1234")
    assert o == synthetic_owner("LEA1234") and o.cnic_masked.startswith("*****-****") and o.email and o.phone
