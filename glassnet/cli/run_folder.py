"""The run folder ``runs/<name>-<timestamp>/`` and the log that mirrors what the terminal shows."""

from __future__ import annotations

import contextlib
import re
import sys
import time
from pathlib import Path

#: the files of a finished training run, in the order the report lists them.
MODEL_FILE = "model.glassnet"
ONNX_FILE = "model.onnx"  # with glassnet train --export onnx
CONFIG_FILE = "config.toml"
HISTORY_FILE = "history.csv"
METRICS_FILE = "metrics.json"
LOG_FILE = "train.log"
REPORT_FILE = "report.html"


def create(out, name: str) -> Path:
    """Make a fresh ``out/<name>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3`` ... if taken).

    Raises:
        OSError: ``out`` cannot be created or written; the message names the folder.
    """
    safe = re.sub(r"[^A-Za-z0-9_.\-]+", "-", name).strip("-.") or "run"
    out = Path(out)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 1000):
            folder = out / (f"{safe}-{stamp}" + (f"-{attempt}" if attempt > 1 else ""))
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                continue
    except OSError as err:
        raise OSError(f"cannot write the run folder under {out}: {err.strerror or err}") from None
    raise OSError(f"cannot find a free run folder name under {out}")


class Log:
    """Writes messages to the terminal (unless quiet) and to the run's log file.

    While active as a context (``with log.capture():``) everything printed to stdout, such as
    ``fit``'s epoch lines, is copied into the log too; progress-bar redraws are kept off the log.
    """

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.file = None
        self._pending: list[str] = []  # lines said before the run folder existed

    def open(self, path: Path) -> None:
        self.file = open(path, "a", encoding="utf-8")
        for line in self._pending:
            self.file.write(line + "\n")
        self._pending = []

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def failed(self, error: BaseException) -> None:
        """Write the error that stopped the run into the log file (the terminal gets it from
        ``main``), so a run folder left behind says why it holds no model."""
        self._record(f"glassnet: error: {error}")

    def __call__(self, message: str = "") -> None:
        if not self.quiet:
            print(message, flush=True)
        self._record(message)

    def _record(self, text: str) -> None:
        for line in text.split("\n"):
            if self.file is not None:
                self.file.write(line + "\n")
                self.file.flush()
            else:
                self._pending.append(line)

    @contextlib.contextmanager
    def capture(self):
        original = sys.stdout
        sys.stdout = _Tee(original, self)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stdout = original


class _Tee:
    """A stdout that also hands complete plain lines to the log (tqdm's ``\\r`` redraws are not)."""

    def __init__(self, stream, log: Log):
        self.stream, self.log, self._buffer = stream, log, ""

    def write(self, text: str) -> int:
        self.stream.write(text)
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if "\r" not in line and "\x1b" not in line:
                self.log._record(line)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def __getattr__(self, name):
        return getattr(self.stream, name)
