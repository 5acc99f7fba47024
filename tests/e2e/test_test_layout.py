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


def _cannot_fail(test: ast.expr) -> bool:
    """An assertion whose outcome is known before the test runs: a constant, ``x or
    <true constant>``, or a module constant (ALL_CAPS) asserted on its own."""
    if isinstance(test, ast.Constant):
        return True
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(isinstance(v, ast.Constant) and bool(v.value) for v in test.values)
    return isinstance(test, ast.Name) and test.id.isupper()


def test_no_assertion_that_cannot_fail() -> None:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            f"{path.relative_to(TESTS)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Assert) and _cannot_fail(node.test)
        ]
    assert found == []


def test_the_scan_sees_what_it_looks_for() -> None:
    caught = [ast.parse(src, mode="eval").body for src in ("True", "resp.ok or True", "BASE_URL")]
    passed = [ast.parse(src, mode="eval").body for src in ("resp.ok", "a or b", "token", "x == 1")]
    assert [_cannot_fail(t) for t in caught] == [True, True, True]
    assert [_cannot_fail(t) for t in passed] == [False, False, False, False]
