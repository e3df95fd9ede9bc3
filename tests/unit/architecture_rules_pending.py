"""The architecture rules of REDESIGN.md the tree does not keep yet, not collected (no test_
prefix): move each into test_architecture.py once it holds (issue 14)."""

from __future__ import annotations

import ast
import statistics

from test_architecture import MODULES, _calls, _imported_names, _inside, _sizes


def test_no_private_name_is_imported_across_modules():
    """A name shared by two modules is public: `from x import _y` appears nowhere."""
    private = [
        f"{name}: from {module} import {alias}"
        for name, (_path, tree) in MODULES.items()
        for module, alias in _imported_names(tree)
        if alias.startswith("_") and not alias.startswith("__")
    ]
    assert private == []


def test_store_and_wall_clock_built_only_by_the_composition_root():
    """Store(...), Store.open(...) and SystemClock() appear in crisis/bootstrap (and the store itself)."""
    for name, (_path, tree) in MODULES.items():
        if (
            _inside(name, "crisis.bootstrap")
            or _inside(name, "crisis.store")
            or name == "crisis.clock"
        ):
            continue
        built = _calls(tree) & {"Store", "Store.open", "SystemClock"}
        assert not built, f"{name} builds {built}"


def test_web_and_cli_never_open_a_transaction():
    """The edges read through crisis.queries and act through the service."""
    for name, (_path, tree) in MODULES.items():
        if _inside(name, "crisis.web") or _inside(name, "crisis.cli"):
            assert ".transaction" not in _calls(tree), name


def test_modules_stay_small():
    """No product module over 400 lines; the median module at most 200."""
    sizes = _sizes()
    assert {n: s for n, s in sizes.items() if s > 400} == {}
    assert statistics.median(sizes.values()) <= 200


def test_functions_stay_short():
    """No product function over 80 lines."""
    long_ones = [
        f"{name}.{node.name} ({node.end_lineno - node.lineno + 1})"
        for name, (_path, tree) in MODULES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 80
    ]
    assert long_ones == []
