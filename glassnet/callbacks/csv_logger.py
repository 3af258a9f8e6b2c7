"""CSVLogger: one CSV row per epoch."""

from __future__ import annotations

import csv
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
        with open(self.filename, "a", newline="") as f:
            writer = csv.writer(f, delimiter=self.separator)
            if self.keys is None:
                self.keys = sorted(logs)
                if self._write_header:
                    writer.writerow(["epoch", *self.keys])
            writer.writerow([epoch, *(logs.get(k, "") for k in self.keys)])
