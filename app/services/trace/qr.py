"""QR codes of trace URLs (the qrcode library): the module matrix, PNG and SVG.

Error correction M (15% of the symbol may be scuffed or dirty, as boxes on a site are) and
one fixed mask pattern. The standard picks the mask with the lowest penalty score; qrcode
does that by drawing all eight and scoring each: 5.0 ms a code against 0.7 ms with a fixed
mask (measured on the development machine), so 10,000 labels took close to a minute. Every
mask gives a valid symbol: the tests decode every PNG and a rendered label sheet with
zxing-cpp.

Two of qrcode's steps are done here, for 10,000 labels in seconds rather than half a minute
(CPU per code measured in bench/trace.py's generation step):
- the codewords (the data bits and their Reed-Solomon error correction): qrcode builds them
  bit by bit and divides polynomials as lists of objects (0.55 ms a code); `_codewords`
  builds the same bytes with one integer and a table-driven division (a test compares the two
  on many URLs) and hands them to qrcode as its `data_cache`, so qrcode still lays out the
  symbol (function patterns, format information, mask);
- the PNG: Pillow keeps a 1-bit image one byte a pixel and packs it again to save it
  (0.9 ms for the 410 × 410 pixels of a code, 0.2 ms this way); `png` writes the rows already packed
  (standard PNG: signature, IHDR, one zlib IDAT, IEND; 1-bit greyscale, as Pillow wrote it).
"""

from __future__ import annotations

import functools
import io
import struct
import zlib

import qrcode
from PIL import Image
from qrcode import LUT, base, util
from qrcode.exceptions import DataOverflowError
from qrcode.image.svg import SvgPathFillImage

MASK = 0
QUIET = 4  # modules of white around the symbol (the standard's quiet zone)
BOX = 10  # PNG pixels per module
SYMBOLS_CACHED = 20_000  # a symbol's grey buffer is about 1.7 KB: at most ~34 MB a process
PNG_LEVEL = 1  # zlib level: the rows repeat, so level 1 already gives ~1 KB a code (0.1 ms)


# Smallest version by URL length: trace URLs of one base all have the same length and are
# all encoded in byte mode, so finding the version once saves qrcode's search (15%) per code.
_versions: dict[int, int] = {}


class _Bits:
    """qrcode's BitBuffer as one integer (QRData.write calls `put` only)."""

    def __init__(self) -> None:
        self.value, self.length = 0, 0

    def put(self, num: int, length: int) -> None:
        self.value = (self.value << length) | (num & ((1 << length) - 1))
        self.length += length


@functools.lru_cache(maxsize=128)
def _generator(ec_count: int) -> tuple[int, ...]:
    """The Reed-Solomon generator polynomial's coefficients after the leading 1, as logs."""
    return tuple(base.LOG_TABLE[c] for c in LUT.rsPoly_LUT[ec_count][1:])


def _ec_bytes(data: list[int], ec_count: int) -> list[int]:
    """The remainder of data·x^ec_count divided by the generator, over GF(256)."""
    generator, exp, log = _generator(ec_count), base.EXP_TABLE, base.LOG_TABLE
    remainder = [0] * ec_count
    for byte in data:
        factor = byte ^ remainder[0]
        remainder = remainder[1:]
        remainder.append(0)
        if factor:
            shift = log[factor]
            for i, coefficient in enumerate(generator):
                remainder[i] ^= exp[(shift + coefficient) % 255]
    return remainder


