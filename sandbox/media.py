"""Small media helpers: a generated PNG, a generated Ogg Opus voice note and image dimension
sniffing."""

from __future__ import annotations

import struct
import zlib


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid, tiny, all-white RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff" * (3 * width) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


DEFAULT_PNG = png_bytes()

_OGG_CRC_TABLE = []
for _byte in range(256):
    _crc = _byte << 24
    for _ in range(8):
        _crc = ((_crc << 1) ^ 0x04C11DB7) if _crc & 0x80000000 else _crc << 1
    _OGG_CRC_TABLE.append(_crc & 0xFFFFFFFF)


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC_TABLE[((crc >> 24) ^ byte) & 0xFF]
    return crc


def _ogg_page(packets: list[bytes], *, granule: int, sequence: int, flags: int) -> bytes:
    lacing = b""
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, 0x5A1E5B07, sequence, 0,
                         len(lacing))  # fmt: skip
    page = header + lacing + b"".join(packets)
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def ogg_opus_silence(seconds: int = 1) -> bytes:
    """A valid Ogg Opus file (what Telegram voice notes are) of ``seconds`` of silence: an
    OpusHead page, an OpusTags page and one page of 20 ms silent CELT frames."""
    pre_skip = 312
    head = struct.pack("<8sBBHIhB", b"OpusHead", 1, 1, pre_skip, 48000, 0, 0)
    vendor = b"salesbot sandbox"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    frames = [b"\xf8\xff\xfe"] * (50 * max(1, seconds))
    return (
        _ogg_page([head], granule=0, sequence=0, flags=0x02)
        + _ogg_page([tags], granule=0, sequence=1, flags=0)
        + _ogg_page(frames, granule=pre_skip + 960 * len(frames), sequence=2, flags=0x04)
    )


DEFAULT_VOICE = ogg_opus_silence()


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG image; None if it is none of these."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return None


def thumbnail_size(width: int, height: int, limit: int = 90) -> tuple[int, int]:
    scale = min(1.0, limit / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))
