"""Process-wide settings glassnet may make, each named and switchable (as ``keras.config``)."""

from glassnet.backend import get_device, set_device
from glassnet.models.memory import keep_freed_memory_enabled, set_keep_freed_memory
from glassnet.parallel import num_threads, own_threads_enabled, set_num_threads, set_own_threads

__all__ = ["get_device", "keep_freed_memory_enabled", "num_threads", "own_threads_enabled", "set_keep_freed_memory",
           "set_device", "set_num_threads", "set_own_threads"]
