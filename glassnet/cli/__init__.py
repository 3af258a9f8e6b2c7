"""The ``glassnet`` command: train, tune, evaluate, predict, summary, inspect, export, datasets (and explain).

Exit codes: 0 success, 2 a usage error (click's), 1 a failure, reported in one line on stderr
(the traceback too with ``--debug``). ``main(argv)`` runs it in-process and returns the code.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import click

from glassnet import backend

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
_DEBUG = {"on": False}


def _debug_option(f):
    def remember(ctx, param, value):
        if value:
            _DEBUG["on"] = True
        return value

    return click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=remember,
                        help="On failure, show the full traceback.")(f)


def _device_option(f):
    """``--device cpu|gpu``: where the command's model computes, for this command only."""
    def choose(ctx, param, value):
        if value is not None:
            before = backend.get_device()
            try:
                backend.set_device(value)
            except RuntimeError as err:  # no CuPy or no GPU: the message says which, and the fix
                raise click.UsageError(str(err)) from None
            ctx.call_on_close(lambda: backend.set_device(before))
        return value

    return click.option("--device", type=click.Choice(["cpu", "gpu"]), expose_value=False, callback=choose,
                        help="Compute on the CPU (default: $GLASSNET_DEVICE, else cpu) or on a CUDA GPU "
                             "through CuPy (pip install glassnet[gpu]).")(f)


class _Group(click.Group):
    def format_epilog(self, ctx, formatter):  # keep the examples' line breaks
        if self.epilog:
            formatter.write("\n" + self.epilog + "\n")


class _Command(click.Command):
    def format_epilog(self, ctx, formatter):
        if self.epilog:
            formatter.write("\n" + self.epilog + "\n")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog="""Examples:
  glassnet train                      train the default CNN on scikit-learn's digits
  glassnet train my_run.toml --epochs 5
  glassnet train my_run.toml --export onnx   model.onnx beside model.glassnet
  glassnet evaluate runs/digits-cnn-*/model.glassnet digits
  glassnet predict runs/digits-cnn-*/model.glassnet images/ -o predictions.csv
  glassnet summary model.glassnet
  glassnet inspect model.glassnet
  glassnet export model.glassnet model.onnx
  glassnet tune search.toml --trials 20 --workers 2
  glassnet datasets""")
@click.version_option(package_name="glassnet", prog_name="glassnet")
@_debug_option
def cli():
    """glassnet: train, evaluate and use neural networks from the command line."""


