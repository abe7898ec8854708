"""Letterboxing of BGR frames into a reusable network-input batch, exactly as ultralytics' ``LetterBox``.

Same ratio, rounding, centring, grey 114 padding and minimum rectangle for a single
frame shape, straight into a preallocated batch that is reused from frame to frame
while the shapes stay the same: ``float32`` NCHW RGB ``/255`` (the model's own input,
for onnxruntime) or the letterboxed BGR ``uint8`` NHWC pixels as they are (OpenVINO,
whose graph then does the conversion, colour swap and scaling itself:
:class:`vision.runtimes.sessions.OpenVinoSession`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

#: Padding grey of ultralytics' letterbox.
PAD_VALUE = 114

#: Input layouts a session takes: the model's own ``(n, 3, H, W)`` float32 RGB in 0..1, or
#: letterboxed ``(n, H, W, 3)`` uint8 BGR pixels that the session converts itself.
NCHW_F32 = "nchw_f32"
NHWC_U8 = "nhwc_u8"


@dataclass(frozen=True, slots=True)
class LetterboxInfo:
    """How one frame was placed in the network input.

    Attributes:
        frame_hw: Height and width of the original frame.
        gain_x: Resize ratio applied along x (resized width / frame width).
        gain_y: Resize ratio applied along y.
        pad_x: Pixels of padding left of the resized frame.
        pad_y: Pixels of padding above the resized frame.
    """

    frame_hw: tuple[int, int]
    gain_x: float
    gain_y: float
    pad_x: int
    pad_y: int


def letterbox_params(
    frame_hw: tuple[int, int], new_hw: tuple[int, int], auto: bool, stride: int
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Letterbox geometry, computed exactly as ultralytics' ``LetterBox.get_params``.

    Args:
        frame_hw: Frame height and width.
        new_hw: Target height and width (the model size).
        auto: Minimum rectangle: pad only up to the next multiple of ``stride``.
        stride: Model stride.

    Returns:
        ``(input_hw, resized_wh, (left, top))``: network input height/width, the size the
        frame is resized to (width, height, as OpenCV takes it), and the top-left padding.
    """
    h, w = frame_hw
    r = min(new_hw[0] / h, new_hw[1] / w)
    new_unpad = max(round(w * r), 1), max(round(h * r), 1)
    dw, dh = new_hw[1] - new_unpad[0], new_hw[0] - new_unpad[1]
    if auto:
        dw, dh = int(np.mod(dw, stride)), int(np.mod(dh, stride))
    top, bottom = round(dh / 2 - 0.1), round(dh / 2 + 0.1)
    left, right = round(dw / 2 - 0.1), round(dw / 2 + 0.1)
    return (new_unpad[1] + top + bottom, new_unpad[0] + left + right), new_unpad, (left, top)


class Letterbox:
    """Letterboxes BGR frames into a reusable batch: ``float32`` NCHW RGB in 0..1, or ``uint8`` NHWC BGR.

    One frame (or several of one shape) gets the minimum rectangle of the model
    size (``rect``, as ultralytics predicts with a PyTorch or dynamic model): a 16:9
    camera at 640 runs at 640x384 instead of 640x640. Frames of different shapes in
    one batch share the smallest input that holds each one's rectangle. A model with
    a fixed input size gets exactly that size. The padding of a reused buffer is
    written once, when the buffer is made; later frames only overwrite the image area.

    Not thread-safe (the buffer is reused); one per detector.
    """

    def __init__(
        self, imgsz: int, stride: int = 32, fixed_hw: tuple[int, int] | None = None, layout: str = NCHW_F32
    ) -> None:
        """Create a letterboxer.

        Args:
            imgsz: Model size (longest side of the input).
            stride: Model stride; rectangles are rounded up to multiples of it.
            fixed_hw: The model's fixed input height and width, or None when it takes any size.
            layout: :data:`NCHW_F32` or :data:`NHWC_U8`.

        Raises:
            ValueError: unknown layout.
        """
        if layout not in (NCHW_F32, NHWC_U8):
            raise ValueError(f"unknown input layout {layout!r} (expected {NCHW_F32!r} or {NHWC_U8!r})")
        self.imgsz = int(imgsz)
        self.stride = int(stride)
        self.fixed_hw = fixed_hw
        self.layout = layout
        self._batch: np.ndarray | None = None
        self._layout: tuple[Any, ...] | None = None

    def plan(self, shapes: list[tuple[int, int]]) -> tuple[tuple[int, int], bool]:
        """Input height/width for frames of these shapes, and whether each frame uses its minimum rectangle."""
        if self.fixed_hw is not None:
            return self.fixed_hw, False
        square = (self.imgsz, self.imgsz)
        if len(set(shapes)) == 1:
            return letterbox_params(shapes[0], square, True, self.stride)[0], True
        rects = [letterbox_params(s, square, True, self.stride)[0] for s in shapes]
        return (max(r[0] for r in rects), max(r[1] for r in rects)), False

    def __call__(self, images: list[np.ndarray]) -> tuple[np.ndarray, list[LetterboxInfo]]:
        """Letterbox frames into the batch buffer.

        Args:
            images: BGR uint8 frames ``(H, W, 3)``.

        Returns:
            The ``(len(images), 3, H, W)`` float32 (or ``(len(images), H, W, 3)`` uint8) batch,
            a view of the reused buffer, valid until the next call; and where each frame went.
        """
        shapes = [(int(im.shape[0]), int(im.shape[1])) for im in images]
        input_hw, auto = self.plan(shapes)
        key = (len(images), input_hw, tuple(shapes))
        if self._batch is None or key != self._layout:
            if self.layout == NHWC_U8:
                self._batch = np.full((len(images), *input_hw, 3), PAD_VALUE, dtype=np.uint8)
            else:
                self._batch = np.full((len(images), 3, *input_hw), PAD_VALUE / 255.0, dtype=np.float32)
            self._layout = key
        batch = self._batch
        assert batch is not None
        infos: list[LetterboxInfo] = []
        scale = np.float32(1.0 / 255.0)
        for i, (im, shape) in enumerate(zip(images, shapes, strict=True)):
            _, (rw, rh), (left, top) = letterbox_params(shape, input_hw, auto, self.stride)
            same = (rw, rh) == (shape[1], shape[0])
            resized = im if same else cv2.resize(im, (rw, rh), interpolation=cv2.INTER_LINEAR)
            if self.layout == NHWC_U8:
                batch[i, top : top + rh, left : left + rw] = resized
            else:
                for c in range(3):  # RGB plane c is BGR channel 2 - c
                    np.multiply(resized[:, :, 2 - c], scale, out=batch[i, c, top : top + rh, left : left + rw])
            infos.append(LetterboxInfo(shape, rw / shape[1], rh / shape[0], left, top))
        return batch, infos

    @staticmethod
    def input_hw(batch: np.ndarray) -> tuple[int, int]:
        """Height and width of a batch this letterboxer made (either layout)."""
        if batch.dtype == np.uint8:
            return int(batch.shape[1]), int(batch.shape[2])
        return int(batch.shape[2]), int(batch.shape[3])
