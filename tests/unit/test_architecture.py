"""The dependency rules of DESIGN.md hold in the tree."""

from __future__ import annotations

import ast
import functools
import statistics
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _imports(package: str) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[path] = names
    return found


def test_channels_contacts_playbooks_never_import_crisis():
    """The inner packages do not depend on the orchestrator."""
    for package in ("channels", "contacts", "playbooks"):
        for path, names in _imports(package).items():
            assert not any(n == "crisis" or n.startswith("crisis.") for n in names), path


# Pure helpers a layer other than bootstrap may use: they build no channel.
PURE_CHANNEL_HELPERS = {
    "channels.base",
    "channels.errors",  # ChannelConfigError, DeliveryFailed (also re-exported by channels.base)
    "channels.catalog",  # one row per channel: label, address, body, rate, means, providers
    "channels.twilio_callbacks",  # TwiML and callback parsing, for the provider webhooks (web/)
    "channels.sms_text",  # SMS segment advice, for check-config
    "channels.ack_link",  # the signed acknowledgement links, checked by their page (web/)
    "channels.twilio_hotline",  # the CIP line's TwiML and queue decision (web/)
    "channels.publication",  # the length of a post as X counts it (drafts, previews)
    "channels.twilio_twiml",  # the switchboard's and the CIP line's TwiML (web/)
    "channels.preview",  # how the approval preview measures a message on a channel (web/)
}


def test_only_bootstrap_names_concrete_channels():
    """Concrete channel modules are built in crisis/bootstrap/ alone."""
    for path, names in _imports("crisis").items():
        concrete = {n for n in names if n.startswith("channels.")} - PURE_CHANNEL_HELPERS
        if "bootstrap" not in path.relative_to(ROOT).parts:
            assert not concrete, f"{path} imports {concrete}"


def test_sql_only_in_the_store():
    """sqlmodel and SQLAlchemy are imported only under crisis/store."""
    for path, names in _imports("crisis").items():
        if "store" in path.parts:
            continue
        assert not any(n.split(".")[0] in {"sqlmodel", "sqlalchemy", "alembic"} for n in names), (
            path
        )


# --- The rules of REDESIGN.md, read from the code (function-level imports included) -------

PRODUCT = ("crisis", "channels", "contacts", "playbooks")
SKIPPED_DIRS = {"migrations", "static", "templates", "__pycache__"}


def _product_modules() -> dict[str, tuple[Path, ast.Module]]:
    """Every product module by dotted name (a package by its own name), parsed once."""
    modules: dict[str, tuple[Path, ast.Module]] = {}
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            name = name.removesuffix(".__init__")
            modules[name] = (path, ast.parse(path.read_text(encoding="utf-8")))
    return modules


MODULES = _product_modules()


def _targets(name: str, path: Path, node: ast.AST) -> list[str]:
    """The dotted names an import statement asks for (`from a import b` asks for a and a.b)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _resolve(target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


@functools.cache
def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, (path, tree) in MODULES.items():
        for node in ast.walk(tree):
            for target in _targets(name, path, node):
                resolved = _resolve(target)
                if resolved and resolved != name:
                    graph[name].add(resolved)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root, edges_of_root in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(edges_of_root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    """The check below can fail: a two-module loop and a three-module loop are both found."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(_cycles(graph)) == [["a", "b"], ["c", "d", "e"]]


def test_no_import_cycle_in_product_code():
    """No module reaches itself through imports, those inside functions included."""
    assert _cycles(_graph()) == []


def _importers_of(prefix: str) -> set[str]:
    return {
        name
        for name, targets in _graph().items()
        if any(t == prefix or t.startswith(prefix + ".") for t in targets)
    }


def _inside(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_only_the_cli_imports_the_cli():
    """Nothing outside crisis/cli imports crisis.cli (but `python -m crisis`)."""
    outside = {n for n in _importers_of("crisis.cli") if not _inside(n, "crisis.cli")}
    assert outside <= {"crisis.__main__"}, outside


def test_only_the_web_and_the_runtime_import_the_web():
    """Nothing outside crisis/web imports crisis.web, but the runtime that serves it."""
    outside = {n for n in _importers_of("crisis.web") if not _inside(n, "crisis.web")}
    assert outside <= {"crisis.runtime"}, outside


def _imported_names(tree: ast.Module) -> list[tuple[str, str]]:
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    ]


def test_provider_sdks_only_under_channels():
    """The Twilio and X SDKs are imported by channel adapters alone."""
    for name, (path, tree) in MODULES.items():
        sdks = {
            target.split(".")[0]
            for node in ast.walk(tree)
            for target in _targets(name, path, node)
            if target.split(".")[0] in {"twilio", "tweepy"}
        }
        if not _inside(name, "channels"):
            assert not sdks, f"{name} imports {sdks}"


def _calls(tree: ast.Module) -> set[str]:
    """Called names as written: `Store(`, `Store.open(`, `store.transaction(`."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            found.add(func.id)
        elif isinstance(func, ast.Attribute):
            found.add(f".{func.attr}")
            if isinstance(func.value, ast.Name):
                found.add(f"{func.value.id}.{func.attr}")
    return found


def _sizes() -> dict[str, int]:
    return {
        name: path.read_text(encoding="utf-8").count("\n")
        for name, (path, _tree) in MODULES.items()
    }


def test_web_and_cli_never_open_a_transaction():
    """The edges read through crisis.queries and act through the service."""
    for name, (_path, tree) in MODULES.items():
        if _inside(name, "crisis.web") or _inside(name, "crisis.cli"):
            assert ".transaction" not in _calls(tree), name


def test_no_complexity_or_import_exemption_in_product_code():
    """ruff's C901, PLR0915 and PLC0415 hold without a per-function or per-line `noqa`."""
    exempted = [
        f"{name}:{number}"
        for name, (path, _tree) in MODULES.items()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "noqa" in line and any(r in line for r in ("C901", "PLR0915", "PLC0415"))
    ]
    assert exempted == []


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
