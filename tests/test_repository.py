"""The repository's own promises: the README's make commands exist, and CI runs every benchmark."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _makefile_recipes() -> dict[str, str]:
    """Each target of the Makefile with the text of its recipe."""
    recipes: dict[str, str] = {}
    current = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        target = re.match(r"^([A-Za-z][\w.-]*):", line)
        if target:
            current = target.group(1)
            recipes[current] = ""
        elif current and line.startswith("\t"):
            recipes[current] += line + "\n"
        elif not line.strip() or line.startswith("#"):
            current = None if not line.strip() else current
    return recipes


def test_every_make_command_the_readme_names_exists():
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"(?:`|^)make ([a-z][\w-]*)", readme, re.MULTILINE))  # commands, not prose
    assert {"run", "test", "bench-webhooks", "bench-smoke"} <= named, "the pattern is stale"
    assert sorted(named - set(_makefile_recipes())) == []


def test_every_benchmark_has_a_smoke_run_and_ci_runs_them():
    recipes = _makefile_recipes()
    benches = {name: recipe for name, recipe in recipes.items() if name.startswith("bench-") and name != "bench-smoke"}
    assert len(benches) >= 4
    smoke = recipes["bench-smoke"]
    for name, recipe in benches.items():
        module = re.search(r"-m (bench\.\w+)", recipe).group(1)
        assert f"-m {module} --smoke" in smoke, f"{name} ({module}) has no smoke run in bench-smoke"
    assert re.search(r"^make bench-smoke$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)
