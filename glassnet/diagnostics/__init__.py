"""Glass-box tools: explain a model step by step, draw it, and diagnose training as it runs."""

from glassnet.diagnostics.callback import Diagnostics, Finding
from glassnet.diagnostics.explain import Explanation, explain
from glassnet.diagnostics.network_diagram import draw_network

__all__ = ["Diagnostics", "Explanation", "Finding", "draw_network", "explain"]
