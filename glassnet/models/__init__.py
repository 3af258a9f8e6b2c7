"""Models: ``Sequential`` (a stack), ``Model`` (a graph) and the training loop behind them."""

from glassnet.models.functional import Input, Model
from glassnet.models.sequential import Sequential

__all__ = ["Input", "Model", "Sequential"]
