"""Images in and out: load files (one or a folder), save them to the run's output folder, preview them.

Pixels enter a workflow only through `open_image`, so every node sees RGB or RGBA pictures the
right way up, and leave it only through `image.save` (the context's write_file, so a run stopped half way
leaves no half-written file).
"""
from __future__ import annotations

import contextlib
import hashlib
import re
from datetime import date
from pathlib import Path

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from flowbanana.node_api import (IMAGE, INT, TEXT, ImageRef, Input, NodeError, Output, Pack, Param, TemplateError,
                                 eight_bit, embedded_record, fill)

pack = Pack("image-io", version="0.1.0", distribution="flowbanana",
            description="Load images from files and folders, save and preview results.")

READ_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")
SAVE_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
FILENAME_FIELDS = ("name", "index", "date", "node")
MAX_FILENAME = 1024  # characters in a filled file name (a path inside the output folder)
_PILLOW_BOMB = re.compile(r"\((\d+) pixels\)")  # "Image size (400000000 pixels) exceeds..."


def as_image(image: Image.Image) -> Image.Image:
    """The IMAGE contract: RGB, or RGBA when the picture has any transparency (palette, LA, tRNS...)."""
    if image.mode in ("RGB", "RGBA"):
        return image
    image = eight_bit(image)  # 16-bit and float greys, scaled by their depth
    transparent = "A" in image.mode or "transparency" in image.info
    return image.convert("RGBA" if transparent else "RGB")


def flatten(image: Image.Image, color: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """The image without alpha, its transparent areas filled with `color`."""
    if image.mode != "RGBA":
        return image
    flat = Image.new("RGB", image.size, color)
    flat.paste(image, mask=image.getchannel("A"))
    return flat


def open_image(path: Path, shown: str) -> Image.Image:
    """Decode a file fully (first frame, EXIF orientation applied); every failure a NodeError naming `shown`."""
    with _reading(shown), Image.open(path, formats=READ_FORMATS) as opened:
        _refuse_bombs(opened)
        opened.seek(0)
        image = ImageOps.exif_transpose(opened)
        image.load()
        return image if image is not opened else image.copy()


def image_ref(path: Path, shown: str) -> ImageRef:
    """The picture in a file as `open_image` and `as_image` would give it, from its header only: decoded when
    a node needs its pixels. Its digest names the file as it is now (path, size, modification time)."""
    with _reading(shown), Image.open(path, formats=READ_FORMATS) as opened:
        _refuse_bombs(opened)
        turned = opened.getexif().get(ExifTags.Base.Orientation) in (5, 6, 7, 8)
        size = (opened.height, opened.width) if turned else opened.size
        transparent = "A" in opened.mode or "transparency" in opened.info
    stat = path.stat()
    digest = hashlib.sha256(f"file:{path}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    return ImageRef(path, size, "RGBA" if transparent else "RGB", digest,
                    opener=lambda file: as_image(open_image(file, shown)))


def _refuse_bombs(opened: Image.Image) -> None:
    if opened.width * opened.height > Image.MAX_IMAGE_PIXELS:
        raise Image.DecompressionBombError(f"{opened.width}×{opened.height} pixels")


@contextlib.contextmanager
def _reading(shown: str):
    """Every failure to read an image file, as a NodeError naming `shown`."""
    try:
        yield
    except FileNotFoundError:
        raise NodeError(f"no file at {shown!r}.", "Check the path; it is relative to the workflow's folder.") from None
    except IsADirectoryError:
        raise NodeError(f"{shown!r} is a folder, not an image file.",
                        "Name a file inside it, or use image.load_folder.") from None
    except Image.DecompressionBombError as exc:  # ours names the size; Pillow's (over twice the limit) a count
        count = _PILLOW_BOMB.search(str(exc))
        size = f"{int(count[1]):,} pixels" if count else exc
        raise NodeError(f"{shown!r} is too large to open safely ({size}; the limit is {Image.MAX_IMAGE_PIXELS:,} "
                        "pixels).",
                        "Scale the image down before using it; files this large are often decompression bombs.") \
            from None
    except UnidentifiedImageError:
        raise NodeError(f"{shown!r} is not an image flowbanana can read.",
                        f"Use {', '.join(READ_FORMATS)}; re-export the file if it is damaged.") from None
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow reports truncated or corrupt data this way
        raise NodeError(f"cannot read {shown!r}: {exc}.", "The file looks damaged: re-export or replace it.") from None


@pack.node("image.load", keywords=("open", "read", "input", "file", "import"),
           title="Load image", category="io",
           description="Reads an image file (PNG, JPEG, WebP, GIF, BMP or TIFF) next to the workflow. "
                       "EXIF orientation is applied, a GIF gives its first frame, and the result is RGB, or RGBA "
                       "when the file has transparency.",
           params=[Param.file("path", None, file_types=IMAGE_SUFFIXES,
                              description="The image file, relative to the workflow's folder.")],
           outputs=[Output("image", IMAGE), Output("width", INT), Output("height", INT)])
def load(path: str, ctx) -> dict:
    image = as_image(open_image(ctx.resolve_read(path), path))
    return {"image": image, "width": image.width, "height": image.height}


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.as_posix())]


