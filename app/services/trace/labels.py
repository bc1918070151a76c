"""Printable A4 label sheets (PDF, fpdf2): a grid of labels, each a QR with brand, model,
batch, serial and the code in text.

The grid is the common 3 × 8 sheet of 70 × 37 mm labels (24 a page). Chinese needs a CJK
font embedded in the PDF: TRACE_LABEL_FONT, by default Noto Sans CJK SC from Debian's
fonts-noto-cjk (which `make` installs); fpdf2 embeds only the glyphs used, so a sheet stays
small. The QR is drawn at one pixel per module and scaled by the PDF (no smoothing), so it
stays sharp at any print resolution.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from fontTools.ttLib import TTCollection
from fpdf import FPDF

from app.models import MaterialBatch
from app.services.trace import codes as codes_service
from app.services.trace import qr

COLS, ROWS = 3, 8
LABEL_W, LABEL_H = 210 / COLS, 297 / ROWS  # mm
QR_SIZE = 31.0  # mm, quiet zone included
TEXT_X = 34.0  # mm from the label's left edge
TEXT_W = LABEL_W - TEXT_X - 2.5
FONT = "cjk"
FAMILY = "Noto Sans CJK SC"  # the face to use when TRACE_LABEL_FONT is a collection


class LabelFontMissing(RuntimeError):
    """The CJK font for label sheets is not installed (Debian: apt-get install fonts-noto-cjk)."""


@dataclass(frozen=True)
class Line:
    offset: float  # mm below the label's top edge
    size: float  # points
    text: str


@functools.lru_cache(maxsize=4)
def _face_index(path: str) -> int:
    """The index of FAMILY in a font collection (.ttc); 0 for a single font."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    collection = TTCollection(path, lazy=True)
    for index, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == FAMILY:
            return index
    return 0


def _document() -> FPDF:
    path = current_app.config["TRACE_LABEL_FONT"]
    if not Path(path).is_file():
        raise LabelFontMissing(
            f"标签字体不存在: {path}（Debian: apt-get install fonts-noto-cjk，或设置 TRACE_LABEL_FONT）"
        )
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.add_font(FONT, fname=path, collection_font_number=_face_index(path))
    pdf.set_title("溯源码标签")
    pdf.set_creator("装修客户管家")
    return pdf


def _fit(pdf: FPDF, text: str, size: float, smallest: float = 5.5) -> tuple[float, str]:
    """(size, text) that fits TEXT_W: the font shrinks down to `smallest`, then the text
    is cut with "…"."""
    while size > smallest:
        pdf.set_font(FONT, size=size)
        if pdf.get_string_width(text) <= TEXT_W:
            return size, text
        size -= 0.5
    pdf.set_font(FONT, size=smallest)
    while text and pdf.get_string_width(text + "…") > TEXT_W:
        text = text[:-1]
    return smallest, text + "…"


def _fixed_lines(pdf: FPDF, batch: MaterialBatch) -> list[Line]:
    """The lines every label of the batch shares, fitted once."""
    material = batch.material
    heading = " ".join(part for part in (material.brand, material.name) if part)
    model = " ".join(part for part in ("型号", material.model, material.spec) if part)
    lines = []
    for offset, size, text in (
        (5.0, 9.0, heading),
        (10.5, 7.5, model),
        (15.5, 7.5, f"批次 {batch.batch_no}"),
    ):
        fitted, shown = _fit(pdf, text, size)
        lines.append(Line(offset, fitted, shown))
    return lines


def _label(pdf: FPDF, slot: int, fixed: list[Line], serial: int, code: str) -> None:
    x, y = (slot % COLS) * LABEL_W, (slot // COLS) * LABEL_H
    # qr.symbol is grey (8-bit), not 1-bit: fpdf2 re-encodes 1-bit images as CCITT, 3x slower.
    picture = qr.symbol(codes_service.url(code))
    pdf.image(picture, x=x + 2, y=y + (LABEL_H - QR_SIZE) / 2, w=QR_SIZE, h=QR_SIZE)
    lines = [*fixed, Line(21.5, 7.5, code), Line(27.0, 6.5, f"扫码查验真伪 · 第 {serial} 号")]
    for line in lines:
        pdf.set_font(FONT, size=line.size)
        pdf.text(x + TEXT_X, y + line.offset + 3, line.text)


def sheet(
    batch: MaterialBatch,
    labels: Iterable[tuple[int, str]],
    progress: Callable[[int], object] | None = None,
) -> bytes:
    """The PDF of `labels` ((serial, code) pairs, in order), COLS × ROWS a page.
    `progress(n)` is called as labels are laid out (a CLI progress bar)."""
    pdf = _document()
    fixed = _fixed_lines(pdf, batch)
    slot = COLS * ROWS
    done = 0
    for serial, code in labels:
        if done % slot == 0:
            pdf.add_page()
            if progress and done:
                progress(slot)
        _label(pdf, done % slot, fixed, serial, code)
        done += 1
    if done == 0:
        pdf.add_page()
    if progress and done:
        progress(done % slot or slot)
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()