# -- train ---------------------------------------------------------------------------------------
@cli.command("train", cls=_Command, epilog="""Examples:
  glassnet train                              the default: a small CNN on digits (offline, ~20 s)
  glassnet train run.toml --epochs 5 --seed 1 --out runs/
  glassnet train run.toml --quiet             print only the run folder

A config (TOML):
  name = "adult-mlp"
  seed = 0
  [data]
  source = "csv"               # digits | mnist | fashion_mnist | npz | csv | idx | image_folder | text_folder
  path = "adult.csv"
  target = "income"
  # text = "review"            # csv: this column is free text, read by a TextVectorization first layer
  test_size = 0.2
  [preprocessing]
  drop = ["fnlwgt"]            # csv: TabularPreprocessor options; images: rescale = "auto"
  [[layers]]
  type = "Dense"
  units = 32
  activation = "relu"
  [[layers]]
  type = "Dense"
  units = 1
  activation = "sigmoid"
  [compile]
  optimizer = {type = "Adam", learning_rate = 0.003}
  loss = "binary_crossentropy"
  metrics = ["accuracy"]
  [fit]
  epochs = 10
  batch_size = 64
  validation_split = 0.1
  [[callbacks]]
  type = "EarlyStopping"
  patience = 3

Without [[layers]] the network is chosen for the data (a CNN for images, an MLP
otherwise), and without [compile] the loss follows the task. The run folder
runs/<name>-<timestamp>/ gets the model, the resolved config, history.csv,
metrics.json, PNG plots, train.log and report.html.""")
@click.argument("config", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--epochs", type=click.IntRange(min=0), help="Override [fit] epochs.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Override [fit] batch_size.")
@click.option("--seed", type=int, help="Override the seed (initialisation, shuffling, splits).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for run folders (default runs/).")
@click.option("--name", help="Name of the run (the folder is <name>-<timestamp>).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but the run folder.")
@click.option("--log-every", type=click.IntRange(min=1), help="Print one line every N epochs.")
@click.option("--export", "export_format", type=click.Choice(["onnx"]),
              help="Also write the trained model as model.onnx in the run folder (needs glassnet[export]).")
@_device_option
@_debug_option
def train_command(config, epochs, batch_size, seed, out, name, quiet, log_every, export_format):
    """Train from CONFIG, or the default CNN on digits.

    CONFIG is a TOML file (see below); options override its values.
    """
    from glassnet.cli import config as config_module
    from glassnet.cli import train as train_module

    if config is None:
        cfg, locator = config_module.merge_defaults({}), None
    else:
        cfg, locator = config_module.load(config)
    cfg = config_module.apply_overrides(cfg, epochs=epochs, batch_size=batch_size, seed=seed,
                                        out=None if out is None else str(out), name=name, log_every=log_every)
    folder = train_module.run(cfg, locator, quiet=quiet, export_format=export_format)
    if quiet:
        click.echo(str(folder))


# -- tune --------------------------------------------------------------------------------------
@cli.command("tune", cls=_Command, epilog="""Examples:
  glassnet tune search.toml                       search, then write runs/<name>-<timestamp>/
  glassnet tune search.toml --trials 8 --seed 1 --out runs/
  glassnet tune search.toml --workers 2           two worker processes on this machine
  glassnet tune search.toml --storage postgresql://user@db/optuna --workers 4

A search config is a train config (see glassnet train --help) with ranges
written in place of values in [[layers]], [compile] and [fit] (epochs,
batch_size), and an optional [tune] table:
  name = "digits-mlp"
  [data]
  source = "digits"
  [tune]
  strategy = "tpe"          # grid | random | tpe
  max_trials = 20           # also: time_limit (s), fraction_limit, target
  objective = "val_accuracy"
  pruning = "hyperband"     # median | successive_halving | false
  n_workers = 1             # also: storage, study_name, seed, cv, validation_split
  [[layers]]
  type = "Dense"
  units = {choice = [32, 64, 128]}
  activation = {choice = ["relu", "tanh"]}
  [[layers]]
  type = "Dropout"
  rate = {range = [0.0, 0.5, 6]}        # 6 evenly spaced values
  [[layers]]
  type = "Dense"
  units = 10
  activation = "softmax"
  [compile]
  optimizer = {type = "Adam", learning_rate = {log_uniform = [1e-4, 1e-1]}}
  [fit]
  epochs = 10
  batch_size = {choice = [16, 32]}
Ranges: {choice = [...]}, {range = [low, high, steps]}, {uniform = [low, high]},
{log_uniform = [low, high]}, {int = [low, high, step]}.

The run folder gets the best model, config.toml (the config with the best
values filled in: glassnet train retrains it), leaderboard.csv, metrics.json
(best trial and test metrics), plots of the search, tune.log and report.html
with the leaderboard; search/ holds the study journal and every trial's model.

More workers, on this or other machines, join a running search on a shared
storage (an RDB URL, or a journal file on a shared file system):
  glassnet tune-worker --storage URL --study NAME [--data search/data.npz]
(the study NAME is the config's name unless [tune] study_name sets it). A search
run again with the same --storage and study continues where it stopped.""")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--trials", type=click.IntRange(min=1), help="Override [tune] max_trials.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes on this machine ([tune] n_workers).")
@click.option("--storage", help="Optuna storage shared by workers: an RDB URL or a journal file path "
                                "(default: a journal in the run folder).")
@click.option("--seed", type=int, help="Override the study seed (samplers, trial seeds, the validation split).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for run folders (default runs/).")
@click.option("--name", help="Name of the run (the folder is <name>-<timestamp>).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but the run folder.")
@_device_option
@_debug_option
def tune_command(config, trials, workers, storage, seed, out, name, quiet):
    """Search the hyperparameters of the ranges in CONFIG; keep the best model.

    CONFIG is a TOML train config with ranges in place of values (see below).
    """
    from glassnet.cli import tune as tune_module
    from glassnet.cli import tune_config

    search = tune_config.load(config)
    search = tune_module.apply_overrides(search, workers=workers, storage=storage, trials=trials, seed=seed,
                                         out=None if out is None else str(out), name=name)
    folder = tune_module.run(search, quiet=quiet)
    if quiet:
        click.echo(str(folder))


@cli.command("tune-worker", cls=_Command, epilog="""Example:
  glassnet tune-worker --storage postgresql://user@db/optuna --study digits-mlp
  glassnet tune-worker --storage /shared/search.journal --study digits-mlp --data /shared/data.npz

The search's settings, model config and data file come from the study, where
glassnet tune put them (the data is <run folder>/search/data.npz; --data points
elsewhere when that path is not visible here).""")
@click.option("--storage", required=True, help="The search's storage: an RDB URL or a journal file path.")
@click.option("--study", "study_name", required=True, help="The study name (the config's name by default).")
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False), help="The search's data.npz.")
@click.option("--trials", type=click.IntRange(min=1), help="Stop after this many trials of this worker.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing.")
@_device_option
@_debug_option
def tune_worker(storage, study_name, data_path, trials, quiet):
    """Run trials of a search that glassnet tune started, until its budget is used."""
    from glassnet.cli import tune as tune_module

    ran = tune_module.run_worker(storage, study_name, data_path, trials, quiet, say=click.echo)
    if not quiet:
        click.echo(f"{ran} trial(s) run by this worker.")