@pack.node("image.load_folder", keywords=("batch", "directory", "glob", "many files"),
           title="Load folder", category="io", cacheable=False,
           description="Reads every image in a folder whose name matches a pattern, as a list. "
                       "Files are sorted by name with numbers in order (img2 before img10); other files are ignored. "
                       "Each picture is decoded only when a node needs it, so a folder of thousands streams through.",
           params=[Param.file("folder", None, description="The folder, relative to the workflow's folder."),
                   Param.text("pattern", "*", description="Which files: * for all, *.jpg, shoot_*.png, "
                                                          "**/*.png to include sub-folders."),
                   Param.int("limit", 0, min=0,
                             description="Read at most this many images (0 = all); images left out are reported. "
                                         "More than a run's list may hold (10,000 by default) is refused.")],
           outputs=[Output("images", IMAGE, list=True),
                    Output("names", TEXT, list=True, description="Each file's name without its extension.")])
def load_folder(folder: str, pattern: str, limit: int, ctx) -> dict:
    root = ctx.resolve_read(folder)
    try:
        found_folder = root.is_dir()
    except OSError as exc:  # a name too long, say
        raise NodeError(f"cannot open folder {folder!r}: {exc.strerror}.", "Check the path.") from None
    if not found_folder:
        raise NodeError(f"{folder!r} is not a folder." if root.exists() else f"no folder at {folder!r}.",
                        "Check the path; it is relative to the workflow's folder.")
    if not pattern.strip() or Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise NodeError(f"pattern {pattern!r} must name files inside the folder.",
                        "Use a relative pattern such as *.png or **/*.jpg, without '..'.")
    if limit < 0:
        raise NodeError(f"limit must be 0 (all images) or more, got {limit}.",
                        "Set limit to the largest number of images to read.")
    found = sorted((p for p in root.glob(pattern) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                   key=lambda p: _natural_key(p.relative_to(root)))
    if not found:
        raise NodeError(f"no image in {folder!r} matches {pattern!r}.",
                        f"Put {', '.join(IMAGE_SUFFIXES)} files there, or change the pattern.")
    wanted = min(len(found), limit or len(found))
    if problem := ctx.limits.items_problem(wanted, f"{folder!r} (every image that matches)"):
        raise NodeError(*problem)  # before any file is opened
    if limit and len(found) > limit:
        ctx.warn(f"{len(found)} images match; read the first {limit}, left out {len(found) - limit} "
                 "(raise limit, or set it to 0 to read every image).")
        found = found[:limit]
    images = []
    for i, path in enumerate(found):  # headers only: each picture is decoded when a node needs it
        shown = (Path(folder) / path.relative_to(root)).as_posix()
        images.append(image_ref(ctx.resolve_read(str(path)), shown))
        ctx.progress((i + 1) / len(found), shown)
    return {"images": images, "names": [p.stem for p in found]}


def _slug(value: str) -> str:
    """A field value made safe for a file name: no folders, no leading dots."""
    return re.sub(r"[^\w.-]+", "_", str(value).strip()).strip("._") or "_"


def expand_filename(pattern: str, *, name: str, index: int, node: str) -> str:
    """Fill {name} {index} {date} {node}; {index} counts from 1 and takes a format such as {index:03d}."""
    values = {"name": _slug(name), "index": index, "date": date.today().isoformat(), "node": _slug(node)}
    try:
        return fill(pattern, values, max_length=MAX_FILENAME)
    except TemplateError as exc:
        raise NodeError(f"filename {pattern!r}: {exc}.", exc.hint) from None


def encoding(image: Image.Image, fmt: str, quality: int) -> tuple[Image.Image, dict]:
    """The image as the format can store it, and Pillow's save options for it."""
    if fmt == "jpeg":
        if image.mode not in ("RGB", "L"):  # JPEG has no alpha: flatten onto white
            image = flatten(as_image(image))
        return image, {"format": "JPEG", "quality": quality, "optimize": True}
    if fmt == "webp":
        return image, {"format": "WEBP", "quality": quality, "method": 4}
    return image, {"format": "PNG", "optimize": quality >= 95}


def already_written(path: Path, content: str) -> Path | None:
    """The file at `path` (or _1, _2...) that an earlier run wrote with this very content, if there is one."""
    candidate, n = path, 0
    while candidate.exists():
        record = embedded_record(candidate)
        if record is not None and record.get("content") == content:
            return candidate
        n += 1
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
    return None


@pack.node("image.save", keywords=("write", "export", "output", "file", "download"),
           title="Save image", category="io", output=True, cacheable=False,
           description="Writes the image into the run's output folder and outputs the file's path. "
                       "The filename may use {name} (the name input, or the node id), {index} (1, 2... for each "
                       "item of a list; {index:03d} pads), {date} and {node}; an existing file is never replaced "
                       "unless overwrite is on: the new one gets _1, _2... A file an earlier run wrote with the same "
                       "content (the same cached image, format and quality) is kept rather than written again, so a "
                       "run stopped half way and started again writes only what is missing.",
           inputs=[Input("image", IMAGE, description="The picture to write."),
                   Input("name", TEXT, optional=True,
                         description="Fills {name}, e.g. the names from image.load_folder.")],
           params=[Param.text("filename", "{name}_{index}.png", template=FILENAME_FIELDS,
                              description="File name pattern inside the output folder; sub-folders are fine."),
                   Param.choice("format", ("auto", "png", "jpeg", "webp"),
                                description="auto: from the filename's extension (PNG when it has none)."),
                   Param.int("quality", 90, min=1, max=100, description="JPEG and WebP quality; PNG ignores it."),
                   Param.bool("overwrite", False, description="Replace a file of the same name."),
                   Param.bool("embed_workflow", True,
                              description="Write the workflow and a record of how the image was made (model, "
                                          "seed, finish reason, usage; never a key) into the file, so "
                                          "`flowbanana inspect` can trace it and dropping it on the editor reopens "
                                          "the workflow.")],
           outputs=[Output("path", TEXT, description="The file written.")])
def save(image: Image.Image, name: str | None, filename: str, format: str, quality: int, overwrite: bool,
         embed_workflow: bool, ctx) -> str:
    if not 1 <= quality <= 100:
        raise NodeError(f"quality must be between 1 and 100, got {quality}.", "90 is a good default.")
    relative = expand_filename(filename, name=name or ctx.node_id, index=ctx.item_index + 1, node=ctx.node_id)
    suffix = Path(relative).suffix.lower()
    fmt = SAVE_SUFFIXES.get(suffix, "png") if format == "auto" else format
    if suffix not in SAVE_SUFFIXES:
        relative += ".jpg" if fmt == "jpeg" else f".{fmt}"
    elif SAVE_SUFFIXES[suffix] != fmt:
        raise NodeError(f"filename {relative!r} ends in {suffix} but format is {format}.",
                        f"Set format to auto, or end the filename in .{'jpg' if fmt == 'jpeg' else fmt}.")
    target = ctx.resolve_write(relative)
    identity = ctx.identity("image") if embed_workflow else None
    content = hashlib.sha256(f"{identity}:{fmt}:{quality}".encode()).hexdigest()[:32] if identity else None
    written = already_written(target, content) if content else None
    if written is None or (overwrite and written != target):
        image, options = encoding(image, fmt, quality)
        if embed_workflow:
            options.update(ctx.provenance(fmt.upper(), **({"content": content} if content else {})))
        written = ctx.write_file(target, lambda handle: image.save(handle, **options), overwrite)
    else:
        ctx.add_file(written)
    return str(written)


@pack.node("image.preview", keywords=("show", "view", "display", "output"),
           title="Preview", category="io", output=True,
           description="Shows the image as a result: the editor displays it and the CLI lists it. "
                       "Nothing is written; the image passes through unchanged.",
           inputs=[Input("image", IMAGE, description="The picture (or mask) to show.")],
           outputs=[Output("image", IMAGE)])
def preview(image: Image.Image) -> Image.Image:
    return image
