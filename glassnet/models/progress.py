"""Training output: a live tqdm bar with ETA on a terminal or in a notebook, plain lines anywhere else."""

from __future__ import annotations

import sys
import time

# The text bar, also in Jupyter: tqdm.auto would pick the ipywidgets bar there, and warn at
# import time where ipywidgets is not installed.
from tqdm import tqdm


def redraws_in_place(stream) -> bool:
    """Whether ``stream`` shows a line rewritten after "\\r" in place: a terminal, or the output of
    a Jupyter kernel (ipykernel), whose front ends render carriage returns as a terminal does."""
    return (hasattr(stream, "isatty") and stream.isatty()) or type(stream).__module__.startswith("ipykernel.")


def resolve_verbose(verbose) -> int:
    if verbose == "auto":
        return 1 if redraws_in_place(sys.stdout) else 2
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto'; got {verbose!r}.")
    return int(verbose)


def format_logs(logs: dict) -> str:
    parts = []
    for key, value in logs.items():
        if key == "learning_rate":
            parts.append(f"lr: {value:.3g}")
        else:
            parts.append(f"{key}: {value:.4f}")
    return " - ".join(parts)


class EpochProgress:
    """Shows one epoch. verbose 1: a bar (on a terminal or in a notebook), then the epoch's line;
    2: the line only; 0: nothing.

    ``show_line`` is False on epochs that ``log_every`` skips.
    """

    def __init__(self, verbose: int, epoch: int, epochs: int, steps: int, show_line: bool):
        self.verbose, self.epoch, self.epochs, self.show_line = verbose, epoch, epochs, show_line
        self.start = time.perf_counter()
        self.bar = None
        if verbose == 1 and redraws_in_place(sys.stdout):
            self.bar = tqdm(total=steps, desc=f"Epoch {epoch + 1}/{epochs}", unit="batch",
                            leave=False, file=sys.stdout, dynamic_ncols=True)

    def update(self, loss: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"loss: {loss:.4f}", refresh=False)

    def close(self, logs: dict) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.verbose and self.show_line:
            elapsed = time.perf_counter() - self.start
            print(f"Epoch {self.epoch + 1}/{self.epochs} - {elapsed:.2f}s - {format_logs(logs)}", flush=True)
