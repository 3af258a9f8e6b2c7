"""``report.html``: one self-contained page per run (plots inlined as data URIs, no scripts, no
network), readable offline and safe to mail around."""

from __future__ import annotations

import base64
import html
from pathlib import Path

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #1d2329; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #d5dbe1; padding-bottom: 0.3rem; }
table { border-collapse: collapse; font-size: 0.9rem; } td, th { padding: 0.25rem 0.8rem;
     border-bottom: 1px solid #e6eaee; text-align: left; } th { background: #f3f5f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f8fa; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem; }
img { max-width: 100%; height: auto; display: block; margin: 0.5rem 0; }
.muted { color: #5c6670; }
"""


def _image_tag(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(header, rows, numeric_from: int = 1) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i >= numeric_from else ""}>{html.escape(str(c))}</td>'
                         for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def layer_rows(model) -> list[tuple]:
    return [(layer.name, type(layer).__name__, str(layer.output_shape), f"{layer.count_params():,}")
            for layer in model.layers]


def write(path, *, title: str, model, config_text: str, metrics: dict, plots: dict, facts: list[tuple],
          leaderboard: list[dict] | None = None) -> None:
    """Write the page.

    Args:
        path: where to write ``report.html``.
        title: the run's name.
        model: the trained model (its layer table is shown).
        config_text: the resolved config as written to the run folder.
        metrics: the test metrics (scalars are listed; lists such as a confusion matrix are not).
        plots: caption -> PNG path, in display order.
        facts: (label, value) rows of the run summary (data, timing, folder).
        leaderboard: tuning trials, one dict per row, best first (tuning runs only).
    """
    parts = [f"<h1>{html.escape(title)}</h1>",
             '<p class="muted">glassnet training run report: everything on this page is embedded; '
             "it needs no network.</p>",
             "<h2>Summary</h2>", _table(("", "value"), facts, numeric_from=2)]
    scalars = [(k, _fmt(v)) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    parts += ["<h2>Test metrics</h2>", _table(("metric", "value"), scalars)]
    if leaderboard:
        keys = list(leaderboard[0])
        parts += ["<h2>Tuning leaderboard</h2>",
                  _table(keys, [[_fmt(row.get(k, "")) for k in keys] for row in leaderboard])]
    total = model.count_params()
    parts += ["<h2>Model</h2>",
              _table(("layer", "type", "output shape", "params"), layer_rows(model), numeric_from=3),
              f'<p class="muted">{total:,} parameters in total.</p>']
    if plots:
        parts.append("<h2>Plots</h2>")
        for caption, png in plots.items():
            parts += [f"<h3>{html.escape(caption)}</h3>", _image_tag(Path(png), caption)]
    parts += ["<h2>Config</h2>", f"<pre>{html.escape(config_text)}</pre>"]
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            # An empty icon: without it a browser asks the network for /favicon.ico.
            "<link rel=\"icon\" href=\"data:,\">\n"
            f"<title>{html.escape(title)} - glassnet report</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
    Path(path).write_text(page, encoding="utf-8")
