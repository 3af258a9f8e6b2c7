"""TerminateOnNaN: stop at the first non-finite loss."""

from __future__ import annotations

import math

from glassnet.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Stop at the first non-finite training loss and say where it happened.

    ``fit`` adds one automatically; the message names the epoch and batch.
    """

    def __init__(self):
        super().__init__()
        self.stopped_at = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            epoch = getattr(self.model, "_current_epoch", None)
            self.stopped_at = (epoch, batch)
            where = f"epoch {epoch + 1}, batch {batch + 1}" if epoch is not None else f"batch {batch + 1}"
            print(f"TerminateOnNaN: the loss became {loss} at {where}; training stopped. "
                  f"Lower the learning rate, scale the inputs or add clipnorm.")
            self.model.stop_training = True
