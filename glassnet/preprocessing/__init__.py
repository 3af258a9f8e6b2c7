"""Preprocessing for tabular data: a pandas table in, a float32 feature matrix out.

``TabularPreprocessor`` imputes, scales and one-hot encodes with scikit-learn, fitted on the
training rows only; ``summarize`` is the first look at a table (types, cardinality, missing
cells, target balance).
"""

from glassnet.preprocessing.eda import DataSummary, summarize
from glassnet.preprocessing.tabular import IdentifierColumnWarning, TabularPreprocessor

__all__ = ["DataSummary", "IdentifierColumnWarning", "TabularPreprocessor", "summarize"]
