"""The project's import graph, read from the source (no module is imported): for tests/test_architecture.py.

Every ``import`` and ``from ... import`` statement counts, at module level or inside a function, except those under
``if TYPE_CHECKING:`` (they never run: an annotation is not a dependency at run time). A name imported from a package
that is one of its submodules (``from . import schema``) is an edge to that submodule; any other name is an edge to
the module it comes from (a package's ``__init__``).

Example (a two-module package whose ``b`` imports ``a`` inside a function, and ``a`` imports ``b`` at the top):
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "pkg").mkdir()
    >>> _ = (root / "pkg" / "__init__.py").write_text("")
    >>> _ = (root / "pkg" / "a.py").write_text("from .b import f\\n")
    >>> _ = (root / "pkg" / "b.py").write_text("def f():\\n    from .a import _g\\n")
    >>> g = ImportGraph.read(root, ["pkg"])
    >>> g.cycles()
    [['pkg.a', 'pkg.b']]
    >>> [(i.importer, i.module, i.name, i.line) for i in g.private_imports()]
    [('pkg.b', 'pkg.a', '_g', 2)]
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Import:
    """One imported name: ``from <module> import <name>`` in ``importer`` (``name`` empty for ``import module``)."""

    importer: str
    module: str
    name: str
    line: int


@dataclass
class ImportGraph:
    """Modules (dotted names) -> their files, and every import between them."""

    files: dict[str, Path] = field(default_factory=dict)
    packages: set[str] = field(default_factory=set)
    imports: list[Import] = field(default_factory=list)
    #: the imports under ``if TYPE_CHECKING:`` (not in :attr:`imports`: they never run)
    type_imports: list[Import] = field(default_factory=list)
    private_uses: list[Import] = field(default_factory=list)  # ``module._name`` read through an imported module

    @classmethod
    def read(cls, root: Path, packages: Iterable[str]) -> ImportGraph:
        """Parse every ``.py`` file of ``packages`` (top-level folders under ``root``)."""
        g = cls()
        for top in packages:
            for path in sorted((root / top).rglob("*.py")):
                parts = list(path.relative_to(root).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                    g.packages.add(".".join(parts))
                g.files[".".join(parts)] = path
        trees = {mod: ast.parse(path.read_text(encoding="utf-8")) for mod, path in g.files.items()}
        for mod, tree in trees.items():
            g.imports.extend(_imports_of(mod, mod in g.packages, tree))
            g.type_imports.extend(_imports_of(mod, mod in g.packages, tree, nodes=_type_checking_nodes(tree)))
        ours = [i for i in g.imports if i.module in g.files or i.module.split(".")[0] in packages]
        g.imports, g.type_imports = ours, [i for i in g.type_imports
                                           if i.module in g.files or i.module.split(".")[0] in packages]
        for mod, tree in trees.items():
            g.private_uses.extend(g._private_attributes(mod, tree))
        return g

    def _private_attributes(self, mod: str, tree: ast.Module) -> list[Import]:
        """``alias._name`` where ``alias`` is another project module bound by an import in ``mod``."""
        aliases: dict[str, str] = {}
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in self.files:
                        aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                for imp in _imports_of(mod, mod in self.packages, ast.Module(body=[node], type_ignores=[])):
                    sub = f"{imp.module}.{imp.name}"
                    if sub in self.files:
                        asname = next(a.asname for a in node.names if a.name == imp.name)
                        aliases[asname or imp.name] = sub
        out = []
        for node in _runtime_nodes(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")
                    and aliases[node.value.id] != mod):
                out.append(Import(mod, aliases[node.value.id], node.attr, node.lineno))
        return out

    def target(self, imp: Import) -> str:
        """The module an import depends on: the submodule when the name is one, else the module named."""
        sub = f"{imp.module}.{imp.name}" if imp.name else ""
        return sub if sub in self.files else imp.module

    def edges(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {m: set() for m in self.files}
        for imp in self.imports:
            t = self.target(imp)
            if t in self.files and t != imp.importer:
                out[imp.importer].add(t)
        return out

    def cycles(self) -> list[list[str]]:
        """Every strongly connected group of two or more modules (sorted), i.e. each import cycle's members."""
        edges, index, low, stack, on, found = self.edges(), {}, {}, [], set(), []

        def visit(v: str) -> None:  # Tarjan's algorithm; the project's graph is shallow enough for recursion
            index[v] = low[v] = len(index)
            stack.append(v)
            on.add(v)
            for w in sorted(edges[v]):
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    group.append(w)
                    if w == v:
                        break
                if len(group) > 1:
                    found.append(sorted(group))

        for v in sorted(self.files):
            if v not in index:
                visit(v)
        return sorted(found)

    def cycle_path(self, group: list[str]) -> list[str]:
        """One concrete cycle through the group's first module, for a readable failure: [a, b, ..., a]."""
        edges, members = self.edges(), set(group)
        start, path, seen = group[0], [group[0]], {group[0]}
        while True:
            nxt = sorted(w for w in edges[path[-1]] if w in members)
            if start in nxt and len(path) > 1:
                return [*path, start]
            fresh = [w for w in nxt if w not in seen] or nxt
            path.append(fresh[0])
            if fresh[0] in seen:
                return path
            seen.add(fresh[0])

    def imports_into(self, importers: str, targets: Iterable[str]) -> list[Import]:
        """Every import, type-checking ones included, by a module of the package ``importers`` (or that module) of a
        module in one of the packages ``targets``: where a layer reaches into another it must not know."""
        return [i for i in [*self.imports, *self.type_imports]
                if _within(i.importer, importers) and any(_within(self.target(i), t) for t in targets)]

    def private_imports(self) -> list[Import]:
        """Imports of a leading-underscore name (not a dunder) from another module of the project."""
        return [i for i in self.imports
                if i.name.startswith("_") and not i.name.startswith("__") and self.target(i) != i.importer
                and i.module in self.files]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _imports_of(mod: str, is_package: bool, tree: ast.Module, *, nodes: Iterable[ast.AST] | None = None) -> list[Import]:
    """The imports of ``tree`` that run (or those of ``nodes``)."""
    out: list[Import] = []
    for node in _runtime_nodes(tree) if nodes is None else nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split(".") if is_package else mod.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            out.extend(Import(mod, module, a.name, node.lineno) for a in node.names if a.name != "*")
        elif isinstance(node, ast.Import):
            out.extend(Import(mod, a.name, "", node.lineno) for a in node.names)
    return out


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node except the bodies of ``if TYPE_CHECKING:`` blocks."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                todo.extend(child.orelse)
                continue
            todo.append(child)


def _type_checking_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node inside the bodies of ``if TYPE_CHECKING:`` blocks."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                yield from ast.walk(stmt)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
