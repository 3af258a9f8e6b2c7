"""Where dataset files are found: a cache folder, system folders, then a checked download.

The cache folder is ``$GLASSNET_DATA`` or ``~/.glassnet/datasets``; each dataset has a subfolder
there (``~/.glassnet/datasets/fashion_mnist/``). A download is written there only after its
SHA-256 matched, so a truncated or tampered file is never read.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from glassnet.saving.atomic import atomic_write

#: seconds to wait for a mirror before trying the next (offline machines fail fast anyway).
DOWNLOAD_TIMEOUT = 15


def data_home() -> Path:
    """The cache folder: ``$GLASSNET_DATA`` when set, else ``~/.glassnet/datasets``."""
    env = os.environ.get("GLASSNET_DATA")
    return Path(env).expanduser() if env else Path.home() / ".glassnet" / "datasets"


def given_folder(path, name: str) -> list[Path]:
    """The folder a user passed as ``path`` (as a list for ``fetch``'s search), checked: a folder
    that does not exist would otherwise be passed over for the cache without a word."""
    if path is None:
        return []
    folder = Path(path).expanduser()
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"{name}.load_data: path {folder} {what}; pass the folder holding the dataset's "
                                f"IDX files, or leave path out to use the cache ({data_home() / name}).")
    return [folder]


def _present(folder: Path, filename: str) -> Path | None:
    """The file in ``folder``, also accepted without its ``.gz`` (people often gunzip them)."""
    for candidate in (folder / filename, folder / filename.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def fetch(name: str, files: dict[str, str], mirrors: list[str], folders=(),
          download: bool = True) -> dict[str, Path]:
    """Paths to every file of a dataset, downloading the missing ones when possible.

    Args:
        name: the dataset's subfolder in the cache (``"mnist"``).
        files: file name -> SHA-256 of the canonical file.
        mirrors: base URLs tried in order; a file's URL is ``mirror + file name``.
        folders: more folders to search first (a user's ``path``, Debian's system folder).
        download: allow downloading; False only searches.

    Returns:
        dict: file name -> path of a readable copy (a found copy is used as is; it may be
        gunzipped or re-compressed, so only downloads are checked against the SHA-256).

    Raises:
        FileNotFoundError: a file is missing and could not be downloaded; the message says
            which files to put where.
    """
    cache = data_home() / name
    searched = [Path(f).expanduser() for f in folders] + [cache]
    partial = []  # folders holding some of the files: the message names the ones they lack
    for folder in searched:
        found = {f: _present(folder, f) for f in files}
        if all(found.values()):
            return found
        if any(found.values()):
            partial.append(f"  {folder} lacks {', '.join(f for f, p in found.items() if p is None)}")
    problems = []
    if download:
        cache.mkdir(parents=True, exist_ok=True)
        paths = {}
        for filename, digest in files.items():
            path = _present(cache, filename)
            if path is None:
                path, problem = _download(filename, digest, mirrors, cache)
                if problem:
                    problems.append(problem)
                    continue
            paths[filename] = path
        if not problems:
            return paths
    listing = "\n".join(f"  {f}" for f in files)
    where = "\n".join(f"  {folder}" for folder in searched)
    urls = "\n".join(f"  {m}" for m in mirrors)
    reason = ("\nDownloading failed:\n" + "\n".join(f"  {p}" for p in problems)) if problems else ""
    incomplete = ("\nIncomplete folders:\n" + "\n".join(partial)) if partial else ""
    raise FileNotFoundError(
        f"The {name} dataset files were not found. Put these files:\n{listing}\ninto {cache} "
        f"(or set GLASSNET_DATA to a folder that has a '{name}' subfolder with them, or pass "
        f"path=...). Folders searched:\n{where}{incomplete}\nThe files can be downloaded from:\n{urls}{reason}"
    )


def _download(filename: str, digest: str, mirrors: list[str], folder: Path):
    """(path, None) after a verified download, or (None, why it failed on every mirror)."""
    failures = []
    for mirror in mirrors:
        url = mirror + filename
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
                payload = response.read()
        except (urllib.error.URLError, OSError, ValueError) as err:
            failures.append(f"{url}: {getattr(err, 'reason', err)}")
            continue
        got = hashlib.sha256(payload).hexdigest()
        if got != digest:
            failures.append(f"{url}: SHA-256 {got} does not match the expected {digest}; file discarded")
            continue
        path = folder / filename
        atomic_write(path, payload)  # a unique temporary, fsynced: readers never see half a file
        return path, None
    return None, f"{filename}: " + "; ".join(failures)