def _padded(version: int, error_correction: int, data_list: list) -> tuple[bytes, list]:
    """The data codewords (mode, length, data, terminator, pad bytes) and the RS blocks,
    as qrcode's util.create_data builds them."""
    bits = _Bits()
    for data in data_list:
        bits.put(data.mode, 4)
        bits.put(len(data), util.length_in_bits(data.mode, version))
        data.write(bits)
    blocks = base.rs_blocks(version, error_correction)
    limit = sum(block.data_count * 8 for block in blocks)
    if bits.length > limit:
        raise DataOverflowError(f"Code length overflow ({bits.length} > {limit})")
    bits.put(0, min(limit - bits.length, 4))  # terminator
    bits.put(0, -bits.length % 8)
    filler = bytes([util.PAD0, util.PAD1]) * (limit // 16 + 1)
    body = bits.value.to_bytes(bits.length // 8, "big")
    return body + filler[: limit // 8 - len(body)], blocks


def _codewords(version: int, error_correction: int, data_list: list) -> list[int]:
    """What qrcode's util.create_data returns: data and EC codewords, blocks interleaved."""
    padded, blocks = _padded(version, error_correction, data_list)
    data_blocks, ec_blocks, offset = [], [], 0
    for block in blocks:
        chunk = list(padded[offset : offset + block.data_count])
        offset += block.data_count
        data_blocks.append(chunk)
        ec_blocks.append(_ec_bytes(chunk, block.total_count - block.data_count))
    return _interleaved(data_blocks) + _interleaved(ec_blocks)


def _interleaved(blocks: list[list[int]]) -> list[int]:
    longest = max(len(block) for block in blocks)
    return [block[i] for i in range(longest) for block in blocks if i < len(block)]


def _qr(url: str, border: int, **kwargs) -> qrcode.QRCode:
    version = _versions.get(len(url))
    code = qrcode.QRCode(
        version=version,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=border,
        mask_pattern=MASK,
        **kwargs,
    )
    code.add_data(url)
    try:
        if version is not None:
            code.data_cache = _codewords(version, code.error_correction, code.data_list)
        code.make(fit=version is None)
    except DataOverflowError:  # another mode split than the URL that set the version
        code.version, code.data_cache = None, None
        code.make(fit=True)
    _versions[len(url)] = code.version
    return code


def matrix(url: str) -> list[list[bool]]:
    """The symbol's modules (True = dark), without the quiet zone."""
    return _qr(url, 0).get_matrix()


@functools.lru_cache(maxsize=SYMBOLS_CACHED)
def _grey(url: str) -> tuple[int, bytes]:
    """(side, pixels) of the QR of `url` at one byte per module (0 dark, 255 light), quiet
    zone included. Cached: a batch's PNGs and its label sheet draw the same symbols, and
    drawing one is most of the time of either."""
    modules = matrix(url)
    size = len(modules) + 2 * QUIET
    white = b"\xff" * QUIET
    rows = [b"\xff" * size * QUIET]
    for row in modules:
        rows.append(white + bytes(0 if dark else 255 for dark in row) + white)
    rows.append(b"\xff" * size * QUIET)
    return size, b"".join(rows)


def symbol(url: str) -> Image.Image:
    """The QR of `url` at one pixel per module, quiet zone included, as a grey ("L") image
    of black and white pixels."""
    size, pixels = _grey(url)
    return Image.frombytes("L", (size, size), pixels)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


_TO_BITS = bytes.maketrans(b"\x00\xff", b"01")  # a grey module → a 1-bit pixel (1 = white)


def png(url: str, box: int = BOX) -> bytes:
    """The QR of `url` as a 1-bit PNG, `box` pixels per module, quiet zone included."""
    size, pixels = _grey(url)
    side = size * box
    width = (side + 7) // 8
    lines = []
    for top in range(0, size * size, size):
        bits = pixels[top : top + size].translate(_TO_BITS).decode()
        wide = bits.replace("0", "0" * box).replace("1", "1" * box)
        row = (int(wide, 2) << (width * 8 - side)).to_bytes(width, "big")
        lines.append((b"\x00" + row) * box)  # filter type 0 (none) before each row
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(b"".join(lines), PNG_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )


def svg(url: str) -> bytes:
    """The QR of `url` as an SVG (white background, one path; scales to any print size)."""
    out = io.BytesIO()
    _qr(url, QUIET, image_factory=SvgPathFillImage).make_image().save(out)
    return out.getvalue()
