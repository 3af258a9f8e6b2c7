"""A real notebook run in a real Jupyter kernel (nbclient + ipykernel), as course users run glassnet:
training with a progress bar, ``History.plot()``, a process-worker search whose build function is
defined in a cell, and ``model.explain``. One kernel runs every cell (a start costs seconds); each
test checks its cell's outputs. Every cell has a time limit, so a hang fails instead of waiting.
"""

import os
import sys

import pytest

nbformat = pytest.importorskip("nbformat", reason="tests/test_notebooks.py needs nbformat (in the test extra)")
nbclient = pytest.importorskip("nbclient", reason="tests/test_notebooks.py needs nbclient (in the test extra)")
kernelspec = pytest.importorskip("ipykernel.kernelspec",
                                 reason="tests/test_notebooks.py needs ipykernel (in the test extra)")

pytestmark = pytest.mark.slow  # one kernel and a two-worker search: seconds in all

#: seconds one cell may run; the slowest (the search) takes a few.
CELL_TIMEOUT = 120

CELLS = {
    "imports": """
import os, sys
import numpy as np
import glassnet as gn
print(sys.executable)
""",
    "fit": """
rng = np.random.default_rng(0)
x = rng.normal(size=(96, 4)).astype("float32")
y = (x[:, 0] + x[:, 1] > 0).astype("int64")
model = gn.Sequential([gn.layers.Dense(3, activation="tanh", input_shape=(4,)),
                       gn.layers.Dense(2, activation="softmax")], seed=0)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=1)
""",
    "history_plot": "history.plot()",
    "search": """
from sklearn.datasets import load_digits

digits_x, digits_y = load_digits(return_X_y=True)
digits_x, digits_y = (digits_x[:120] / 16).astype("float32"), digits_y[:120]

def build(params):
    model = gn.Sequential([gn.layers.Dense(params["units"], activation="relu", input_shape=(64,)),
                           gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

tuner = gn.tuning.Tuner(build, {"units": [4, 8, 16]}, strategy="grid", n_workers=2, seed=0, verbose=1)
tuner.search(digits_x, digits_y, validation_split=0.25, epochs=1)
complete = [t for t in tuner.study.trials if t.state.name == "COMPLETE"]
in_kernel = any(t.user_attrs["worker"].endswith(f":{os.getpid()}") for t in complete)
print("complete", len(complete), "in the kernel", in_kernel)
""",
    "explain": "explanation = model.explain(x[:1], y[:1])",
    "explain_plot": "explanation.plot()",
    "text": """
texts = np.array(["a great film", "great fun", "a joy", "dull and boring", "awful plot", "bad film"] * 4)
labels = np.array([1, 1, 1, 0, 0, 0] * 4)
vectorize = gn.layers.TextVectorization(output_sequence_length=4)
vectorize.adapt(texts)
print(vectorize(texts[:1]))  # a look at the ids before the model is built around the layer
text_model = gn.Sequential([gn.Input(shape=(1,), dtype="string"), vectorize,
                            gn.layers.Embedding(16, 4, mask_zero=True), gn.layers.LSTM(3, name="rnn"),
                            gn.layers.Dense(1, activation="sigmoid")], seed=0)
text_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
text_history = text_model.fit(texts, labels, epochs=2, batch_size=8, verbose=1)
text_model.explain(texts[:1], labels[:1])
""",
    "text_steps_plot": "text_model.explain(texts[:2], labels[:2], print_fn=None).plot_steps()",
}


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    """The notebook of CELLS, run in a kernel of this Python (sys.executable); name -> cell."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    folder = tmp_path_factory.mktemp("notebook")
    # A kernelspec of our own, so the kernel is this Python whatever kernels the machine has.
    kernelspec.write_kernel_spec(str(folder / "kernels" / "python3"))
    specs = KernelSpecManager(kernel_dirs=[str(folder / "kernels")], ensure_native_kernel=False)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source.strip()) for source in CELLS.values()])
    client = nbclient.NotebookClient(notebook, km=KernelManager(kernel_name="python3", kernel_spec_manager=specs),
                                     timeout=CELL_TIMEOUT, allow_errors=True, interrupt_on_timeout=True,
                                     shutdown_kernel="immediate",
                                     resources={"metadata": {"path": str(folder)}})
    # The kernel picks its inline backend itself unless the environment names another one.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    client.execute(env=env, cleanup_kc=True)  # a km of ours is not shut down unless asked
    return dict(zip(CELLS, notebook.cells))


def _text(cell, name: str) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == name)


def _errors(cell) -> list:
    return [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]


def _shown(text: str) -> list[str]:
    """The lines Jupyter shows for a stream: text after a carriage return replaces its line."""
    return [line.rsplit("\r", 1)[-1] for line in text.rstrip("\n").split("\n")]


def _images(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.outputs)


def test_the_kernel_runs_this_python_and_imports_glassnet_without_warnings(cells):
    cell = cells["imports"]
    assert not _errors(cell)
    assert _text(cell, "stdout").strip() == sys.executable
    assert _text(cell, "stderr") == ""  # tqdm.auto warned "IProgress not found" here


def test_fit_with_verbose_1_draws_a_bar_in_place_then_one_line_per_epoch(cells):
    cell = cells["fit"]
    assert not _errors(cell) and _text(cell, "stderr") == ""
    out = _text(cell, "stdout")
    assert "Epoch 1/2:" in out and "batch" in out  # the live bar (plain lines only, before)
    shown = _shown(out)
    assert shown[-2].startswith("Epoch 1/2 - ") and shown[-1].startswith("Epoch 2/2 - ")
    assert " loss: " in shown[-1] and "val_accuracy: " in shown[-1]
    assert not any("%|" in line for line in shown)  # the bar is gone once each epoch ends


def test_history_plot_is_shown_once(cells):
    cell = cells["history_plot"]
    assert not _errors(cell)
    assert _images(cell) == 1  # it was 2: drawn by pyplot, and again as the cell's value


def test_a_process_worker_search_runs_a_build_function_defined_in_a_cell(cells):
    # Before, each worker died with "Can't get attribute 'build' on <module '__main__'>" and the
    # search hung (here: the cell's time limit).
    cell = cells["search"]
    assert not _errors(cell), _errors(cell)
    assert _text(cell, "stderr") == ""  # importing Optuna warned "IProgress not found" here
    out = _text(cell, "stdout")
    assert _shown(out)[-1] == "complete 3 in the kernel False"
    assert "trials 3/3 done: 3 complete" in out  # the progress line


def test_explain_prints_its_report_and_plots_the_network_once(cells):
    cell = cells["explain"]
    assert not _errors(cell) and _text(cell, "stderr") == ""
    report = _text(cell, "stdout")
    assert report.startswith('Explaining model "sequential"') and "BACKWARD" in report
    assert not _errors(cells["explain_plot"])
    assert _images(cells["explain_plot"]) == 1


def test_a_text_model_trains_and_is_explained_step_by_step(cells):
    """TextVectorization + Embedding + LSTM from raw strings: the ids looked at before building, the
    bar, and explain quoting the text and walking the LSTM (it failed on the strings' mean)."""
    cell = cells["text"]
    assert not _errors(cell), _errors(cell)
    out = _shown(_text(cell, "stdout"))
    assert any(line.startswith("Epoch 2/2 - ") for line in out)
    report = "\n".join(out)
    assert "values: ['a great film']" in report and "rnn: step by step" in report
    assert not _errors(cells["text_steps_plot"]) and _images(cells["text_steps_plot"]) == 1
