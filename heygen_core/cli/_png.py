"""Write RGB24/RGBA frames as PNG files with the standard library (zlib + CRC chunks)."""

from __future__ import annotations

import os
import struct
import zlib

from heygen_core.media.room import VideoFrame


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(frame: VideoFrame, path: str | os.PathLike[str]) -> None:
    """Write `frame` to `path` as an 8-bit RGB or RGBA PNG."""
    channels = 3 if frame.format == "RGB24" else 4
    color_type = 2 if channels == 3 else 6
    stride = frame.width * channels
    # Each row is prefixed by its filter type (0: none).
    rows = b"".join(
        b"\x00" + frame.data[row * stride : (row + 1) * stride] for row in range(frame.height)
    )
    header = struct.pack(">IIBBBBB", frame.width, frame.height, 8, color_type, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(_chunk(b"IHDR", header))
        out.write(_chunk(b"IDAT", zlib.compress(rows, 6)))
        out.write(_chunk(b"IEND", b""))
