"""Decompression bombs built cheaply: a real 1 x 1 image whose header is patched to declare a
huge size (what a 3 MB PNG of 30000 x 30000 zeros declares, without the 3 MB)."""
import struct
import zlib

import cv2
import numpy as np


def png_declaring(width: int, height: int) -> bytes:
    """A 1 x 1 PNG whose IHDR says width x height (its CRC recomputed, so it is valid)."""
    png = bytearray(cv2.imencode(".png", np.zeros((1, 1, 3), np.uint8))[1].tobytes())
    assert png[12:16] == b"IHDR"
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A 1 x 1 baseline JPEG whose SOF0 segment says width x height."""
    jpeg = bytearray(cv2.imencode(".jpg", np.zeros((1, 1, 3), np.uint8))[1].tobytes())
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(jpeg)
