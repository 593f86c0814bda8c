"""Files a run writes: made under a temporary name beside their place, and named only while the run goes on.

A file is either whole under its real name or not there: a run killed half way never leaves half a file
under a real name, and a run stopped (Ctrl+C) names nothing after the stop, so every file it reports as
written is whole and no file it leaves out appears later (a node in a thread cannot be stopped, but its
file stays a temporary one, removed when its writer ends). Temporary files a killed process left are
removed the next time a run writes into their folder; a quit without waiting (a second Ctrl+C) removes
those of its own writers first.
"""
from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import BinaryIO, Callable

_MARK = "flowbanana"
_cleared: set[Path] = set()
_live: set[Path] = set()      # temporary files being written now, by any thread of this process
_live_lock = threading.Lock()


class Stopped(Exception):
    """The run stopped while this file was being written: it was not given its name."""


class Gate:
    """Whether a node's files may still be named, and the files it named: one per node call. `stop()` (the run
    was stopped) waits for a file being named at that instant, so the two never cross."""

    def __init__(self):
        self._lock = threading.Lock()
        self._stopped = False
        self.files: list[str] = []

    def name(self, give_name: Callable[[], Path]) -> Path:
        """Run `give_name` (which gives a finished file its real name) and record the file, unless stopped."""
        with self._lock:
            if self._stopped:
                raise Stopped("the run was stopped before this file was named")
            path = give_name()
            self.files.append(str(path))
            return path

    def stop(self) -> list[str]:
        """No file is named from now on; the files named before."""
        with self._lock:
            self._stopped = True
            return list(self.files)


def write_file(path: Path, write: Callable[[BinaryIO], None], gate: Gate, overwrite: bool = True) -> Path:
    """Write `path` through `write(handle)` under a temporary name, then name it through `gate`. Without
    `overwrite`, a taken name gets _1, _2... (claimed atomically by a hard link, so concurrent items never race).
    Returns the path the file has."""
    _clear_partials(path.parent)
    partial = path.with_name(f".{path.name}.{_MARK}-{os.getpid()}-{threading.get_ident()}.partial")
    with _live_lock:
        _live.add(partial)
    try:
        with open(partial, "wb") as handle:
            write(handle)
        return gate.name(lambda: _claim(partial, path, overwrite))
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        with _live_lock:
            _live.discard(partial)


def _claim(partial: Path, path: Path, overwrite: bool) -> Path:
    if overwrite:
        os.replace(partial, path)
        return path
    candidate, n = path, 0
    while True:
        try:
            os.link(partial, candidate)
            return candidate
        except FileExistsError:
            n += 1
            candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")


def remove_partials() -> None:
    """Remove the temporary files this process's writers are making now (before quitting without them)."""
    with _live_lock:
        for partial in list(_live):
            with contextlib.suppress(OSError):
                os.unlink(partial)


def _clear_partials(folder: Path) -> None:
    """Remove what writers killed half way left in `folder` (once per folder and process)."""
    if folder in _cleared:
        return
    _cleared.add(folder)
    for leftover in folder.glob(f".*.{_MARK}-*.partial"):
        pid = leftover.name.rsplit(f".{_MARK}-", 1)[1].split("-")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            with contextlib.suppress(OSError):
                leftover.unlink()


def process_alive(pid: int | None) -> bool:
    """Whether a process of this machine has this id (a writer's, a batch run's)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
