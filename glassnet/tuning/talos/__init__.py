"""Talos' API on glassnet: ``Scan`` runs a dict of parameters through a model function,
``Analyze`` summarises the results, ``Deploy``/``Restore`` package the best model in a zip,
``Predict``/``Evaluate`` use it on new data."""

from glassnet.tuning.talos.analyze import Analyze
from glassnet.tuning.talos.deploy import Deploy, Restore
from glassnet.tuning.talos.predict import Evaluate, Predict
from glassnet.tuning.talos.scan import RANDOM_METHODS, Scan, expand_params

__all__ = ["Analyze", "Deploy", "Evaluate", "Predict", "RANDOM_METHODS", "Restore", "Scan", "expand_params"]
