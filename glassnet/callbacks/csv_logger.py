"""CSVLogger: one CSV row per epoch."""

from __future__ import annotations

import csv
import os

from glassnet.callbacks.callback import Callback


class CSVLogger(Callback):
    """Append each epoch's logs as a CSV row (a header first when the file is new).

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
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer = csv.writer(self._file, delimiter=self.separator)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self._write_header:
                self._writer.writerow(["epoch", *self.keys])
        self._writer.writerow([epoch, *(logs.get(k, "") for k in self.keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        self._file.close()
