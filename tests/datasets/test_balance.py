"""Class-balance report and the class weights computed from it."""

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from glassnet.datasets import class_balance


def test_counts_shares_and_table_for_every_split():
    y_train = np.array([1] * 74 + [0] * 26)  # the pneumonia set's 74 % / 26 %
    y_test = np.array([[0], [1], [1]])  # (N, 1) labels as MedMNIST stores them
    report = class_balance(["normal", "pneumonia"], train=y_train, test=y_test)
    assert report.counts["train"].tolist() == [26, 74] and report.counts["test"].tolist() == [1, 2]
    np.testing.assert_allclose(report.shares("train"), [0.26, 0.74])
    table = str(report)
    assert "pneumonia" in table and "74 ( 74.0%)" in table and "2 ( 66.7%)" in table
    assert table.splitlines()[0].split() == ["class", "train", "test"]


def test_class_weight_is_sklearns_balanced_weighting():
    y = np.array([0] * 30 + [1] * 60 + [2] * 10)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y)
    weights = class_balance(train=y).class_weight()
    assert list(weights) == [0, 1, 2]
    np.testing.assert_allclose(list(weights.values()), expected, rtol=1e-15)
    # Each class then carries the same total weight: n / K.
    np.testing.assert_allclose([weights[c] * n for c, n in enumerate([30, 60, 10])], [100 / 3] * 3)


def test_one_hot_labels_and_a_chosen_split():
    one_hot = np.eye(3)[[0, 1, 1, 2]]
    report = class_balance(train=np.array([0, 0, 1, 2]), val=one_hot)
    assert report.counts["val"].tolist() == [1, 2, 1]
    assert report.class_weight("val")[1] == pytest.approx(4 / 6)


def test_missing_class_and_bad_labels_are_explained():
    report = class_balance(["a", "b", "c"], train=np.array([0, 0, 2]))
    assert report.counts["train"].tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match=r"no samples of class\(es\) \['b'\]"):
        report.class_weight()
    with pytest.raises(ValueError, match="needs at least one split"):
        class_balance()
    with pytest.raises(ValueError, match="integer class labels"):
        class_balance(train=np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="2 class names for labels up to 2"):
        class_balance(["a", "b"], train=np.array([0, 2]))


def test_an_empty_split_prints_an_empty_table():
    table = str(class_balance(train=np.array([], dtype=int)))
    assert "total" in table and "0" in table
