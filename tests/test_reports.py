"""binary_classification_report: figures checked by hand and against sklearn.metrics, the
threshold, the accepted score layouts, the plots and bad input."""

import numpy as np
import pytest
from sklearn import metrics

from glassnet.reports import binary_classification_report

Y = np.array([0, 0, 0, 0, 1, 1, 1, 0, 1, 1])
P = np.array([0.1, 0.4, 0.35, 0.8, 0.9, 0.65, 0.3, 0.2, 0.55, 0.7])


def test_figures_match_a_hand_count_at_the_default_threshold():
    r = binary_classification_report(Y, P)
    # predicted positive (>= 0.5): rows 3, 4, 5, 8, 9 -> TP 4 (4, 5, 8, 9), FP 1 (3), FN 1 (6), TN 4
    assert r.confusion_matrix.tolist() == [[4, 1], [1, 4]]
    assert (r.accuracy, r.precision, r.recall, r.f1) == (0.8, 0.8, 0.8, 0.8)
    assert r.roc_auc == pytest.approx(metrics.roc_auc_score(Y, P), abs=0)
    assert r.roc_auc == pytest.approx(19 / 25)  # 19 of the 25 positive-negative pairs are ordered right


def test_threshold_moves_the_confusion_matrix_but_not_the_auc():
    low, high = binary_classification_report(Y, P, threshold=0.25), binary_classification_report(Y, P, threshold=0.85)
    assert low.confusion_matrix.tolist() == [[2, 3], [0, 5]] and low.recall == 1.0
    assert high.confusion_matrix.tolist() == [[5, 0], [4, 1]] and high.precision == 1.0
    assert low.roc_auc == high.roc_auc
    assert high.f1 == pytest.approx(metrics.f1_score(Y, P >= 0.85))


def test_scores_as_a_column_or_as_predict_proba_output():
    ref = binary_classification_report(Y, P).to_dict()
    assert binary_classification_report(Y.reshape(-1, 1), P.reshape(-1, 1)).to_dict() == ref
    assert binary_classification_report(Y.astype(bool), np.column_stack([1 - P, P])).to_dict() == ref


def test_nothing_predicted_positive_gives_zero_precision_without_warnings():
    r = binary_classification_report(Y, P, threshold=2.0)
    assert (r.precision, r.recall, r.f1) == (0.0, 0.0, 0.0)
    one_class = binary_classification_report([1, 1], [0.2, 0.9])
    assert np.isnan(one_class.roc_auc) and one_class.recall == 0.5


def test_text_shows_every_figure_and_the_labels():
    text = str(binary_classification_report(Y, P, labels=("<=50K", ">50K")))
    for part in ("10 samples, threshold 0.5", "accuracy  0.8000", "roc_auc   0.7600", "<=50K", ">50K"):
        assert part in text


def test_plots_draw_the_curve_and_the_counts(tmp_path):
    r = binary_classification_report(Y, P, labels=("no", "yes"))
    fig = r.plot(tmp_path / "report.png")
    assert (tmp_path / "report.png").stat().st_size > 10_000
    roc_ax, cm_ax = fig.axes[:2]
    fpr, tpr, _ = metrics.roc_curve(Y, P)
    np.testing.assert_array_equal(roc_ax.lines[0].get_xdata(), fpr)
    np.testing.assert_array_equal(roc_ax.lines[0].get_ydata(), tpr)
    assert sorted(t.get_text() for t in cm_ax.texts) == ["1", "1", "4", "4"]
    assert [t.get_text() for t in cm_ax.get_xticklabels()] == ["no", "yes"]
    assert r.plot_roc().get_title() == "ROC curve"


@pytest.mark.parametrize("y_true, y_score, message", [
    ([0, 2, 1], [0.1, 0.2, 0.3], "y_true must hold only 0 and 1.*found 2"),
    ([0, 1], [0.1, 0.2, 0.3], "y_true has 2 rows but y_score has 3"),
    ([], [], "no samples"),
    ([0, 1], [0.1, np.nan], "NaN or infinite"),
    ([0, 1], [[0.1, 0.2, 0.7], [0.1, 0.2, 0.7]], r"y_score \(N,\), \(N, 1\) or \(N, 2\)"),
])
def test_bad_input(y_true, y_score, message):
    with pytest.raises(ValueError, match=message):
        binary_classification_report(y_true, y_score)
