"""Process-wide settings glassnet may make, each named and switchable (as ``keras.config``)."""

from glassnet.models.memory import keep_freed_memory_enabled, set_keep_freed_memory

__all__ = ["keep_freed_memory_enabled", "set_keep_freed_memory"]
