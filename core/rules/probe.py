"""Is a stopped vehicle still there? Image-patch matching that keeps stopped vehicles alive.

A vehicle that stops tends to vanish from a background-subtraction detector (it
becomes background). While a vehicle is stopped in a stopping zone the engine keeps a
small image patch of it (:class:`PatchProbe`); if its track is lost, the vehicle is
*held* as long as the patch still matches the image at that place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.types import Box


class PatchProbe:
    """Is a stopped vehicle still there? Compares small grey patches of the image (numpy only).

    While a slow vehicle is tracked its patch is :meth:`remember`-ed. When its track is
    lost, :meth:`confirm` checks that the image still shows it at (about) that place,
    loosely, since the vehicle may have crept a little, and then re-takes the patch from
    the current image; from then on :meth:`still_there` compares strictly.

    Args:
        size: ``(width, height)`` the patches are sampled to.
        threshold: Normalised cross-correlation at or above which a confirmed vehicle is still there.
        confirm_threshold: Correlation with the last tracked patch needed to confirm.
    """

    def __init__(
        self, size: tuple[int, int] = (24, 16), threshold: float = 0.75, confirm_threshold: float = 0.45
    ) -> None:
        self.size = size
        self.threshold = threshold
        self.confirm_threshold = confirm_threshold
        self.image: np.ndarray | None = None
        self._patches: dict[str, tuple[Box, np.ndarray]] = {}
        self._confirmed: set[str] = set()

    def set_image(self, image: np.ndarray | None) -> None:
        """The current frame (BGR or grey)."""
        self.image = image

    def _sample(self, box: Box) -> np.ndarray | None:
        img = self.image
        if img is None:
            return None
        h, w = img.shape[:2]
        x, y, bw, bh = box
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(w, int(math.ceil(x + bw))), min(h, int(math.ceil(y + bh)))
        if x1 - x0 < 4 or y1 - y0 < 4:
            return None
        xs = np.linspace(x0, x1 - 1, self.size[0]).astype(int)
        ys = np.linspace(y0, y1 - 1, self.size[1]).astype(int)
        patch = img[np.ix_(ys, xs)].astype(np.float32)
        return patch.mean(axis=2) if patch.ndim == 3 else patch

    def remember(self, key: str, box: Box) -> bool:
        """Store the patch of ``box`` in the current image under ``key``; False when not possible."""
        p = self._sample(box)
        if p is None:
            return False
        self._patches[key] = (box, p)
        self._confirmed.discard(key)
        return True

    def confirm(self, key: str) -> bool:
        """After the track is lost: is the remembered vehicle still in the image? Re-takes its patch if so."""
        s = self.follow(key, threshold=self.confirm_threshold)
        if s is None or s < self.confirm_threshold:
            self.forget(key)
            return False
        box = self._patches[key][0]
        p = self._sample(box)
        if p is None:
            self.forget(key)
            return False
        self._patches[key] = (box, p)
        self._confirmed.add(key)
        return True

    def confirmed(self, key: str) -> bool:
        return key in self._confirmed

    def box(self, key: str) -> Box | None:
        got = self._patches.get(key)
        return got[0] if got else None

    @staticmethod
    def _ncc(a: np.ndarray, b: np.ndarray) -> float:
        da = a - a.mean()
        db = b - b.mean()
        den = float(np.sqrt((da * da).sum() * (db * db).sum()))
        if den < 1e-6:
            return 1.0 if float(np.abs(a - b).mean()) < 8.0 else 0.0
        return float((da * db).sum() / den)

    def similarity(self, key: str) -> float | None:
        """Correlation (-1..1) of the stored patch with the image at the same place now; None if unknown."""
        got = self._patches.get(key)
        if got is None:
            return None
        cur = self._sample(got[0])
        return None if cur is None else self._ncc(got[1], cur)

    def follow(self, key: str, search: float = 0.15, steps: int = 5, threshold: float | None = None) -> float | None:
        """Best correlation of the stored patch within ``search`` x its size around its box.

        The stored box moves to the best place (a stopped vehicle may still creep); the
        stored pixels stay those of the moment it was remembered.

        Returns:
            The best correlation, or None when unknown.
        """
        got = self._patches.get(key)
        if got is None:
            return None
        box, ref = got
        x, y, w, h = box
        best, best_box = -2.0, box
        for dx in np.linspace(-search * w, search * w, steps):
            for dy in np.linspace(-search * h, search * h, steps):
                cand = (x + float(dx), y + float(dy), w, h)
                cur = self._sample(cand)
                if cur is None:
                    continue
                score = self._ncc(ref, cur)
                if score > best:
                    best, best_box = score, cand
        if best <= -2.0:
            return None
        if best >= (self.threshold if threshold is None else threshold):
            self._patches[key] = (best_box, ref)
        return best

    def still_there(self, key: str) -> bool:
        """The remembered vehicle is still at (or within a small shift of) its place.

        On a match the patch is re-taken from the current image, so slow changes
        (creeping, light) are followed while a vehicle driving off is not.
        """
        s = self.follow(key, steps=7)
        if s is None or s < self.threshold:
            return False
        box = self._patches[key][0]
        p = self._sample(box)
        if p is not None:
            self._patches[key] = (box, p)
        return True

    def forget(self, key: str) -> None:
        self._patches.pop(key, None)
        self._confirmed.discard(key)

    def export(self, key: str) -> dict[str, Any] | None:
        """A confirmed patch as plain data (for a checkpoint), or None."""
        got = self._patches.get(key)
        if got is None or key not in self._confirmed:
            return None
        return {"box": [round(c, 1) for c in got[0]], "pixels": np.round(got[1], 1).tolist()}

    def load(self, key: str, data: Mapping[str, Any]) -> bool:
        """Restore an :meth:`export`-ed patch as confirmed; False when malformed."""
        try:
            box = tuple(float(c) for c in data["box"])
            pix = np.asarray(data["pixels"], dtype=np.float32)
        except (KeyError, TypeError, ValueError):
            return False
        if len(box) != 4 or pix.shape != (self.size[1], self.size[0]):
            return False
        self._patches[key] = (box, pix)  # type: ignore[assignment]
        self._confirmed.add(key)
        return True

    def __contains__(self, key: str) -> bool:
        return key in self._patches
