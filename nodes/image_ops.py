"""Post-processing with Pillow: size and shape, colour and detail, layering, text and contact sheets.

Every node takes and returns IMAGE values (RGB or RGBA); a mask linked into an IMAGE input is
treated as a grey picture. Alpha is kept wherever an operation has no reason to change it.
"""
from __future__ import annotations

import math
from typing import Callable

from PIL import Image, ImageChops, ImageColor, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

from flowbanana.node_api import IMAGE, MASK, TEXT, Input, NodeError, Output, Pack, Param

from .image_io import as_image, flatten

pack = Pack("image", version="0.1.0", distribution="flowbanana",
            description="Resize, crop, rotate, adjust, layer, caption and arrange images.")

MAX_SIDE = 16384
RESAMPLING = {"lanczos": Image.Resampling.LANCZOS, "bicubic": Image.Resampling.BICUBIC,
              "bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}
POSITIONS = ("top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right")
IMAGE_IN = Input("image", IMAGE, description="The picture to change.")
IMAGE_OUT = Output("image", IMAGE)


def _size(width: int, height: int, what: str, ctx) -> tuple[int, int]:
    """A result size both positive and bounded (per side, and by the run's limits), or a NodeError saying why."""
    if width < 1 or height < 1:
        raise NodeError(f"{what} would be {width}×{height} pixels; both sides must be at least 1.",
                        "Use a larger size or scale.")
    if max(width, height) > MAX_SIDE:
        raise NodeError(f"{what} would be {width}×{height} pixels, over the {MAX_SIDE}-pixel limit per side.",
                        "Use a smaller size or scale.")
    ctx.check_size(width, height, what)
    return width, height


def _not_negative(**values: float) -> None:
    for name, value in values.items():
        if value < 0:
            raise NodeError(f"{name} must not be negative, got {value:g}.", f"Set {name} to 0 or more.")


def parse_ratio(text: str) -> float:
    """'16:9', '4/5' or '1.5' as width divided by height."""
    cleaned = str(text).strip().replace("/", ":")
    try:
        w, _, h = cleaned.partition(":")
        ratio = float(w) / float(h) if h else float(w)
    except (ValueError, ZeroDivisionError):
        ratio = 0.0
    if not 0.01 <= ratio <= 100:
        raise NodeError(f"{text!r} is not an aspect ratio.", "Write it as width:height, e.g. 1:1, 4:5 or 16:9.")
    return ratio


def parse_color(text: str, what: str = "color") -> tuple[int, int, int, int]:
    try:
        return ImageColor.getcolor(str(text), "RGBA")
    except ValueError:
        raise NodeError(f"{what} {text!r} is not a colour.", "Write it as #rrggbb, or #rrggbbaa with opacity.") \
            from None


def anchored(position: str, outer: tuple[int, int], inner: tuple[int, int], margin: int = 0) -> tuple[int, int]:
    """Top-left corner placing `inner` in `outer` at a named position, `margin` pixels from the edges it touches."""
    if position not in POSITIONS:
        raise NodeError(f"position {position!r} is not one of {', '.join(POSITIONS)}.", "Pick one of those.")
    (ow, oh), (iw, ih) = outer, inner
    x = margin if "left" in position else ow - iw - margin if "right" in position else (ow - iw) // 2
    y = margin if "top" in position else oh - ih - margin if "bottom" in position else (oh - ih) // 2
    return x, y


def keep_alpha(image: Image.Image, change: Callable[[Image.Image], Image.Image]) -> Image.Image:
    """Apply a colour change to the RGB channels only, putting any alpha back untouched."""
    image = as_image(image)
    if image.mode != "RGBA":
        return change(image)
    result = change(image.convert("RGB"))
    result.putalpha(image.getchannel("A"))
    return result


def _canvas(size: tuple[int, int], color: tuple[int, int, int, int], alpha: bool = False) -> Image.Image:
    """A blank image; RGBA when asked or when the colour has transparency."""
    mode = "RGBA" if alpha or color[3] < 255 else "RGB"
    return Image.new(mode, size, color if mode == "RGBA" else color[:3])


def _faded(alpha: Image.Image, opacity: float) -> Image.Image:
    """An alpha channel scaled by `opacity` (0..1)."""
    if not 0 <= opacity <= 1:
        raise NodeError(f"opacity must be between 0 and 1, got {opacity:g}.", "1 is opaque, 0.5 half see-through.")
    return alpha if opacity == 1 else alpha.point(lambda v: round(v * opacity))


def _over(base: Image.Image, layer: Image.Image) -> Image.Image:
    """`layer` (RGBA, the base's size) composited over `base`, keeping the base's mode."""
    result = Image.alpha_composite(base.convert("RGBA"), layer)
    return result if base.mode == "RGBA" else result.convert("RGB")


@pack.node("image.resize", keywords=("upscale", "downscale", "scale", "enlarge", "shrink", "dimensions"),
           title="Resize",
           description="Changes the image's size: to a width and/or height, by a scale, or to fit or fill a box. "
                       "Mode size: set width, height or both (one alone keeps the proportions); fit: the whole image "
                       "inside width×height; fill: covers width×height, cropping the overflow from the centre.",
           inputs=[IMAGE_IN],
           params=[Param.choice("mode", ("size", "scale", "fit", "fill"), description="How the new size is given."),
                   Param.int("width", 1024, min=0, max=MAX_SIDE, description="Pixels; 0 = from the height."),
                   Param.int("height", 0, min=0, max=MAX_SIDE, description="Pixels; 0 = from the width."),
                   Param.float("scale", 0.5, min=0.001, max=64, step=0.05, description="For mode scale: 0.5 halves."),
                   Param.choice("resample", tuple(RESAMPLING), description="Lanczos is sharpest for photos; "
                                                                         "nearest keeps pixel art crisp."),
                   Param.bool("enlarge", True, description="Off: an image that would grow is left as it is "
                                                           "(in fit: one that already fits).")],
           outputs=[IMAGE_OUT])
def resize(image: Image.Image, mode: str, width: int, height: int, scale: float, resample: str,
           enlarge: bool, ctx) -> Image.Image:
    image = as_image(image)
    _not_negative(width=width, height=height)
    w, h = image.size
    if mode == "scale":
        if scale <= 0:
            raise NodeError(f"scale must be above 0, got {scale:g}.", "0.5 halves the image, 2 doubles it.")
        size = (round(w * scale), round(h * scale))
    elif mode == "size":
        if not width and not height:
            raise NodeError("set width, height or both for mode size.", "One alone keeps the proportions.")
        size = (width or round(w * height / h), height or round(h * width / w))
    else:
        if not (width and height):
            raise NodeError(f"mode {mode} needs both width and height (got {width}×{height}).",
                            "Set the box's width and height.")
        ratio = min(width / w, height / h)
        size = (round(w * ratio), round(h * ratio)) if mode == "fit" else (width, height)
    size = _size(max(size[0], 1), max(size[1], 1), "the resized image", ctx)
    if not enlarge and (size[0] > w or size[1] > h):
        return image.copy()
    if mode == "fill":
        return ImageOps.fit(image, size, method=RESAMPLING[resample])
    return image.resize(size, RESAMPLING[resample])


@pack.node("image.crop", keywords=("cut", "trim", "aspect"),
           title="Crop",
           description="Cuts out part of the image: a box in pixels, or the largest centred area of an aspect ratio. "
                       "In mode box, a width or height of 0 reaches the image's right or bottom edge.",
           inputs=[IMAGE_IN],
           params=[Param.choice("mode", ("aspect", "box"), description="Crop to a ratio, or to a box."),
                   Param.text("aspect", "1:1", description="For mode aspect: width:height, e.g. 1:1, 4:5, 16:9."),
                   Param.int("x", 0, min=0, description="Box left edge."),
                   Param.int("y", 0, min=0, description="Box top edge."),
                   Param.int("width", 0, min=0, description="Box width; 0 = to the right edge."),
                   Param.int("height", 0, min=0, description="Box height; 0 = to the bottom edge.")],
           outputs=[IMAGE_OUT])
def crop(image: Image.Image, mode: str, aspect: str, x: int, y: int, width: int, height: int, ctx) -> Image.Image:
    image = as_image(image)
    w, h = image.size
    if mode == "aspect":
        ratio = parse_ratio(aspect)
        cw, ch = (round(h * ratio), h) if w / h > ratio else (w, round(w / ratio))
        cw, ch = _size(max(1, min(cw, w)), max(1, min(ch, h)), "the crop", ctx)
        left, top = (w - cw) // 2, (h - ch) // 2
        return image.crop((left, top, left + cw, top + ch))
    _not_negative(x=x, y=y, width=width, height=height)
    right, bottom = x + (width or w - x), y + (height or h - y)
    if x >= w or y >= h or right > w or bottom > h:
        raise NodeError(f"the crop box x={x}, y={y}, {right - x}×{bottom - y} reaches outside the {w}×{h} image.",
                        f"Keep x + width ≤ {w} and y + height ≤ {h} (0 = to the edge).")
    return image.crop((x, y, right, bottom))


@pack.node("image.rotate", keywords=("turn", "angle", "tilt"),
           title="Rotate",
           description="Turns the image counter-clockwise by an angle in degrees (negative turns clockwise). "
                       "Multiples of 90 are exact; other angles enlarge the canvas to keep the corners, "
                       "filled with the fill colour.",
           inputs=[IMAGE_IN],
           params=[Param.float("angle", 90.0, min=-360, max=360, step=1, description="Degrees, counter-clockwise."),
                   Param.bool("expand", True, description="Grow the canvas so nothing is cut off."),
                   Param.color("fill", "#00000000", description="Colour of the uncovered corners; transparent "
                                                                "by default (the image gets alpha).")],
           outputs=[IMAGE_OUT])
def rotate(image: Image.Image, angle: float, expand: bool, fill: str, ctx) -> Image.Image:
    image = as_image(image)
    quarter = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}
    turns = angle % 360
    if turns == 0:
        return image.copy()
    if turns in quarter and (expand or turns == 180):
        return image.transpose(quarter[turns])
    color = parse_color(fill, "fill")
    if expand:  # the canvas grows to the turned picture's bounding box, up to twice the pixels
        cos, sin = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
        w, h = image.size
        ctx.check_size(math.ceil(w * cos + h * sin), math.ceil(w * sin + h * cos), "the rotated image")
    if color[3] < 255:
        image = image.convert("RGBA")
    return image.rotate(angle, Image.Resampling.BICUBIC, expand=expand,
                        fillcolor=color if image.mode == "RGBA" else color[:3])


