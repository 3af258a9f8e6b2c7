"""Search spaces: Talos-style dicts and the keras-tuner-style hp object, checked without training."""

import optuna
import pytest

from glassnet import tuning
from glassnet.tuning.space import grid_values, parse_space


def test_stepped_tuple_is_evenly_spaced_values_from_low_to_high():
    parsed = parse_space({"dropout": (0.0, 0.5, 6), "units": (16, 64, 4)})
    assert grid_values("dropout", parsed["dropout"]) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert grid_values("units", parsed["units"]) == [16, 32, 48, 64]


def test_lists_are_choices_scalars_constants_and_ranges_are_continuous():
    parsed = parse_space({"act": ["relu", "elu"], "opt": "adam", "lr": tuning.LogUniform(1e-4, 1e-1),
                          "n": tuning.IntRange(1, 3)})
    assert grid_values("act", parsed["act"]) == ["relu", "elu"]
    assert parsed["opt"] == {"kind": "fixed", "value": "adam"}
    assert grid_values("n", parsed["n"]) == [1, 2, 3]
    with pytest.raises(ValueError, match="grid search needs a finite set of values for 'lr'"):
        grid_values("lr", parsed["lr"])


@pytest.mark.parametrize("space, message", [
    ({}, "search space is empty"),
    ({"units": []}, "empty list of choices"),
    ({"units": (1, 2)}, r"\(low, high, steps\)"),
    ({"units": 16}, "nothing to search"),
])
def test_bad_spaces_are_refused_with_a_reason(space, message):
    with pytest.raises(ValueError, match=message):
        parse_space(space)


def test_range_objects_check_their_bounds():
    with pytest.raises(ValueError, match="0 < low < high"):
        tuning.LogUniform(0.0, 1.0)
    with pytest.raises(ValueError, match="low < high"):
        tuning.Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="IntRange"):
        tuning.IntRange(5, 1)


def test_params_are_a_dict_and_an_hp_object():
    space = parse_space({"units": [8, 16], "opt": "adam"})
    hp = tuning.HyperParameters(optuna.trial.FixedTrial({"units": 16, "layers": 2, "sgd": False}), space)
    assert hp["units"] == 16
    assert hp.Int("layers", 1, 3) == 2
    assert hp.Int("units", 1, 100) == 16  # already drawn: the same value back
    assert hp.Boolean("sgd") is False
    assert hp.Float("momentum", 0.0, 0.9, parent_name="sgd", parent_values=[True]) is None  # inactive
    assert hp.unread() == ["opt"]  # a constant build_model never looked at
    assert dict(hp) == {"units": 16, "opt": "adam", "layers": 2, "sgd": False}
    with pytest.raises(KeyError, match="No parameter .unitz."):
        hp["unitz"]


def test_non_primitive_choices_are_stored_by_label():
    class Wide: ...

    class Narrow: ...

    hp = tuning.HyperParameters(optuna.trial.FixedTrial({"block": "Narrow"}), parse_space({"block": [Wide, Narrow]}))
    assert hp["block"] is Narrow


def test_progress_line_counts_failed_and_running_trials_after_a_complete_one():
    import io

    import optuna
    from optuna.trial import TrialState, create_trial

    from glassnet.tuning.progress import SearchProgress

    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    trials = [create_trial(state=TrialState.COMPLETE, value=0.9, params={"x": 0.5}, distributions=dist),
              create_trial(state=TrialState.FAIL, params={"x": 0.1}, distributions=dist),
              create_trial(state=TrialState.RUNNING, params={"x": 0.2}, distributions=dist)]
    line = SearchProgress("val_accuracy", "maximize", n_trials=4, stream=io.StringIO()).line(trials)
    assert "1 complete" in line and "1 failed" in line and "0.9" in line
