"""The architecture, kept true: the library stays free of the UI (importing analysis pulls in neither streamlit nor
torch), no import cycle between modules, and no private name used across modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.import_graph import ImportGraph


def test_analysis_imports_without_streamlit_or_torch():
    code = (
        "import sys, analysis, analysis.cli, analysis.render, analysis.tokenizers.registry;"
        "from analysis import get_tokenizer; get_tokenizer('utf8-bytes').encode('x');"
        "bad = sorted(m for m in ('streamlit', 'torch', 'plotly') if m in sys.modules);"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# ---------------------------------------------------------------- the import graph (issue 18, part 6)

ROOT = Path(__file__).resolve().parents[1]
GRAPH = ImportGraph.read(ROOT, ["analysis", "app"])


def test_the_graph_sees_the_project():
    """A guard for the two tests below: they pass vacuously if the reader finds no module or no import."""
    assert {"analysis", "analysis.store.build", "analysis.tokenizers.base", "app.state"} <= set(GRAPH.files)
    assert len(GRAPH.imports) > 500
    assert "analysis.tokenizers.base" in GRAPH.edges()["analysis.tokenizers.registry"]


def test_no_import_cycle():
    """No two modules import each other, directly or through others, imports inside functions included."""
    found = [" -> ".join(GRAPH.cycle_path(group)) + f"  (members: {', '.join(group)})" for group in GRAPH.cycles()]
    assert found == [], "import cycles:\n" + "\n".join(found)


def test_no_private_name_crosses_a_module():
    """A leading underscore means "only this module": no other module imports it or reads it through the module."""
    found = [f"{i.importer} (line {i.line}) uses {i.module}.{i.name}"
             for i in [*GRAPH.private_imports(), *GRAPH.private_uses]]
    assert found == [], "private names used from another module:\n" + "\n".join(found)


def test_the_store_knows_no_glitch_and_the_tokenizers_know_neither():
    """The layers: the store runs the glitch checks only through the extension protocol (analysis.extensions), and
    the tokenizers know neither the store nor the glitch checks; imports inside functions and type-checking ones
    count."""
    found = [f"{i.importer} (line {i.line}) imports {GRAPH.target(i)}"
             for i in [*GRAPH.imports_into("analysis.store", ["analysis.glitch"]),
                       *GRAPH.imports_into("analysis.tokenizers", ["analysis.store", "analysis.glitch"])]]
    assert found == [], "imports across the layers:\n" + "\n".join(found)
    # The guard: the graph sees the store's and the tokenizers' modules and the imports the other way round.
    assert {"analysis.store.local_pool", "analysis.store.counting", "analysis.tokenizers.registry"} <= set(GRAPH.files)
    assert {(i.importer, i.name) for i in GRAPH.imports_into("analysis.glitch", ["analysis.store"])} >= {
        ("analysis.glitch.store", "has_table"), ("analysis.glitch.frequency", "LangIdCounts")}


def _backend_switches(path: Path) -> list[int]:
    """Lines comparing something named ``backend`` (a variable, ``entry.backend``) with ``==``, ``!=``, ``in`` or
    ``not in``: a switch on backend names."""
    def named_backend(node: ast.expr) -> bool:
        return (isinstance(node, ast.Name) and node.id == "backend") or (
            isinstance(node, ast.Attribute) and node.attr == "backend")

    return sorted(node.lineno for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                  if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn)
                                                           for op in node.ops)
                  and any(named_backend(side) for side in [node.left, *node.comparators]))


def test_no_backend_name_switch_outside_the_tokenizers():
    """What a backend can do is said by its descriptor (analysis/tokenizers/backends.py), e.g. ``chat_format``."""
    found = [f"{mod} (line {line})" for mod, path in GRAPH.files.items() if not mod.startswith("analysis.tokenizers")
             for line in _backend_switches(path)]
    assert found == [], "switches on a backend's name:\n" + "\n".join(found)
    from analysis.chat import chat_format
    from analysis.tokenizers.backends import BACKENDS

    # The one backend whose library encodes conversations itself, as the chat module asks its descriptor.
    assert {name: b.chat_format for name, b in BACKENDS.items() if b.chat_format} == {"mistral": "mistral"}
    assert chat_format("mistral-v3") == ("mistral", "mistral-common InstructTokenizerV3")


def test_the_backend_switch_check_finds_one(tmp_path):
    (tmp_path / "m.py").write_text("def f(entry, backend):\n    if entry.backend == 'mistral':\n        return 1\n"
                                   "    return backend in ('hf', 'tiktoken') or entry.kind == 'x'\n")
    assert _backend_switches(tmp_path / "m.py") == [2, 4]


def _package(tmp_path: Path, files: dict[str, str]) -> ImportGraph:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return ImportGraph.read(tmp_path, ["pkg"])


def test_the_checks_fail_on_what_they_forbid(tmp_path):
    g = _package(tmp_path, {
        "pkg/__init__.py": "from .tools import api\n",
        "pkg/tools.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .late import Late\n"
                        "def api():\n    from . import store\n    return store._cache\n",
        "pkg/store.py": "import pkg.tools as t\nfrom .sub.deep import _hidden\nx = t._state\n",
        "pkg/late.py": "from .tools import api\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/deep.py": "from .. import store\n",
    })
    # a cycle through a function-level import (tools -> store -> tools) and another through two levels
    # (store -> sub.deep -> store); late -> tools is not one: tools imports late only for type checking
    assert g.cycles() == [["pkg.store", "pkg.sub.deep", "pkg.tools"]]
    assert g.cycle_path(["pkg.store", "pkg.sub.deep", "pkg.tools"]) == ["pkg.store", "pkg.sub.deep", "pkg.store"]
    assert [(i.importer, i.module, i.name, i.line) for i in g.private_imports()] == [
        ("pkg.store", "pkg.sub.deep", "_hidden", 2)]
    assert sorted((i.importer, i.module, i.name, i.line) for i in g.private_uses) == [
        ("pkg.store", "pkg.tools", "_state", 3), ("pkg.tools", "pkg.store", "_cache", 6)]


def test_a_clean_package_passes(tmp_path):
    g = _package(tmp_path, {
        "pkg/__init__.py": "from .a import run\n",
        "pkg/a.py": "from .b import helper\ndef run():\n    return helper()\n",
        "pkg/b.py": "def helper():\n    return _own()\ndef _own():\n    return 1\n",
    })
    assert g.cycles() == [] and g.private_imports() == [] and g.private_uses == []
    assert g.edges() == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": set()}


def test_the_layer_check_sees_function_level_and_type_checking_imports(tmp_path):
    g = _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "",
        "pkg/low/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..high.x import X\n"
                        "def f():\n    from pkg.high import y\n    import pkg.high.x\n",
        "pkg/low/b.py": "from ..lower import z\n",
        "pkg/lower.py": "z = 1\n",
        "pkg/high/__init__.py": "from ..low.a import f\n",
        "pkg/high/x.py": "X = 1\n",
        "pkg/high/y.py": "",
    })
    assert sorted((i.importer, g.target(i), i.line) for i in g.imports_into("pkg.low", ["pkg.high"])) == [
        ("pkg.low.a", "pkg.high.x", 3), ("pkg.low.a", "pkg.high.x", 6), ("pkg.low.a", "pkg.high.y", 5)]
    # a package is a dotted prefix, not a string one: pkg.lower is not in pkg.low
    assert [i.importer for i in g.imports_into("pkg.low", ["pkg.lower"])] == ["pkg.low.b"]
    assert g.imports_into("pkg.low", ["pkg.lowe"]) == []
    assert [i.importer for i in g.imports_into("pkg.high", ["pkg.low"])] == ["pkg.high"]
