"""CSVLogger: one CSV row per epoch."""

from __future__ import annotations

import csv
import io
import os

from glassnet.callbacks.callback import Callback


class CSVLogger(Callback):
    """Append each epoch's logs as a CSV row (a header first when the file is new).

    The file is opened only to write a row, so a run that fails or is interrupted leaves no
    open handle and every finished epoch on disk.

    Args:
        filename: the CSV path.
        separator: the field separator.
        append: keep an existing file's rows (resuming) instead of starting over.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.keys = None

    def on_train_begin(self, logs=None):
        self.keys = None
        self._write_header = not (self.append and os.path.exists(self.filename) and os.path.getsize(self.filename))
        if not self.append:
            open(self.filename, "w").close()  # start over now, as Keras does

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs) if self._write_header else self._widen(sorted(logs))
        with open(self.filename, "a", newline="") as f:
            writer = csv.writer(f, delimiter=self.separator)
            if self._write_header:
                writer.writerow(["epoch", *self.keys])
                self._write_header = False
            writer.writerow([epoch, *(logs.get(k, "") for k in self.keys)])

    def _widen(self, keys: list) -> list:
        """The columns of the file appended to, plus any this run logs that it lacks (a fit with
        validation after one without): the file is rewritten once with the wider header and
        blanks in the old rows, so it stays one table a CSV reader can load."""
        with open(self.filename, newline="") as f:
            rows = list(csv.reader(f, delimiter=self.separator))
        columns = rows[0][1:]
        added = [k for k in keys if k not in columns]
        if added:
            from glassnet.saving import atomic  # imported here: saving builds on the models, which use callbacks

            width = 1 + len(columns) + len(added)
            text = io.StringIO()
            writer = csv.writer(text, delimiter=self.separator)
            writer.writerow([rows[0][0], *columns, *added])
            writer.writerows(row + [""] * (width - len(row)) for row in rows[1:])
            atomic.atomic_write(self.filename, text.getvalue().encode("utf-8"))
        return columns + added
