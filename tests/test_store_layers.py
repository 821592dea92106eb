"""The store's layers (issue 18, parts 1, 2 and 5), kept true by reading the source: no import cycle among the
store's modules (imports inside functions included), no leading-underscore name imported from another module, one
definition of each shared name (errors, Progress, bootstrap constants, default reference), and the UNK threshold
written once (analysis.metrics) rather than in each SQL statement."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANALYSIS = ROOT / "analysis"


def _module(path: Path, root: Path = ROOT) -> tuple[str, str]:
    """(module name, the package its relative imports start from)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


MODULES = {_module(p)[0]: p for p in ANALYSIS.rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path] = MODULES, root: Path = ROOT) -> list[tuple[str, str]]:
    """(module imported, name taken from it) for every import in the file, at any depth (inside functions too)."""
    _, package = _module(path, root)
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                out.append((submodule, "") if submodule in modules else (target, alias.name))
        elif isinstance(node, ast.Import):
            out += [(alias.name, "") for alias in node.names]
    return out


def _cycle(modules: dict[str, Path], root: Path = ROOT) -> list[str] | None:
    """A cycle among ``modules`` (following the imports between them only), or None."""
    edges = {m: {t for t, _ in _imports(p, modules, root) if t in modules and t != m} for m, p in modules.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                return [*path[path.index(t):], t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(modules):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycle_among_the_store_modules() -> None:
    store = {m: p for m, p in MODULES.items() if m.startswith("analysis.store.")}
    assert {"analysis.store.writer", "analysis.store.counting", "analysis.store.premiums",
            "analysis.store.corpora", "analysis.store.build"} <= set(store)
    assert _cycle(store) is None


def test_the_checker_finds_a_cycle_through_an_import_inside_a_function(tmp_path: Path) -> None:
    """The shape of main's cycle before the split: local_pool imported count_units from build inside a function."""
    folder = tmp_path / "analysis" / "x"
    folder.mkdir(parents=True)
    texts = {"a": "def f():\n    from .b import g\n", "b": "from .a import f\n", "c": "import os\n"}
    for name, text in texts.items():
        (folder / f"{name}.py").write_text(text)
    modules = {f"analysis.x.{n}": folder / f"{n}.py" for n in texts}
    assert _cycle(modules, tmp_path) == ["analysis.x.a", "analysis.x.b", "analysis.x.a"]
    del modules["analysis.x.b"]
    assert _cycle(modules, tmp_path) is None


OWNED = [p for p in MODULES.values() if "store" in p.parts or p.name in ("extensions.py", "fsio.py", "progress.py")
         or (p.parent.name == "glitch" and p.name in ("store.py", "extension.py", "cli.py", "probe.py", "scan_cache.py",
                                                      "__init__.py"))]


@pytest.mark.parametrize("path", OWNED, ids=lambda p: str(p.relative_to(ANALYSIS)))
def test_no_private_name_is_imported_from_another_module(path: Path) -> None:
    me = _module(path)[0]
    private = [(target, name) for target, name in _imports(path)
               if name.startswith("_") and name != "__version__" and target != me]
    assert private == []


def _assigned(name: str) -> list[str]:
    """The modules of analysis/ that assign ``name`` at their top level."""
    out = []
    for module, path in MODULES.items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                out.append(module)
    return sorted(out)


@pytest.mark.parametrize(("name", "home"), [("Progress", "analysis.progress"), ("BOOTSTRAP_B", "analysis.metrics"),
                                            ("BOOTSTRAP_SEED", "analysis.metrics"),
                                            ("DEFAULT_REFERENCE", "analysis.metrics"),
                                            ("UNK_FLAG_THRESHOLD", "analysis.metrics")])
def test_shared_names_are_defined_once(name: str, home: str) -> None:
    assert _assigned(name) == [home]


def test_every_error_class_is_defined_in_analysis_errors() -> None:
    defined = {}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                defined[node.name] = module
    assert {m for m in defined.values()} == {"analysis.errors"}, {n: m for n, m in defined.items()
                                                                  if m != "analysis.errors"}
    import analysis.errors as errors

    assert all(issubclass(getattr(errors, n), errors.AnalysisError) for n in defined)


def test_the_unk_threshold_reaches_sql_from_metrics_only() -> None:
    from analysis.metrics import UNK_FLAG_THRESHOLD
    from analysis.store import schema

    assert UNK_FLAG_THRESHOLD == 0.10
    for sql in (schema.LANG_STATS, schema.VIEWS, schema.MONO_STATS):
        assert "> 0.1 AS unk_flag" in sql and "0.10" not in sql
    for path in ANALYSIS.rglob("*.py"):
        assert "> 0.10" not in path.read_text(encoding="utf-8"), path
