"""The engine stays at the bottom of the imports: no module under glassnet/models/ imports
glassnet.diagnostics, glassnet.datasets or glassnet.saving when it is imported (issue 14).

Read from each module's source with ``ast``, not from ``sys.modules``: importing any glassnet
module first runs glassnet/__init__.py, which imports everything. An import inside a function
runs only when called, so it is allowed (``model.save`` imports glassnet.saving that way)."""

import ast
from pathlib import Path

import pytest

import glassnet.models

MODELS = Path(glassnet.models.__file__).parent
ABOVE_THE_ENGINE = ("glassnet.diagnostics", "glassnet.datasets", "glassnet.saving")


def import_time_modules(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) for every import that runs when the module is imported: anywhere but
    inside a function body (class bodies and top-level if/try blocks run at import)."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Import):
                found += [(child.lineno, alias.name) for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                # `from glassnet import saving` imports glassnet.saving: count each name as a submodule too
                found += [(child.lineno, child.module)]
                found += [(child.lineno, f"{child.module}.{alias.name}") for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                found += [(child.lineno, f"<relative {child.module}>")]
            stack.append(child)
    return found


def violations(source: str) -> list[str]:
    return [f"line {line}: {module}" for line, module in sorted(set(import_time_modules(ast.parse(source))))
            if module.startswith("<relative") or any(module == top or module.startswith(top + ".")
                                                     for top in ABOVE_THE_ENGINE)]


@pytest.mark.parametrize("path", sorted(MODELS.rglob("*.py")), ids=lambda p: str(p.relative_to(MODELS)))
def test_models_module_imports_nothing_above_the_engine(path):
    assert violations(path.read_text()) == [], (
        f"glassnet/models/{path.relative_to(MODELS)} imports these at module level; move the import into the "
        f"function that needs it, or move what it needs into glassnet/models/")


def test_the_check_sees_each_form_of_import():
    source = ("import glassnet.saving\n"
              "from glassnet import diagnostics\n"
              "from glassnet.datasets.sources import is_batch_source\n"
              "try:\n    from glassnet.saving import load_model\nexcept ImportError:\n    pass\n"
              "class A:\n    from glassnet.datasets import BatchSource\n"
              "def f():\n    from glassnet import saving\n")
    assert sorted({int(v.split(":")[0][5:]) for v in violations(source)}) == [1, 2, 3, 5, 9]
    assert violations("from glassnet import losses\nfrom glassnet.models import data\n") == []
