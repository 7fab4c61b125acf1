"""Checks made before the first frame is decoded, so a job that cannot finish fails in seconds with the setting
to change, not after the whole video with a traceback. Pure Python (no torch)."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

#: Results bytes per frame (compressed arrays, generous) and per file, for the free-space check.
RESULT_BYTES_PER_FRAME = 4096
RESULT_BYTES_FIXED = 1 << 20
#: A temporary results file older than this is left over from an interrupted write.
STALE_TEMP_AGE_S = 600.0
#: mkstemp names of results being written (results.write_results): ".<stem>.<random>.tmp.npz".
TEMP_GLOB = ".*.tmp.npz"


class OutputPathError(ValueError):
    """An output file that cannot be written; the message says what to change."""


def check_output_file(path: str | os.PathLike, suffixes: tuple[str, ...], what: str, needed_bytes: int = 0) -> Path:
    """The output path as a Path, if a file with one of `suffixes` can be created or replaced there and its
    folder has `needed_bytes` free; OutputPathError otherwise. Creates missing parent folders."""
    path = Path(path).expanduser()
    if path.is_dir() or str(path).endswith(os.sep):
        raise OutputPathError(f"{what} {path} is a folder; give a file name ending in {' or '.join(suffixes)}")
    if path.suffix.lower() not in suffixes:
        raise OutputPathError(f"{what} must end in {' or '.join(suffixes)}, got '{path.name}'")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"cannot create the folder for the {what}, {folder}: {exc.strerror or exc}") from exc
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"{what} {path} exists and is read-only; choose another name or make it writable")
    try:
        with tempfile.NamedTemporaryFile(prefix=".arts-write-check.", dir=folder):
            pass
    except OSError as exc:
        raise OutputPathError(f"cannot write the {what} in {folder}: {exc.strerror or exc}; "
                              "choose a folder you can write to") from exc
    free = shutil.disk_usage(folder).free
    if free < needed_bytes:
        raise OutputPathError(f"not enough free space for the {what} in {folder}: {free >> 20} MiB free, "
                              f"about {(needed_bytes >> 20) + 1} MiB needed")
    return path


def results_bytes(frames: int) -> int:
    """A generous size of a results file of `frames` frames (unknown length: 0 gives the fixed part only)."""
    return RESULT_BYTES_FIXED + RESULT_BYTES_PER_FRAME * max(frames, 0)


def remove_stale_temp_files(folder: str | os.PathLike, max_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Delete temporary results files in `folder` that an interrupted write left behind (older than
    max_age_s, so a write in progress in another job is never touched); returns those removed."""
    removed = []
    cutoff = time.time() - max_age_s
    for stale in Path(folder).glob(TEMP_GLOB):
        try:
            if stale.is_file() and stale.stat().st_mtime < cutoff:
                stale.unlink()
                removed.append(stale)
        except OSError:
            continue  # gone already, or not ours to delete: never a reason to fail a job
    return removed