@pack.node("image.flip", keywords=("mirror",),
           title="Flip", description="Mirrors the image left-right, top-bottom, or both.",
           inputs=[IMAGE_IN], params=[Param.choice("direction", ("horizontal", "vertical", "both"),
                                                   description="horizontal swaps left and right.")],
           outputs=[IMAGE_OUT])
def flip(image: Image.Image, direction: str) -> Image.Image:
    image = as_image(image)
    if direction in ("horizontal", "both"):
        image = ImageOps.mirror(image)
    if direction in ("vertical", "both"):
        image = ImageOps.flip(image)
    return image


@pack.node("image.adjust", keywords=("levels", "exposure", "colour correct", "color correct"),
           title="Adjust",
           description="Changes brightness, contrast, saturation and sharpness. Each is a factor where 1 leaves it "
                       "unchanged (0.8 is 20% less, 1.2 is 20% more); transparency is kept.",
           inputs=[IMAGE_IN],
           params=[Param.float(name, 1.0, min=0, max=5, step=0.05, description=text) for name, text in (
               ("brightness", "0 is black."), ("contrast", "0 is flat grey."),
               ("saturation", "0 is black and white."), ("sharpness", "Below 1 softens, above 1 sharpens."))],
           outputs=[IMAGE_OUT])
def adjust(image: Image.Image, brightness: float, contrast: float, saturation: float, sharpness: float) -> Image.Image:
    _not_negative(brightness=brightness, contrast=contrast, saturation=saturation, sharpness=sharpness)
    steps = [(ImageEnhance.Brightness, brightness), (ImageEnhance.Contrast, contrast),
             (ImageEnhance.Color, saturation), (ImageEnhance.Sharpness, sharpness)]

    def change(rgb: Image.Image) -> Image.Image:
        for enhancer, factor in steps:
            if factor != 1:
                rgb = enhancer(rgb).enhance(factor)
        return rgb
    return keep_alpha(image, change)


