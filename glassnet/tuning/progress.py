"""The search's progress line: trials done, running, pruned and failed, best so far, time left."""

from __future__ import annotations

import sys
import time

from optuna.trial import TrialState

from glassnet.models.progress import redraws_in_place


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class SearchProgress:
    """Prints one line whenever the counts change (rewritten in place on a terminal or in a notebook).

    Args:
        objective: the objective's name, for "best val_accuracy 0.9512".
        direction: "maximize" or "minimize".
        n_trials: the planned number of trials, when known (for the time estimate).
        deadline: the time limit as a ``time.time()`` value, when set.
        verbose: 0 prints nothing.
    """

    def __init__(self, objective: str, direction: str, n_trials=None, deadline=None, verbose: int = 1,
                 stream=None):
        self.objective, self.direction = objective, direction
        self.n_trials, self.deadline, self.verbose = n_trials, deadline, verbose
        self.stream = stream or sys.stdout
        self.start = time.time()
        self._last = None
        self._tty = redraws_in_place(self.stream)

    def line(self, trials, done_before: int = 0) -> str:
        counts = {s: 0 for s in TrialState}
        best = None
        for t in trials:
            if t.user_attrs.get("skipped"):
                continue
            counts[t.state] += 1
            # Only complete trials have a value: failed, pruned and running ones have None.
            if t.state == TrialState.COMPLETE and (
                    best is None or (t.value > best.value) == (self.direction == "maximize")):
                best = t
        finished = counts[TrialState.COMPLETE] + counts[TrialState.PRUNED] + counts[TrialState.FAIL]
        self._key = (tuple(counts.values()), best.number if best is not None else None)
        planned = f"/{self.n_trials}" if self.n_trials else ""
        text = (f"trials {finished}{planned} done: {counts[TrialState.COMPLETE]} complete, "
                f"{counts[TrialState.PRUNED]} pruned, {counts[TrialState.FAIL]} failed; "
                f"{counts[TrialState.RUNNING]} running")
        if best is not None:
            text += f" | best {self.objective} {best.value:.4f} (trial {best.number})"
        elapsed = time.time() - self.start
        text += f" | {_clock(elapsed)} elapsed"
        new = finished - done_before
        left = None
        if self.n_trials and new > 0:
            left = elapsed / new * max(self.n_trials - finished, 0)
        if self.deadline is not None:
            left = min(left, self.deadline - time.time()) if left is not None else self.deadline - time.time()
        if left is not None:
            text += f", ~{_clock(left)} left"
        return text

    def update(self, trials, done_before: int = 0) -> None:
        if not self.verbose:
            return
        text = self.line(trials, done_before)
        if self._key == self._last:
            return
        self._last = self._key
        if self._tty:
            self.stream.write("\r" + text.ljust(110)[:200])
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.verbose and self._tty and self._last is not None:
            self.stream.write("\n")
            self.stream.flush()
