"""Datasets: small generated problems for examples and tests (more loaders live beside them)."""

from glassnet.datasets import digits, fashion_mnist, mnist
from glassnet.datasets._files import data_home
from glassnet.datasets.balance import ClassBalance, class_balance
from glassnet.datasets.directory import ImageData, ImageFolderSource, image_dataset_from_directory, load_images
from glassnet.datasets.readers import load_npz, read_digit_csv, read_idx
from glassnet.datasets.sources import ArraySource, BatchSource, is_batch_source
from glassnet.datasets.synthetic import sine_data, spiral_data
from glassnet.datasets.text_directory import TextData, TextFolderSource, text_dataset_from_directory
from glassnet.datasets.timeseries import TimeseriesSource, timeseries_dataset_from_array

__all__ = ["sine_data", "spiral_data",
           # image datasets, file readers, class balance and batch sources
           "ArraySource", "BatchSource", "ClassBalance", "ImageData", "ImageFolderSource", "class_balance",
           "data_home", "digits", "fashion_mnist", "image_dataset_from_directory", "is_batch_source",
           "load_images", "load_npz", "mnist", "read_digit_csv", "read_idx",
           # text folders and time-series windows
           "TextData", "TextFolderSource", "TimeseriesSource", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