def _filtered(image: Image.Image, image_filter: ImageFilter.Filter) -> Image.Image:
    """Filter with premultiplied alpha, so transparent pixels do not bleed dark fringes into the edges."""
    image = as_image(image)
    if image.mode == "RGBA":
        return image.convert("RGBa").filter(image_filter).convert("RGBA")
    return image.filter(image_filter)


@pack.node("image.blur", keywords=("soften", "gaussian", "smooth"),
           title="Blur", description="Softens the image by a radius in pixels (Gaussian or box).",
           inputs=[IMAGE_IN],
           params=[Param.float("radius", 4.0, min=0, max=500, step=0.5, description="Pixels; 0 leaves it sharp."),
                   Param.choice("kind", ("gaussian", "box"), description="Gaussian is smooth; box is flatter.")],
           outputs=[IMAGE_OUT])
def blur(image: Image.Image, radius: float, kind: str) -> Image.Image:
    _not_negative(radius=radius)
    return _filtered(image, ImageFilter.GaussianBlur(radius) if kind == "gaussian" else ImageFilter.BoxBlur(radius))


@pack.node("image.sharpen", keywords=("unsharp", "crisp", "detail"),
           title="Sharpen",
           description="Crisps edges with an unsharp mask. Amount is the strength in percent, radius the edge width, "
                       "threshold the smallest difference (0-255) that counts as an edge.",
           inputs=[IMAGE_IN],
           params=[Param.int("amount", 150, min=0, max=500, description="Percent; 100 is moderate."),
                   Param.float("radius", 2.0, min=0, max=50, step=0.5, description="Pixels."),
                   Param.int("threshold", 3, min=0, max=255, description="Leave flat areas (noise) alone.")],
           outputs=[IMAGE_OUT])
