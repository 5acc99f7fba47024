"""The shape of the house: no import cycle between the project's modules, and the
offline client loads neither Flask nor SQLAlchemy nor any of the registry (issue 12,
acceptance 3). The layers themselves are import-linter's contracts (pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
from factories import ROOT

PACKAGES = ("keys", "registry", "verify")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every strongly connected set of two or more modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph(*PACKAGES)
    assert _cycles(graph) == []


def test_importing_the_client_loads_neither_flask_nor_sqlalchemy_nor_the_registry() -> None:
    done = subprocess.run(  # our own interpreter, as an agency's system runs the client
        [sys.executable, "-X", "importtime", "-c", "import verify.client, verify.client.cli"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert "verify.client" in loaded
    refused = ("flask", "werkzeug", "sqlalchemy", "psycopg", "registry", "app")
    assert [m for m in loaded if m.split(".")[0] in refused] == []


def test_the_size_check_names_each_module_past_the_limit(tmp_path: Path) -> None:
    import module_sizes

    (tmp_path / "verify" / "core").mkdir(parents=True)
    (tmp_path / "keys").mkdir()
    (tmp_path / "registry").mkdir()
    (tmp_path / "app.py").write_text("x = 1\n" * 400)
    (tmp_path / "verify" / "core" / "big.py").write_text("x = 1\n" * 401)
    (tmp_path / "keys" / "small.py").write_text("x = 1\n")
    found = module_sizes.oversized(tmp_path)
    assert [(p.relative_to(tmp_path).as_posix(), n) for p, n in found] == [("verify/core/big.py", 401)]
    assert module_sizes.oversized(ROOT) == []
