"""The shape of the house: no import cycle between the project's modules, and the
offline client loads neither Flask nor SQLAlchemy nor any of the registry (issue 12,
acceptance 3). The layers themselves are import-linter's contracts (pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

import grimp
from conftest import ROOT

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