def sharpen(image: Image.Image, amount: int, radius: float, threshold: int) -> Image.Image:
    _not_negative(amount=amount, radius=radius, threshold=threshold)
    return keep_alpha(image, lambda rgb: rgb.filter(ImageFilter.UnsharpMask(radius, amount, threshold)))


@pack.node("image.grayscale", keywords=("greyscale", "black and white", "monochrome", "desaturate"),
           title="Grayscale",
           description="Removes colour, keeping luminance (ITU-R 601) and transparency; the result stays RGB(A).",
           inputs=[IMAGE_IN], outputs=[IMAGE_OUT])
def grayscale(image: Image.Image) -> Image.Image:
    return keep_alpha(image, lambda rgb: rgb.convert("L").convert("RGB"))


@pack.node("image.pad", keywords=("border", "letterbox", "margin", "extend", "canvas size"),
           title="Pad",
           description="Adds space around the image: an even border, or letterboxing to an aspect ratio. The image "
                       "stays centred and nothing is cut; a colour with opacity (#rrggbbaa) gives a transparent pad.",
           inputs=[IMAGE_IN],
           params=[Param.choice("mode", ("aspect", "border"), description="Pad to a ratio, or by a border."),
                   Param.text("aspect", "1:1", description="For mode aspect: width:height, e.g. 1:1, 4:5, 9:16."),
                   Param.int("border", 32, min=0, max=MAX_SIDE, description="For mode border: pixels on each side."),
                   Param.color("color", "#ffffff", description="The padding's colour.")],
           outputs=[IMAGE_OUT])
