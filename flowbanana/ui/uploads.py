"""Files a user sends for a file param (an image, a CSV), kept where the workflow's runs may read them."""
from __future__ import annotations

import re
from pathlib import Path

MAX_UPLOAD = 50 * 1024 * 1024
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


def store_upload(name: str, data: bytes, source: Path | None, uploads_dir: Path) -> str:
    """Keep an uploaded file where the workflow may read it; return the param value that points at it.

    Next to a saved workflow (`source`) it goes into `inputs/` (a relative path travels with the file);
    without one into the uploads folder, which runs from the editor may read. An image is checked whole
    (UploadRefused if it is not one) and named by its content; another file never replaces a different one.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).name).strip("-.") or "upload"
    folder = source.parent / "inputs" if source else uploads_dir
    if Path(safe).suffix.lower() in IMAGE_SUFFIXES:
        from ..server.uploads import save_upload
        path = save_upload(data, folder, 100_000_000)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        path, n = folder / safe, 1
        while path.exists() and path.read_bytes() != data:  # never replace a different file of that name
            n += 1
            path = folder / f"{Path(safe).stem}-{n}{Path(safe).suffix}"
        path.write_bytes(data)
    return str(path.relative_to(source.parent)) if source else str(path)
