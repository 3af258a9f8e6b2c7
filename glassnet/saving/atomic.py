"""Crash-safe file writes: a temporary file beside the target, fsync, rename, fsync the folder.

A crash at any moment leaves either the old file or the new one, never a mix; a temporary file
a crash leaves behind (``.<name>.tmp-<random>``) is removed by the next save to that name.
"""

from __future__ import annotations

import os
import tempfile


def temp_prefix(name: str) -> str:
    """The prefix of the temporary files that writing ``name`` creates beside it."""
    return f".{name}.tmp-"


def clean_stale_temps(folder: str, name: str) -> list[str]:
    """Remove the temporary files an interrupted write of ``name`` left in ``folder``.

    Returns the paths removed. Only files matching ``.<name>.tmp-*`` are touched.
    """
    prefix = temp_prefix(name)
    removed = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return removed
    for entry in entries:
        if entry.startswith(prefix):
            path = os.path.join(folder, entry)
            try:
                os.remove(path)
                removed.append(path)
            except OSError:  # vanished meanwhile, or not ours to remove: leave it
                pass
    return removed


def _fsync_folder(folder: str) -> None:
    # Makes the rename itself durable. Windows cannot open a folder; its rename is already durable
    # enough for NTFS's metadata journal.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a mix.

    Steps: remove stale temporaries of this name, write a temporary file in the same folder,
    flush and fsync it, ``os.replace`` it over ``path``, fsync the folder. If anything fails the
    temporary file is removed and the old ``path`` is left as it was.

    Args:
        path: the target file.
        data: the complete new contents.
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot save to {path}: it is a folder; give a file name.")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot save to {path}: the folder {folder} does not exist.")
    clean_stale_temps(folder, name)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(name), dir=folder)
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _file_mode(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)