# -- evaluate / predict --------------------------------------------------------------------------
class _ModelPath(click.Path):
    """A .glassnet file, or a run folder holding one (``glassnet train`` writes ``model.glassnet``
    into each run folder): the file's path either way."""

    name = "model"

    def __init__(self):
        super().__init__(exists=True, path_type=Path)

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        if path.is_dir():
            from glassnet.cli.run_folder import MODEL_FILE

            if not (path / MODEL_FILE).is_file():
                self.fail(f"{path} is a folder without a {MODEL_FILE}; give a .glassnet file or a run "
                          f"folder that glassnet train wrote.", param, ctx)
            path = path / MODEL_FILE
        return path


def _load(model_path):
    import glassnet as gn

    return gn.load_model(model_path)


@cli.command(cls=_Command, epilog="""DATA is a built-in dataset name (its test split), a .npz (its test split, or
x/y arrays), a .csv (with --target, unless the model carries a preprocessor
that knows it), an image folder with one subfolder per class, a run config
.toml (its test split), or an IDX images file with --labels.

MODEL is a .glassnet file or the run folder glassnet train wrote it into.

Examples:
  glassnet evaluate runs/digits-cnn-20250101-120000/model.glassnet digits
  glassnet evaluate runs/digits-cnn-20250101-120000 digits
  glassnet evaluate model.glassnet test.csv --target income
  glassnet evaluate model.glassnet chest_xray/test --json""")
@click.argument("model", type=_ModelPath())
@click.argument("data")
@click.option("--target", help="CSV column holding the targets.")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False), help="IDX labels file for an IDX images file.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@_device_option
@_debug_option
def evaluate(model, data, target, labels, as_json):
    """Loss and metrics of MODEL on DATA."""
    from glassnet.cli import data as data_module

    net = _load(model)
    if not net.compiled:
        raise ValueError(f"{model} was saved without compile settings; it cannot compute a loss.")
    from glassnet.cli.predict import run_class_names

    dataset = data_module.from_argument(data, net, target=target, labels=labels,
                                        class_names=run_class_names(net, Path(model)))
    x = dataset.x_test
    if x.ndim > 1 and tuple(x.shape[1:]) != tuple(net.input_shape[1:]):
        raise ValueError(f"the data's samples have shape {tuple(x.shape[1:])} but the model takes "
                         f"{tuple(net.input_shape[1:])}; this data does not fit this model.")
    results = net.evaluate(x, dataset.y_test, verbose=0, return_dict=True)
    results = {k: float(v) for k, v in results.items()}
    results["n_samples"] = int(len(x))
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        click.echo(f"{len(x):,} samples: " + ", ".join(f"{k} {v:.4f}" for k, v in results.items() if k != "n_samples"))


