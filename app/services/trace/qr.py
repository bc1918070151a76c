"""QR codes of trace URLs (the qrcode library): the module matrix, PNG and SVG.

Error correction M (15% of the symbol may be scuffed or dirty, as boxes on a site are) and
one fixed mask pattern. The standard picks the mask with the lowest penalty score; qrcode
does that by drawing all eight and scoring each: 5.0 ms a code against 0.7 ms with a fixed
mask (measured on the development machine), so 10,000 labels took close to a minute. Every
mask gives a valid symbol: the tests decode every PNG and a rendered label sheet with
zxing-cpp.
"""

from __future__ import annotations

import functools
import io

import qrcode
from PIL import Image
from qrcode.exceptions import DataOverflowError
from qrcode.image.svg import SvgPathFillImage

MASK = 0
QUIET = 4  # modules of white around the symbol (the standard's quiet zone)
BOX = 10  # PNG pixels per module
SYMBOLS_CACHED = 20_000  # a 1-bit symbol is about 0.4 KB: at most ~8 MB a process


# Smallest version by URL length: trace URLs of one base all have the same length and are
# all encoded in byte mode, so finding the version once saves qrcode's search (15%) per code.
_versions: dict[int, int] = {}


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
        code.make(fit=version is None)
    except DataOverflowError:  # another mode split than the URL that set the version
        code.version = None
        code.make(fit=True)
    _versions[len(url)] = code.version
    return code


def matrix(url: str) -> list[list[bool]]:
    """The symbol's modules (True = dark), without the quiet zone."""
    return _qr(url, 0).get_matrix()


def image(modules: list[list[bool]], border: int = QUIET) -> Image.Image:
    """A 1-bit image of the modules at one pixel per module, with `border` white modules."""
    size = len(modules) + 2 * border
    white = b"\xff" * border
    rows = [b"\xff" * size * border]
    for row in modules:
        rows.append(white + bytes(0 if dark else 255 for dark in row) + white)
    rows.append(b"\xff" * size * border)
    return Image.frombytes("L", (size, size), b"".join(rows)).convert("1")


@functools.lru_cache(maxsize=SYMBOLS_CACHED)
def symbol(url: str) -> Image.Image:
    """The QR of `url` at one pixel per module, quiet zone included (1-bit; do not modify:
    it is shared). Cached: a batch's PNGs and its label sheet draw the same symbols, and
    drawing one is most of the time of either."""
    return image(matrix(url))


def png(url: str, box: int = BOX) -> bytes:
    """The QR of `url` as a PNG, `box` pixels per module, quiet zone included."""
    small = symbol(url)
    big = small.resize((small.width * box, small.height * box), Image.Resampling.NEAREST)
    out = io.BytesIO()
    big.save(out, "PNG", compress_level=1)
    return out.getvalue()


def svg(url: str) -> bytes:
    """The QR of `url` as an SVG (white background, one path; scales to any print size)."""
    out = io.BytesIO()
    _qr(url, QUIET, image_factory=SvgPathFillImage).make_image().save(out)
    return out.getvalue()
