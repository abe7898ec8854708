"""Draw a :class:`vision.pipeline.FrameResult` on its image (for the live view and debugging).

Drawing only: nothing here changes counts or state. The input image is not modified.
"""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np

from config.settings import CameraConfig
from core.types import Direction
from vision.pipeline import FrameResult

#: BGR colour per label.
LABEL_COLOURS: dict[str, tuple[int, int, int]] = {
    "car": (80, 200, 60),
    "bus": (0, 140, 255),
    "truck": (40, 40, 230),
    "van": (200, 160, 0),
    "motorcycle": (220, 60, 200),
    "bicycle": (180, 180, 0),
    "rickshaw": (0, 215, 255),
    "person": (230, 230, 230),
}
_LINE_COLOUR = (0, 255, 255)
_ZONE_COLOUR = (255, 120, 0)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour: tuple[int, int, int]) -> None:
    """Text with a dark background box so it stays readable on any scene."""
    thick = max(1, int(round(scale * 2)))
    (tw, th), base = cv2.getTextSize(text, _FONT, scale, thick)
    x = int(min(max(org[0], 0), max(img.shape[1] - tw - 2, 0)))
    y = int(min(max(org[1], th + 2), img.shape[0] - base - 1))
    cv2.rectangle(img, (x - 2, y - th - 2), (x + tw + 2, y + base), (0, 0, 0), -1)
    cv2.putText(img, text, (x, y), _FONT, scale, colour, thick, cv2.LINE_AA)


def annotate(image: np.ndarray, result: FrameResult, camera: CameraConfig) -> np.ndarray:
    """Draw tracks, counting lines with counts, zones with occupancy and a header.

    Args:
        image: The analysed BGR frame (left unchanged).
        result: The pipeline's result for that frame.
        camera: The camera config (names of lines/directions, zone polygons).

    Returns:
        A new annotated BGR image of the same size.
    """
    out = image.copy()
    h, w = out.shape[:2]
    scale = max(0.35, min(1.2, w / 1600.0))
    thick = max(1, int(round(w / 640.0)))

    # Zones: translucent fill, outline, vehicles and occupancy.
    zone_by_id = {z.zone_id: z for z in result.zones}
    if camera.zones:
        overlay = out.copy()
        for zc in camera.zones:
            pts = np.round(np.asarray(zc.polygon, dtype=np.float64)).astype(np.int32)
            cv2.fillPoly(overlay, [pts], _ZONE_COLOUR)
        cv2.addWeighted(overlay, 0.18, out, 0.82, 0, dst=out)
        for zc in camera.zones:
            pts = np.round(np.asarray(zc.polygon, dtype=np.float64)).astype(np.int32)
            cv2.polylines(out, [pts], True, _ZONE_COLOUR, thick, cv2.LINE_AA)
            zd = zone_by_id.get(zc.id)
            if zd is not None:
                x0 = int(pts[:, 0].min())
                y1 = int(pts[:, 1].max())  # bottom-left: clear of the header and of the far end of the road
                _text(
                    out,
                    f"{zc.id}: {zd.vehicles} veh {zd.occupancy * 100:.0f}%",
                    (x0 + 4, y1 - 8),
                    scale,
                    _ZONE_COLOUR,
                )

    # Counting lines with cumulative per-direction counts; a small arrow points to the "forward" side.
    counts = dict(result.counts)
    crossed_now = {c.line_id for c in result.crossings}
    for ln in camera.lines:
        a = (int(round(ln.a[0])), int(round(ln.a[1])))
        b = (int(round(ln.b[0])), int(round(ln.b[1])))
        colour = (255, 255, 255) if ln.id in crossed_now else _LINE_COLOUR
        cv2.line(out, a, b, colour, thick + 1, cv2.LINE_AA)
        mx, my = (a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0
        dx, dy = b[0] - a[0], b[1] - a[1]
        norm = max(float(np.hypot(dx, dy)), 1e-6)
        nx, ny = -dy / norm, dx / norm  # unit normal towards the right of a->b on screen (y down)
        reach = 40 * max(scale, 0.5)
        tip = (int(round(mx + nx * reach)), int(round(my + ny * reach)))
        cv2.arrowedLine(out, (int(round(mx)), int(round(my))), tip, colour, thick, cv2.LINE_AA, tipLength=0.3)
        fwd = counts.get(f"{ln.id}:{Direction.FORWARD.value}", 0)
        bwd = counts.get(f"{ln.id}:{Direction.BACKWARD.value}", 0)
        label = f"{ln.id}: {ln.forward_name} {fwd} | {ln.backward_name} {bwd}"
        _text(out, label, (int(min(a[0], b[0])), int(min(a[1], b[1])) - 8), scale, colour)

    # Tracks: box, id and label.
    for t in result.tracks:
        x, y, bw, bh = t.box
        colour = LABEL_COLOURS.get(t.label, (255, 255, 255))
        cv2.rectangle(out, (int(x), int(y)), (int(x + bw), int(y + bh)), colour, thick, cv2.LINE_AA)
        _text(out, f"#{t.track_id} {t.label}", (int(x), int(y) - 3), scale * 0.8, colour)

    # Header: camera name, frame time (UTC), frame index, vehicles on screen.
    when = datetime.fromtimestamp(result.ts_ms / 1000.0, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    _text(
        out,
        f"{camera.name} | {when} | frame {result.frame_index} | {len(result.tracks)} tracked",
        (6, int(22 * max(scale, 0.6))),
        scale,
        (255, 255, 255),
    )
    return out


__all__ = ["LABEL_COLOURS", "annotate"]