@cli.command("predict", cls=_Command, epilog="""INPUT is a .csv (one sample per row: raw table rows for a model with a
preprocessor, else feature or pixel values), a .npz (key x, x_test or
test_images), an image file, or a folder of images; for a text model, .txt
files (a folder or one file) or a CSV's text column.

Examples:
  glassnet predict model.glassnet new_rows.csv -o predictions.csv
  glassnet predict model.glassnet photos/ -o predictions.csv""")
@click.argument("model", type=_ModelPath())
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default="predictions.csv",
              show_default=True, help="CSV file to write.")
@_device_option
@_debug_option
def predict_command(model, input_path, output):
    """Predict with MODEL for every sample in INPUT; writes a CSV."""
    from glassnet.cli import predict as predict_module

    rows = predict_module.predict_to_csv(_load(model), model, input_path, output)
    click.echo(f"Wrote {rows:,} predictions to {output}")


# -- describing models and data ------------------------------------------------------------------
@cli.command(cls=_Command, epilog="""Example:
  glassnet summary runs/digits-cnn-20250101-120000/model.glassnet""")
@click.argument("model", type=_ModelPath())
@_debug_option
def summary(model):
    """Print MODEL's layers, output shapes and parameter counts."""
    _load(model).summary(print_fn=click.echo)


def _describe_calls(calls) -> str:
    """A graph layer's ``inbound_nodes`` as "conv_a[0], conv_b[0]", one group per call joined by
    "; "; "?" for a reference that is not [layer, index] or [layer, index, output] (the file is
    read as found). A call given initial states ({"args", "initial_state"}) lists them after its input."""
    if not isinstance(calls, list):
        return ""

    def refs(call):
        if isinstance(call, dict):
            parts = [call.get("args"), call.get("initial_state")]
            return [ref for part in parts if isinstance(part, list) for ref in part]
        return call if isinstance(call, list) else []

    def describe(ref):
        if isinstance(ref, list) and len(ref) in (2, 3):
            return f"{ref[0]}[{ref[1]}]" + (f"[{ref[2]}]" if len(ref) == 3 else "")
        return "?"
    return "; ".join(", ".join(describe(ref) for ref in refs(call)) for call in calls)


@cli.command(cls=_Command, epilog="""Example:
  glassnet inspect model.glassnet
  glassnet inspect model.glassnet --json""")
@click.argument("model", type=_ModelPath())
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
@_debug_option
def inspect(model, as_json):
    """List what a model file holds, without building it.

    Checksums are verified; nothing is constructed from the file.
    """
    import glassnet as gn

    info = gn.saving.inspect(model)
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    click.echo(f"{info['path']}: {info['format']} v{info['format_version']}, glassnet {info['glassnet_version']}, "
               f"{info['file_bytes']:,} bytes, created {info['created']}")
    if info.get("model"):
        click.echo(f"model {info['model']['name']!r} ({info['model']['class_name']}), seed {info['model']['seed']}, "
                   f"epochs trained {info.get('epochs_trained')} (completed in the saving fit call: "
                   f"{info.get('epochs_completed')})")
    compile_info = info.get("compile")
    if compile_info:
        # A graph (Model) has one loss per output and a list of metrics per output.
        losses = compile_info["loss"] if isinstance(compile_info["loss"], list) else [compile_info["loss"]]
        metrics = [m for item in compile_info.get("metrics", []) for m in (item if isinstance(item, list) else [item])]
        click.echo("compile: optimizer " + compile_info["optimizer"]["class_name"] + ", loss "
                   + ", ".join(item["class_name"] for item in losses) + ", metrics "
                   + ", ".join(m["class_name"] for m in metrics))
    if info.get("preprocessor"):  # the JSON said so; the listing did not, yet it decides what predict takes
        click.echo(f"preprocessor: {info['preprocessor']} (predict and evaluate take raw table rows, not features)")
    # A graph's config says what each layer's calls read: shown as "<- conv_a[0], conv_b[0]".
    config = (info.get("model") or {}).get("config") or {}
    calls = {spec.get("config", {}).get("name"): spec.get("inbound_nodes", [])
             for spec in config.get("layers", []) if isinstance(spec, dict) and "inbound_nodes" in spec}
    for layer in info["layers"]:
        weights = ", ".join(f"{k} {tuple(w['shape'])} {w['dtype']}" for k, w in layer["weights"].items())
        reads = _describe_calls(calls.get(layer["name"]))
        click.echo(f"  {layer['name']:<24} {layer['class_name']:<20} {layer['params']:>10,}  {weights}"
                   + (f"  <- {reads}" if reads else ""))
    click.echo(f"total parameters: {info['total_params']:,}")


