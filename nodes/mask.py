"""Masks: greyscale pictures (mode L) where white marks the area to change, for inpainting and compositing.

Shapes are drawn at an image's size, masks come from an image's alpha or brightness or a file,
and grow, shrink, feather and invert with Pillow's filters.
"""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from flowbanana.node_api import IMAGE, MASK, Input, NodeError, Output, Pack, Param

from .image_io import IMAGE_SUFFIXES, as_image, flatten, open_image

pack = Pack("mask", version="0.1.0", distribution="flowbanana",
            description="Make and refine masks (white = the area to change).")

MASK_IN = Input("mask", MASK, description="White = the area to change.")
MASK_OUT = Output("mask", MASK)
MAX_GROW = 256


@pack.node("mask.shape", keywords=("rectangle", "ellipse", "circle", "box"),
           title="Shape mask",
           description="A white rectangle or ellipse on black, the size of the linked image. Position and size are in "
                       "percent of the image (so one mask suits a batch of sizes) or in pixels.",
           inputs=[Input("image", IMAGE, description="Only its size is used.")],
           params=[Param.choice("shape", ("rectangle", "ellipse"), description="The ellipse fills the box."),
                   Param.choice("units", ("percent", "pixels"), description="Of the image's size, or pixels."),
                   Param.float("x", 25, description="Left edge."), Param.float("y", 25, description="Top edge."),
                   Param.float("width", 50, min=0, description="Box width."),
                   Param.float("height", 50, min=0, description="Box height.")],
           outputs=[MASK_OUT])
def shape(image: Image.Image, shape: str, units: str, x: float, y: float, width: float, height: float) -> Image.Image:
    w, h = image.size
    sx, sy = (w / 100, h / 100) if units == "percent" else (1, 1)
    left, top, right, bottom = (round(v) for v in (x * sx, y * sy, (x + width) * sx, (y + height) * sy))
    if right - left < 1 or bottom - top < 1:
        raise NodeError(f"the {shape} would be {right - left}×{bottom - top} pixels; width and height must make it "
                        "at least 1 pixel.", "Give the shape a positive width and height.")
    if right <= 0 or bottom <= 0 or left >= w or top >= h:
        raise NodeError(f"the {shape} at x={left}, y={top}, {right - left}×{bottom - top} px lies entirely outside "
                        f"the {w}×{h} image.", f"Keep it within 0..{w} × 0..{h} pixels (or 0..100 percent).")
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    (draw.ellipse if shape == "ellipse" else draw.rectangle)((left, top, right - 1, bottom - 1), fill=255)
    return mask


def _extract(image: Image.Image, source: str, threshold: int, what: str) -> Image.Image:
    """The alpha or luminance channel of `image`, optionally cut to black and white at `threshold`."""
    if not 0 <= threshold <= 255:
        raise NodeError(f"threshold must be between 0 and 255, got {threshold}.", "0 keeps soft edges; 128 is half.")
    if source == "alpha":
        if "A" not in image.getbands() and "transparency" not in image.info:
            raise NodeError(f"{what} has no transparency (mode {image.mode}), so it has no alpha to use.",
                            "Set source to luminance, or use an image with a transparent background.")
        channel = as_image(image).getchannel("A")
    else:
        channel = as_image(image).convert("L")
    return channel.point(lambda v: 255 if v >= threshold else 0) if threshold else channel


@pack.node("mask.from_image", keywords=("alpha", "luminance", "matte"),
           title="Mask from image",
           description="Turns an image into a mask: its alpha (opaque = white) or its luminance (bright = white). "
                       "A threshold above 0 makes it hard-edged: values at or above it become white, others black.",
           inputs=[Input("image", IMAGE, description="The picture to take the mask from.")],
           params=[Param.choice("source", ("alpha", "luminance"), description="Which channel becomes the mask."),
                   Param.int("threshold", 0, min=0, max=255, description="0 keeps the grey levels.")],
           outputs=[MASK_OUT])
def from_image(image: Image.Image, source: str, threshold: int) -> Image.Image:
    return _extract(image, source, threshold, "the image")


@pack.node("mask.invert", keywords=("reverse", "negate", "swap"),
           title="Invert mask", description="Swaps white and black: the area to change becomes the "
                                                          "area to keep.",
           inputs=[MASK_IN], outputs=[MASK_OUT])
def invert(mask: Image.Image) -> Image.Image:
    return ImageOps.invert(mask.convert("L"))


