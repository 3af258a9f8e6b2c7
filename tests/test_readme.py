"""The README stays true: its two commands, CI running the second, its example's output, its code map."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)]


def readme_commands() -> list[str]:
    language, body = fenced_blocks(README)[0]
    assert language in ("bash", "sh", "shell")
    return body.splitlines()


def test_first_block_holds_exactly_two_one_line_commands():
    commands = readme_commands()
    assert len(commands) == 2
    for command in commands:
        assert command.strip() == command and command and not command.endswith("\\")
        assert command.startswith("python3 -m venv .venv && ")
    assert "-e '.[test]'" in commands[1] and commands[1].endswith("-m pytest -q")


def test_the_first_command_runs_the_installed_glassnet_train():
    import tomllib

    command = readme_commands()[0]
    assert command.endswith(".venv/bin/glassnet train")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["glassnet"] == "glassnet.cli:main"


def test_ci_runs_exactly_the_second_command():
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert lines[0].startswith("#!")
    # Setup lines may come first (the browser the report test needs); the last command is the
    # README's test command, word for word, so CI checks what a new user runs.
    commands = [line for line in lines[1:] if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == readme_commands()[1]
    assert commands.count(readme_commands()[1]) == 1
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_ten_line_example_prints_its_expected_output():
    section = README.split("## A 10-line example", 1)[1]
    (language, code), (out_language, expected) = fenced_blocks(section)[:2]
    assert language == "python" and out_language == "text"
    assert len([line for line in code.splitlines() if line.strip()]) == 10
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected


def test_code_map_covers_the_package_and_names_only_real_files():
    section = README.split("## Map of the code", 1)[1].split("\n## ", 1)[0]
    mapped = set(re.findall(r"^\| `(glassnet/[\w/]+\.py)` \|", section, re.MULTILINE))
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "glassnet").rglob("*.py")}
    # a subpackage's __init__ only re-exports what its files define
    files -= {f for f in files if f.endswith("/__init__.py") and f != "glassnet/__init__.py"}
    assert sorted(files - mapped) == [], "files missing from the README's map"
    assert sorted(mapped - {p.relative_to(ROOT).as_posix() for p in (ROOT / "glassnet").rglob("*.py")}) == []


def test_examples_named_in_the_readme_exist():
    named = set(re.findall(r"`(\d\d_\w+\.py)`", README))
    assert {"01_forward_by_hand.py", "02_spiral.py", "03_digits_mlp.py"} <= named
    assert all((ROOT / "examples" / n).is_file() for n in named)
