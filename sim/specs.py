"""Vehicle classes of the synthetic scene: shape, colours and driving behaviour.

A vehicle is a stack of boxes (:class:`PartSpec`: chassis, body, cabin/canopy/cargo,
rider) in vehicle coordinates; :class:`VehicleSpec` adds its size, colour choices,
plate placement and the parameters of the car-following model. :data:`SPECS` has one
per detector label.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.paint import BGR


@dataclass(frozen=True)
class PartSpec:
    """One box of a vehicle, in vehicle coordinates (metres).

    Attributes:
        role: Palette role giving its colour (``body``, ``chassis``, ``cabin``, ``cargo``,
            ``canopy``, ``bike``, ``rider``, ``cab``).
        u0: Rear end along the vehicle (from its centre; + is the front).
        u1: Front end.
        half_w: Half width.
        z0: Bottom height.
        z1: Top height.
        level: Paint order: 0 chassis, 1 main boxes (far to near), 2 boxes on top.
        glass_near: ``(t0, t1)`` band of the near face (fraction of its height) that is glass.
        glass_side: Same for the side face.
        pillars: Window pillars drawn across ``glass_side``.
        stripe: ``(t0, t1)`` accent stripe on the side and near faces.
        glass_front_only: Glass on the near face only when it is the vehicle's front.
        plate: This part carries the number plate and lights.
    """

    role: str
    u0: float
    u1: float
    half_w: float
    z0: float
    z1: float
    level: int = 1
    glass_near: tuple[float, float] | None = None
    glass_side: tuple[float, float] | None = None
    pillars: int = 0
    stripe: tuple[float, float] | None = None
    glass_front_only: bool = False
    plate: bool = False


@dataclass(frozen=True)
class VehicleSpec:
    """A vehicle class: size, shape, colours and driving behaviour.

    Attributes:
        label: One of :data:`core.types.LABELS`.
        length: Bumper to bumper, metres.
        width: Metres (mirrors/handlebars included).
        height: Metres.
        parts: Boxes making up the shape.
        body_colours: ``(BGR, weight)`` choices of the main colour.
        accent_colours: Choices of the accent (stripes, cargo decoration).
        plate_w: Plate width (m; drawn larger than life so that it is legible).
        plate_z: Height of the plate centre (m).
        commercial: Probability of a yellow (commercial) plate.
        speed_factor: Desired speed relative to the scene's mean.
        accel: IDM maximum acceleration (m/s^2).
        min_gap: IDM jam distance (m).
        headway_s: IDM time headway (s).
        lateral_speed: Lane-change speed (m/s).
        kerb_lane_pref: Probability of choosing the kerb-side lane.
        head: ``(u, z, radius)`` of a rider's head, or None.
    """

    label: str
    length: float
    width: float
    height: float
    parts: tuple[PartSpec, ...]
    body_colours: tuple[tuple[BGR, float], ...]
    accent_colours: tuple[tuple[BGR, float], ...]
    plate_w: float
    plate_z: float
    commercial: float
    speed_factor: float
    accel: float
    min_gap: float
    headway_s: float
    lateral_speed: float
    kerb_lane_pref: float
    head: tuple[float, float, float] | None = None


_CAR_COLOURS: tuple[tuple[BGR, float], ...] = (
    ((232, 232, 230), 0.34),
    ((188, 188, 184), 0.2),
    ((34, 34, 36), 0.12),
    ((118, 118, 116), 0.1),
    ((40, 40, 178), 0.07),
    ((112, 56, 24), 0.06),
    ((44, 32, 118), 0.04),
    ((165, 196, 214), 0.04),
    ((60, 112, 44), 0.03),
)
BRIGHT_COLOURS: tuple[tuple[BGR, float], ...] = (
    ((20, 165, 240), 1.0),
    ((36, 36, 196), 1.0),
    ((190, 118, 24), 1.0),
    ((44, 150, 44), 1.0),
    ((150, 40, 150), 0.6),
    ((30, 200, 230), 0.8),
)

SPECS: dict[str, VehicleSpec] = {
    "car": VehicleSpec(
        label="car",
        length=4.3,
        width=1.78,
        height=1.45,
        parts=(
            PartSpec("chassis", -2.1, 2.1, 0.8, 0.0, 0.32, level=0),
            PartSpec("body", -2.15, 2.15, 0.89, 0.3, 0.86, plate=True),
            PartSpec(
                "cabin",
                -1.25,
                0.95,
                0.77,
                0.86,
                1.45,
                level=2,
                glass_near=(0.08, 0.94),
                glass_side=(0.1, 0.92),
                pillars=1,
            ),
        ),
        body_colours=_CAR_COLOURS,
        accent_colours=BRIGHT_COLOURS,
        plate_w=1.05,
        plate_z=0.5,
        commercial=0.05,
        speed_factor=1.0,
        accel=1.6,
        min_gap=2.0,
        headway_s=1.3,
        lateral_speed=1.2,
        kerb_lane_pref=0.35,
    ),
    "van": VehicleSpec(
        label="van",
        length=4.7,
        width=1.82,
        height=2.05,
        parts=(
            PartSpec("chassis", -2.3, 2.3, 0.86, 0.0, 0.34, level=0),
            PartSpec(
                "body",
                -2.35,
                2.35,
                0.91,
                0.32,
                2.05,
                glass_near=(0.55, 0.9),
                glass_side=(0.56, 0.88),
                pillars=3,
                stripe=(0.3, 0.36),
                plate=True,
            ),
        ),
        body_colours=(((236, 236, 234), 0.55), ((190, 190, 186), 0.25), ((150, 110, 60), 0.1), ((40, 40, 160), 0.1)),
        accent_colours=BRIGHT_COLOURS,
        plate_w=1.05,
        plate_z=0.55,
        commercial=0.4,
        speed_factor=0.95,
        accel=1.4,
        min_gap=2.0,
        headway_s=1.4,
        lateral_speed=1.0,
        kerb_lane_pref=0.5,
    ),
    "bus": VehicleSpec(
        label="bus",
        length=11.0,
        width=2.5,
        height=3.15,
        parts=(
            PartSpec("chassis", -5.4, 5.4, 1.18, 0.0, 0.45, level=0),
            PartSpec(
                "body",
                -5.5,
                5.5,
                1.25,
                0.42,
                3.15,
                glass_near=(0.5, 0.9),
                glass_side=(0.5, 0.86),
                pillars=7,
                stripe=(0.18, 0.3),
                plate=True,
            ),
        ),
        body_colours=BRIGHT_COLOURS,
        accent_colours=(((236, 236, 236), 1.0), ((30, 30, 30), 0.5), ((20, 200, 240), 0.8)),
        plate_w=1.15,
        plate_z=0.7,
        commercial=0.9,
        speed_factor=0.85,
        accel=1.0,
        min_gap=2.5,
        headway_s=1.6,
        lateral_speed=0.8,
        kerb_lane_pref=0.75,
    ),
    "truck": VehicleSpec(
        label="truck",
        length=8.6,
        width=2.5,
        height=3.35,
        parts=(
            PartSpec("chassis", -4.2, 4.2, 1.15, 0.0, 0.55, level=0),
            PartSpec(
                "cab",
                2.05,
                4.3,
                1.2,
                0.5,
                2.85,
                glass_near=(0.52, 0.88),
                glass_side=(0.52, 0.86),
                glass_front_only=True,
                plate=True,
            ),
            PartSpec("cargo", -4.3, 1.95, 1.25, 0.7, 3.35, stripe=(0.55, 0.7), plate=True),
        ),
        body_colours=BRIGHT_COLOURS,
        accent_colours=(((40, 80, 130), 1.0), ((20, 160, 230), 1.0), ((40, 40, 190), 1.0), ((170, 120, 30), 1.0)),
        plate_w=1.15,
        plate_z=0.85,
        commercial=0.95,
        speed_factor=0.8,
        accel=0.9,
        min_gap=2.5,
        headway_s=1.7,
        lateral_speed=0.7,
        kerb_lane_pref=0.8,
    ),
    "motorcycle": VehicleSpec(
        label="motorcycle",
        length=1.9,
        width=0.7,
        height=1.65,
        parts=(
            PartSpec("chassis", -0.95, 0.95, 0.1, 0.0, 0.42, level=0),
            PartSpec("bike", -0.8, 0.85, 0.2, 0.38, 0.78, plate=True),
            PartSpec("legs", -0.3, 0.2, 0.24, 0.6, 0.9, level=2),
            PartSpec("rider", -0.4, 0.0, 0.2, 0.9, 1.42, level=2),
        ),
        body_colours=(((30, 30, 170), 0.4), ((28, 28, 30), 0.35), ((150, 80, 20), 0.15), ((160, 160, 160), 0.1)),
        accent_colours=(((222, 222, 222), 0.4), ((200, 168, 120), 0.25), ((60, 90, 120), 0.2), ((120, 130, 130), 0.15)),
        plate_w=0.46,
        plate_z=0.55,
        commercial=0.0,
        speed_factor=1.0,
        accel=2.0,
        min_gap=1.2,
        headway_s=1.0,
        lateral_speed=1.8,
        kerb_lane_pref=0.55,
        head=(-0.2, 1.56, 0.14),
    ),
    "rickshaw": VehicleSpec(
        label="rickshaw",
        length=2.8,
        width=1.35,
        height=1.85,
        parts=(
            PartSpec("chassis", -1.35, 1.35, 0.6, 0.0, 0.28, level=0),
            PartSpec("body", -1.4, 1.4, 0.67, 0.26, 1.02, plate=True),
            PartSpec("canopy", -1.25, 0.95, 0.66, 1.02, 1.85, level=2, glass_near=(0.12, 0.88), glass_side=(0.1, 0.85)),
        ),
        body_colours=(((44, 140, 44), 1.0), ((170, 100, 30), 0.8), ((30, 180, 230), 0.8), ((36, 40, 170), 0.5)),
        accent_colours=(((24, 24, 26), 1.0),),
        plate_w=0.85,
        plate_z=0.5,
        commercial=0.6,
        speed_factor=0.7,
        accel=1.2,
        min_gap=1.5,
        headway_s=1.5,
        lateral_speed=1.0,
        kerb_lane_pref=0.7,
    ),
}


__all__ = ["BRIGHT_COLOURS", "SPECS", "PartSpec", "VehicleSpec"]