@cli.command("export", cls=_Command, epilog="""Example:
  glassnet export runs/digits-cnn-20250101-120000/model.glassnet digits.onnx
  glassnet export model.glassnet model.onnx --no-preprocessor
  glassnet export reviews.glassnet reviews.onnx --no-text-vectorization

The ONNX file runs in ONNX Runtime with the model's input and output names and a
dynamic batch axis. A model with a tabular preprocessor takes the raw columns,
one input per column, unless --no-preprocessor exports the network alone. A text
model takes the strings, unless --no-text-vectorization starts the graph after its
TextVectorization (whose vocabulary and settings then go into the file's metadata).""")
@click.argument("model", type=_ModelPath())
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-preprocessor", is_flag=True, help="Leave an attached preprocessor out of the graph.")
@click.option("--no-text-vectorization", is_flag=True,
              help="Start the graph after the TextVectorization layer; its config goes into the metadata.")
@_debug_option
def export_command(model, output, no_preprocessor, no_text_vectorization):
    """Write MODEL (a .glassnet file) as an ONNX file OUTPUT (needs glassnet[export])."""
    from glassnet import export

    export.require_onnx()  # the install hint before the model is loaded

    path = _load(model).export(output, include_preprocessor=not no_preprocessor,
                               include_text_vectorization=not no_text_vectorization)
    click.echo(f"Wrote {path}")


@cli.command(cls=_Command, epilog="""Example:
  glassnet datasets""")
@_debug_option
def datasets():
    """List the datasets available here and where they are.

    For datasets not found, says where to put their files.
    """
    from glassnet.cli import predict as predict_module

    for name, status, where in predict_module.dataset_table():
        click.echo(f"{name:<15} {status:<13} {where}")


@cli.command(cls=_Command, epilog="""Examples:
  glassnet explain model.glassnet digits --samples 2""")
@click.argument("model", type=_ModelPath())
@click.argument("data")
@click.option("--samples", type=click.IntRange(min=1), default=1, show_default=True, help="Samples in the batch walked through.")
@click.option("--target", help="CSV column holding the targets.")
@_device_option
@_debug_option
def explain(model, data, samples, target):
    """Walk samples of DATA through MODEL layer by layer.

    Uses glassnet.diagnostics.explain: shapes, formulas, activations and gradients.
    """
    from glassnet.cli import data as data_module

    from glassnet.cli.predict import run_class_names

    net = _load(model)
    dataset = data_module.from_argument(data, net, target=target, class_names=run_class_names(net, Path(model)))
    net.explain(dataset.x_test[:samples], dataset.y_test[:samples] if net.compiled else None,
                print_fn=click.echo)


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    _DEBUG["on"] = False
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args=args, prog_name="glassnet", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        click.echo("glassnet: aborted", err=True)
        return EXIT_FAILURE
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except KeyboardInterrupt:
        click.echo("glassnet: interrupted", err=True)
        return 130
    except Exception as err:  # a failure: one line, the traceback only when asked for
        if _DEBUG["on"] or "--debug" in args:
            traceback.print_exc()
        reason = str(err) or type(err).__name__
        if isinstance(err, (FileNotFoundError, PermissionError, IsADirectoryError)) and err.filename and str(err.filename) not in reason:
            reason = f"{reason}: {err.filename}"
        click.echo(f"glassnet: error: {reason}", err=True)
        return EXIT_FAILURE
    return EXIT_OK