def pad(image: Image.Image, mode: str, aspect: str, border: int, color: str, ctx) -> Image.Image:
    image = as_image(image)
    w, h = image.size
    if mode == "border":
        _not_negative(border=border)
        size = (w + 2 * border, h + 2 * border)
    else:
        ratio = parse_ratio(aspect)
        size = (max(w, round(h * ratio)), h) if w / h < ratio else (w, max(h, round(w / ratio)))
    fill = parse_color(color)
    canvas = _canvas(_size(*size, "the padded image", ctx), fill, alpha=image.mode == "RGBA")
    canvas.paste(image, ((size[0] - w) // 2, (size[1] - h) // 2))
    return canvas


@pack.node("image.composite", keywords=("overlay", "paste", "layer", "merge", "blend", "watermark"),
           title="Composite",
           description="Pastes an overlay onto a base image at a position, through its alpha and an optional mask. "
                       "White in the mask shows the overlay, and the mask must be the overlay's size; x and y shift "
                       "the overlay from the chosen position (+x right, +y down).",
           inputs=[Input("base", IMAGE, description="The picture underneath; the result has its size."),
                   Input("overlay", IMAGE, description="The picture on top, e.g. a logo."),
                   Input("mask", MASK, optional=True, description="Where the overlay shows (white); its size.")],
           params=[Param.choice("position", POSITIONS, description="Where the overlay sits on the base."),
                   Param.int("x", 0, description="Pixels right of the position (negative: left)."),
                   Param.int("y", 0, description="Pixels below the position (negative: up)."),
                   Param.float("opacity", 1.0, min=0, max=1, step=0.05, description="1 is fully opaque.")],
           outputs=[IMAGE_OUT])
def composite(base: Image.Image, overlay: Image.Image, mask: Image.Image | None, position: str, x: int, y: int,
              opacity: float) -> Image.Image:
    base, layer = as_image(base), as_image(overlay).convert("RGBA")
    if mask is not None and mask.size != layer.size:
        raise NodeError(f"the mask is {mask.width}×{mask.height} but the overlay is {layer.width}×{layer.height}; "
                        "they must be the same size.", "Resize the overlay or make the mask from it.")
    left, top = anchored(position, base.size, layer.size)
    left, top = left + x, top + y
    if left >= base.width or top >= base.height or left + layer.width <= 0 or top + layer.height <= 0:
        raise NodeError(f"the {layer.width}×{layer.height} overlay at x={left}, y={top} lies entirely outside the "
                        f"{base.width}×{base.height} base image.", "Change position, x or y.")
    alpha = layer.getchannel("A")
    if mask is not None:
        alpha = ImageChops.multiply(alpha, mask.convert("L"))
    layer.putalpha(_faded(alpha, opacity))
    placed = Image.new("RGBA", base.size, (0, 0, 0, 0))
    placed.paste(layer, (left, top))
    return _over(base, placed)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at a size: works with no system fonts installed."""
    return ImageFont.load_default(size=size)


@pack.node("image.text", keywords=("caption", "watermark", "label", "title", "annotate"),
           title="Draw text",
           description="Draws text on the image, such as a caption or a watermark, with Pillow's built-in font "
                       "(no system font needed). Several lines are fine; they align to the side the text is placed on.",
           inputs=[IMAGE_IN],
           params=[Param.multiline("text", "© flowbanana", description="The words; link a TEXT to caption a batch."),
                   Param.int("size", 32, min=4, max=2000, description="Font size in pixels."),
                   Param.color("color", "#ffffff", description="Text colour; #rrggbbaa adds transparency."),
                   Param.float("opacity", 1.0, min=0, max=1, step=0.05, description="1 is opaque; 0.5 for a "
                                                                                   "subtle watermark."),
                   Param.choice("position", POSITIONS, default="bottom-right", description="Where the text sits."),
                   Param.int("margin", 24, min=0, max=MAX_SIDE, description="Pixels from the edges it is placed at."),
                   Param.int("outline", 0, min=0, max=100, description="Outline width in pixels, for legibility."),
                   Param.color("outline_color", "#000000", description="Outline colour; #rrggbbaa for a soft one.")],
           outputs=[IMAGE_OUT])
def text(image: Image.Image, text: str, size: int, color: str, opacity: float, position: str, margin: int,
         outline: int, outline_color: str, ctx) -> Image.Image:
    image = as_image(image)
    if not text.strip():
        return image.copy()
    if not 4 <= size <= 2000:
        raise NodeError(f"size must be between 4 and 2000 pixels, got {size}.", "32 suits a 1024-pixel image.")
    _not_negative(margin=margin, outline=outline)
    font, fill, stroke = _font(size), parse_color(color), parse_color(outline_color, "outline_color")
    align = "left" if "left" in position else "right" if "right" in position else "center"
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font, stroke_width=outline, align=align)
    x, y = anchored(position, image.size, (right - left, bottom - top), margin)
    if x < 0 or y < 0 or x + right - left > image.width or y + bottom - top > image.height:
        ctx.warn(f"the text ({right - left}×{bottom - top} px) does not fit in the {image.width}×{image.height} "
                 "image and is cut off; use a smaller size or margin.")
    draw.multiline_text((x - left, y - top), text, font=font, fill=fill, align=align, stroke_width=outline,
                        stroke_fill=stroke)
    layer.putalpha(_faded(layer.getchannel("A"), opacity))
    return _over(image, layer)


@pack.node("image.grid", keywords=("contact sheet", "collage", "mosaic", "tile"),
           title="Grid",
           description="Arranges a list of images into a contact sheet, optionally captioned. They run left to "
                       "right and top to bottom, each fitted into an equal cell; a cell size of 0 takes the widest "
                       "image, and the tallest once scaled to that width.",
           inputs=[Input("images", IMAGE, list=True, description="The images, in order."),
                   Input("labels", TEXT, list=True, optional=True,
                         description="A caption under each image, e.g. the names from image.load_folder.")],
           params=[Param.int("columns", 4, min=1, max=100, description="Images per row."),
                   Param.int("spacing", 8, min=0, max=1000, description="Pixels between cells and around the sheet."),
                   Param.int("cell_width", 256, min=0, max=MAX_SIDE, description="Pixels; 0 = the widest image."),
                   Param.int("cell_height", 0, min=0, max=MAX_SIDE, description="Pixels; 0 = from the images."),
                   Param.color("background", "#ffffff", description="The sheet's colour between the images."),
                   Param.int("label_size", 14, min=4, max=500, description="Caption font size in pixels."),
                   Param.color("label_color", "#000000", description="Caption colour.")],
           outputs=[Output("image", IMAGE)])
def grid(images: list[Image.Image], labels: list[str], columns: int, spacing: int, cell_width: int,
         cell_height: int, background: str, label_size: int, label_color: str, ctx) -> Image.Image:
    if not images:
        raise NodeError("no images to arrange.", "Link a list of images, e.g. from image.load_folder.")
    if labels and len(labels) != len(images):
        raise NodeError(f"{len(labels)} labels for {len(images)} images; there must be one label per image.",
                        "Link labels made from the same list as the images.")
    if columns < 1:
        raise NodeError(f"columns must be 1 or more, got {columns}.", "4 is a common contact-sheet width.")
    _not_negative(spacing=spacing, cell_width=cell_width, cell_height=cell_height)
    images = [as_image(i) for i in images]
    cw = cell_width or max(i.width for i in images)
    ch = cell_height or max(round(i.height * cw / i.width) for i in images)
    font = _font(label_size)
    label_h = (font.getbbox("Ag")[3] + spacing // 2 + 2) if labels else 0
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    size = _size(columns * (cw + spacing) + spacing, rows * (ch + label_h + spacing) + spacing, "the grid", ctx)
    cell = _size(cw, ch, "a grid cell", ctx)
    sheet = _canvas(size, parse_color(background, "background"))
    ink = parse_color(label_color, "label_color")
    draw = ImageDraw.Draw(sheet)
    for i, image in enumerate(images):
        left = spacing + (i % columns) * (cw + spacing)
        top = spacing + (i // columns) * (ch + label_h + spacing)
        fitted = ImageOps.contain(image, cell, Image.Resampling.LANCZOS)
        position = (left + (cw - fitted.width) // 2, top + (ch - fitted.height) // 2)
        sheet.paste(fitted, position, fitted if fitted.mode == "RGBA" else None)
        if labels:
            draw.text((left + cw // 2, top + ch + spacing // 2 + 1), str(labels[i]), font=font, anchor="mt", fill=ink)
    return sheet


@pack.node("image.convert", keywords=("mode", "rgb", "alpha", "channels"),
           title="Convert",
           description="Changes the colour mode to RGB, RGBA or L (one grey channel). Without alpha, transparent "
                       "areas are flattened onto the background colour (as JPEG needs); colors reduces the image to "
                       "a small palette, as GIF and PNG-8 store it.",
           inputs=[IMAGE_IN],
           params=[Param.choice("mode", ("RGB", "RGBA", "L"), description="The colour channels to keep."),
                   Param.color("background", "#ffffff", description="What transparent areas become without alpha."),
                   Param.int("colors", 0, min=0, max=256, description="2-256 reduces to that many colours; "
                                                                      "0 keeps them all.")],
           outputs=[IMAGE_OUT])
def convert(image: Image.Image, mode: str, background: str, colors: int) -> Image.Image:
    if colors == 1 or not 0 <= colors <= 256:
        raise NodeError(f"colors must be 0 (all) or 2 to 256, got {colors}.", "16 gives a poster look.")
    image = image if image.mode == "L" else as_image(image)
    if mode != "RGBA":
        image = flatten(image, parse_color(background, "background")[:3])
    if colors:
        image = image.quantize(colors, method=Image.Quantize.FASTOCTREE if image.mode == "RGBA" else None)
    return image.convert(mode)
