"""Models: ``Sequential`` and the training loop behind it."""

from glassnet.models.sequential import Sequential

__all__ = ["Sequential"]
