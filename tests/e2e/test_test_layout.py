"""The tests' own house rules (docs/testing.md): test modules and helpers import what
they build from ``factories``, never from conftest.py, which only registers the
fixture plugins; and each isolation mode is the one the test's kind calls for."""

from __future__ import annotations

import ast

from factories import ROOT

TESTS = ROOT / "tests"


def _imports_of(path: object) -> set[str]:
    tree = ast.parse(TESTS.joinpath(str(path)).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_nothing_imports_conftest() -> None:
    offenders = sorted(
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if {"conftest", "tests.conftest"} & _imports_of(path.relative_to(TESTS))
    )
    assert offenders == [], f"import from factories (or a helpers_* module) instead: {offenders}"


def test_the_root_conftest_only_registers_plugins() -> None:
    tree = ast.parse((TESTS / "conftest.py").read_text(encoding="utf-8"))
    statements = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    assert [type(n).__name__ for n in statements] == ["Assign"]
    target = statements[0].targets[0]
    assert isinstance(target, ast.Name) and target.id == "pytest_plugins"
