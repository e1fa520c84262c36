"""Reading a business-card photo with OCR on this machine (rapidocr-onnxruntime, optional).

The PP-OCR models ship inside the rapidocr-onnxruntime wheel, so nothing is downloaded at run
time. Recognition runs in one worker thread (onnxruntime releases the GIL while it computes),
never on the event loop, and a reading that takes longer than its time limit is given up: the
person gets the manual form instead of waiting. One worker, so two cards read at once queue
rather than halve each other's speed; the time limit counts the wait in the queue too.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from services.card_text import CardLine

log = logging.getLogger(__name__)

# Larger photos are scaled down first: a card's text stays legible and OCR's time grows with
# the pixels.
MAX_SIDE = 1600
# OCR gets one core of two: the other stays free for the event loop and other people.
OCR_THREADS = 1


class OcrUnavailable(Exception):
    """rapidocr-onnxruntime is not installed (the ``salesbot[ocr]`` extra)."""


class NotAnImage(Exception):
    """The bytes are not a picture OCR can read."""


def ocr_installed() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class CardReader:
    """Recognises the text lines of card photos in a worker thread, within a time limit."""

    def __init__(self, time_limit: float) -> None:
        self.time_limit = time_limit
        self._executor: ThreadPoolExecutor | None = None
        self._engine: Any = None
        self._lock = threading.Lock()

    async def read(self, image: bytes) -> list[CardLine]:
        """The lines on the picture, top to bottom. Raises TimeoutError past the time limit,
        OcrUnavailable without the extra, NotAnImage for bytes that are no picture."""
        if not ocr_installed():
            raise OcrUnavailable
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="card-ocr")
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._executor, self._recognise, image)
        # A reading still queued when time runs out is cancelled; one already running finishes
        # in its thread and its result is dropped.
        return await asyncio.wait_for(work, timeout=self.time_limit)

    def warm_up(self) -> None:
        """Load the models now (about a second) rather than on the first card."""
        self._load()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _load(self) -> Any:
        with self._lock:
            if self._engine is None:
                from rapidocr_onnxruntime import RapidOCR

                self._engine = RapidOCR(
                    intra_op_num_threads=OCR_THREADS, inter_op_num_threads=OCR_THREADS
                )
            return self._engine

    def _recognise(self, image: bytes) -> list[CardLine]:
        import numpy as np
        from PIL import Image, ImageOps, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(image)) as opened:
                picture = ImageOps.exif_transpose(opened).convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError) as error:
            raise NotAnImage(str(error)) from None
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
        # RapidOCR takes OpenCV's channel order.
        pixels = np.asarray(picture)[:, :, ::-1].copy()
        result, _ = self._load()(pixels)
        boxes: list[tuple[float, float, str]] = []
        for box, text, _score in result or []:
            ys = [point[1] for point in box]
            boxes.append((min(ys), max(ys) - min(ys), str(text)))
        boxes.sort(key=lambda found: found[0])
        return [CardLine(text, height) for _top, height, text in boxes]