@pack.node("mask.grow", keywords=("dilate", "erode", "expand", "shrink"),
           title="Grow mask",
           description="Grows the white area by a number of pixels in every direction, or shrinks it when negative. "
                       "Soft edges stay soft.",
           inputs=[MASK_IN],
           params=[Param.int("pixels", 8, min=-MAX_GROW, max=MAX_GROW,
                             description="Positive grows, negative shrinks.")],
           outputs=[MASK_OUT])
def grow(mask: Image.Image, pixels: int) -> Image.Image:
    if abs(pixels) > MAX_GROW:
        raise NodeError(f"pixels must be between -{MAX_GROW} and {MAX_GROW}, got {pixels}.",
                        "For a larger change, scale the mask down, grow it, and scale it back.")
    mask = mask.convert("L")
    step = ImageFilter.MaxFilter(3) if pixels > 0 else ImageFilter.MinFilter(3)
    for _ in range(abs(pixels)):  # n steps of 3×3 reach n pixels, far faster than one (2n+1)² filter
        mask = mask.filter(step)
    return mask


@pack.node("mask.feather", keywords=("soften", "blur edges"),
           title="Feather mask",
           description="Softens the mask's edges with a Gaussian blur, so a change blends into its surroundings.",
           inputs=[MASK_IN],
           params=[Param.float("radius", 8.0, min=0, max=500, step=0.5, description="Pixels of softening.")],
           outputs=[MASK_OUT])
def feather(mask: Image.Image, radius: float) -> Image.Image:
    if radius < 0:
        raise NodeError(f"radius must not be negative, got {radius:g}.", "0 leaves the mask unchanged.")
    return mask.convert("L").filter(ImageFilter.GaussianBlur(radius))


@pack.node("mask.load", keywords=("open", "file", "read"),
           title="Load mask", category="mask",
           description="Reads a mask from an image file next to the workflow: white (or, with source alpha, opaque) "
                       "marks the area to change.",
           params=[Param.file("path", None, file_types=IMAGE_SUFFIXES, description="The mask file, relative to the "
                                                                                  "workflow's folder."),
                   Param.choice("source", ("luminance", "alpha"), description="Which channel is the mask."),
                   Param.int("threshold", 0, min=0, max=255, description="0 keeps the grey levels.")],
           outputs=[MASK_OUT])
def load(path: str, source: str, threshold: int, ctx) -> Image.Image:
    return _extract(open_image(ctx.resolve_read(path), path), source, threshold, repr(path))


@pack.node("mask.paint", keywords=("draw", "brush", "select area"),
           title="Paint mask",
           description="A mask painted over the linked image in the editor: white = the area to change. It is "
                       "painted with the node's paint button and kept as a PNG next to the workflow. It always comes "
                       "out the image's size: "
                       "a mask painted at another size is stretched to fit, with a warning; none painted yet gives an "
                       "all-black mask (nothing to change), also with a warning; a painted mask whose file is missing "
                       "is an error.",
           inputs=[Input("image", IMAGE, description="The picture painted over; only its size is used here.")],
           params=[Param.mask("mask", description="The painted mask's PNG, relative to the workflow's folder.")],
           outputs=[MASK_OUT])
def paint(image: Image.Image, mask: str, ctx) -> Image.Image:
    size = image.size
    if not mask:
        ctx.warn("no mask is painted yet, so nothing will change. Paint one with the paint button on the node.")
        return Image.new("L", size, 0)
    path = ctx.resolve_read(mask)
    if not path.is_file() or path.stat().st_size == 0:  # a mask was painted: losing it must not pass unnoticed
        raise NodeError(f"the mask file {mask!r} is {'empty' if path.is_file() else 'missing'}.",
                        "Paint the mask again, or bring the file back beside the workflow (a bundle carries it).")
    painted = flatten(as_image(open_image(path, mask)), (0, 0, 0)).convert("L")
    if painted.size != size:
        ctx.warn(f"the mask {mask!r} is {painted.width}×{painted.height} but the image {size[0]}×{size[1]}; the "
                 "mask was stretched to fit. Repaint it over this image to be exact.")
        painted = painted.resize(size, Image.Resampling.BILINEAR)
    if painted.getbbox() is None:
        ctx.warn(f"the mask {mask!r} is all black, so nothing will change. Paint the area to change white.")
    return painted
