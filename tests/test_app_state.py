"""The app's data layer (the package app/state/) and its session-state keys (app/keys.py).

- Keys: every value is distinct and unchanged; no page reads or writes session state through a string literal,
  and a widget whose key is named in app/keys.py is created with the name (found by reading the source's AST).
- Caching: only the data layer's modules (app/state/) call ``st.cache_data`` / ``st.cache_resource``, and none of
  them is over STYLE's 600 lines.
- Reads: the typed reads return what the library reads from a real tiny store (tests/tiny_store.py, counted by
  hand), and a database swapped in by rename is read afresh (the database version is part of every key).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path

import pytest

from analysis.store.schema import SCHEMA_VERSION
from app import keys, state
from tests.app_harness import clear_app_caches
from tests.tiny_store import build_tiny_store, import_lines

APP_DIR = Path(__file__).resolve().parent.parent / "app"
SOURCES = sorted(APP_DIR.rglob("*.py"))
#: Methods of the session state that are not keys.
#: Methods, not keys. ``get_widget_states`` is the run context's session state (app/reconnect.py), not a key.
STATE_METHODS = {"get", "pop", "setdefault", "update", "clear", "items", "keys", "values", "to_dict", "get_widget_states"}


def _key_values() -> dict[str, str]:
    return {name: value for name, value in vars(keys).items() if name.isupper() and isinstance(value, str)}


def _is_session_state(node: ast.AST) -> bool:
    """``ss`` (the pages' alias) or ``st.session_state``."""
    return (isinstance(node, ast.Name) and node.id == "ss") or (
        isinstance(node, ast.Attribute) and node.attr == "session_state")


def _literal(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _literal_state_uses(tree: ast.AST) -> list[str]:
    """Every place the session state is addressed by a string literal or as an attribute (``ss.pg_text``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_session_state(node.value) and _literal(node.slice):
            found.append(f"line {node.lineno}: [{node.slice.value!r}]")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_session_state(node.func.value)
              and node.func.attr in ("get", "pop", "setdefault") and node.args and _literal(node.args[0])):
            found.append(f"line {node.lineno}: .{node.func.attr}({node.args[0].value!r})")
        elif (isinstance(node, ast.Compare) and _literal(node.left) and isinstance(node.ops[0], (ast.In, ast.NotIn))
              and _is_session_state(node.comparators[0])):
            found.append(f"line {node.lineno}: {node.left.value!r} in")
        elif isinstance(node, ast.Attribute) and _is_session_state(node.value) and node.attr not in STATE_METHODS:
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_key_values_are_distinct_and_unchanged() -> None:
    values = _key_values()
    assert len(set(values.values())) == len(values)
    # Permalinks, tests and the protocol load test address these by value: they never change.
    assert {values[n] for n in ("UI_LANG", "PRESENTATION", "LAB_TOKENIZERS", "PG_TEXT", "PG_TOKENIZERS", "PX_TAB",
                                "VC_UNIQUE_PAGE", "SQL_TEXT", "TK_ID")} == {
        "ui_lang", "presentation", "lab_tokenizers", "pg_text", "pg_tokenizers", "px_tab", "vc_unique_page",
        "sql_text", "tk_id"}
    assert (keys.cv_role(2), keys.cv_text(0)) == ("cv_role_2", "cv_text_0")
    assert state.LAB_TOKENIZERS == "lab_tokenizers"  # still importable from app.state, as tests do


def test_the_checker_finds_literal_keys() -> None:
    code = ('ss = st.session_state\nss.pg_text = 1\nss["pg_x"] = 2\nst.session_state.get("pg_y")\n'
            'if "pg_z" in ss: pass\nss.pop(keys.PG_TEXT)\nss[keys.PG_TEXT] = 3\n')
    assert _literal_state_uses(ast.parse(code)) == [
        "line 2: .pg_text", "line 3: ['pg_x']", "line 4: .get('pg_y')", "line 5: 'pg_z' in"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(APP_DIR)))
def test_pages_use_the_named_keys(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert _literal_state_uses(tree) == []
    named = set(_key_values().values())
    literal_widget_keys = [f"line {n.lineno}: key={n.value.value!r}" for n in ast.walk(tree)
                           if isinstance(n, ast.keyword) and n.arg == "key" and _literal(n.value)
                           and n.value.value in named]
    assert literal_widget_keys == []


STATE_DIR = APP_DIR / "state"


def _cache_uses(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    return text.count("st.cache_data") + text.count("st.cache_resource")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(APP_DIR)))
def test_caching_lives_in_state_only(path: Path) -> None:
    if path.parent == STATE_DIR:
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 600
    else:
        assert _cache_uses(path) == 0


def _cached_functions(path: Path) -> int:
    """Functions decorated with ``st.cache_data`` / ``st.cache_resource`` (called with options or not)."""
    def caching(d: ast.expr) -> bool:
        d = d.func if isinstance(d, ast.Call) else d
        return isinstance(d, ast.Attribute) and d.attr in ("cache_data", "cache_resource")

    return sum(1 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.FunctionDef) and any(caching(d) for d in node.decorator_list))


def test_the_data_layer_holds_every_cache() -> None:
    """Every cached function of the app, by module: the split of app/state.py moved them and dropped none (the
    single module had 44; the explorer's dot plot is the 45th)."""
    assert {p.stem: _cached_functions(p) for p in sorted(STATE_DIR.glob("*.py"))} == {
        "__init__": 0, "database": 1, "errors": 0, "figures": 1, "reads": 28, "resources": 15}
    assert not (APP_DIR / "state.py").exists()  # a module beside the package would shadow nothing, and confuse all


def test_no_reads_by_name_are_left() -> None:
    assert not hasattr(state, "query") and not hasattr(state, "token_query") and not hasattr(state, "db_key")


# ------------------------------------------------------------------ typed reads on a real store


@pytest.fixture
def tiny_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = build_tiny_store(tmp_path / "a")
    live = tmp_path / "live" / "atlas.duckdb"
    live.parent.mkdir()
    shutil.copyfile(db, live)
    monkeypatch.setenv("ATLAS_DB", str(live))
    clear_app_caches()
    yield live
    clear_app_caches()


def test_db_version_names_the_file_and_its_identity(tiny_db: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    s = os.stat(tiny_db)
    assert state.db_version() == (str(tiny_db), (s.st_dev, s.st_ino, s.st_mtime_ns, s.st_size))
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "none.duckdb"))
    assert state.db_version() == (str(tmp_path / "none.duckdb"), (0, 0, 0, 0))


def test_typed_reads_return_the_hand_counted_values(tiny_db: Path) -> None:
    assert state.corpora() == ["tiny"]
    assert state.counted_tokenizers("tiny") == ["bert-uncased", "codepoints", "utf8-bytes"]
    assert list(state.languages("tiny")["lang"]) == ["ell", "eng"]
    assert state.unit_text("tiny", "ell", None) == "Γειά σου.\n\nΚαλό."
    assert state.unit_text("tiny", "eng", state.unit_names("tiny")[1]) == "Be kind."
    prem = state.premiums("tiny", "eng", ("utf8-bytes", "codepoints")).set_index(["tokenizer", "lang"])["premium"]
    assert prem[("utf8-bytes", "ell")] == pytest.approx(25 / 20)
    assert prem[("codepoints", "ell")] == pytest.approx(14 / 20)
    assert state.corpus_protocol("tiny") == "units"
    assert state.meta()["schema_version"] == str(SCHEMA_VERSION)
    assert state.corpus_info("tiny")["corpus"] == "tiny"


def test_a_swapped_in_database_is_read_afresh(tiny_db: Path, tmp_path: Path) -> None:
    assert state.corpora() == ["tiny"]
    other = import_lines(tmp_path / "b", {"eng": ["One."], "fra": ["Un."]}, name="other")
    os.replace(other, tiny_db)  # what a rebuild does: a new file renamed over the old one
    assert state.corpora() == ["other"]
    assert list(state.languages("other")["lang"]) == ["eng", "fra"]


def test_a_missing_database_raises_a_store_error_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis import AnalysisError

    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "none.duckdb"))
    clear_app_caches()
    for _attempt in range(2):  # errors are not cached
        with pytest.raises(AnalysisError):
            state.corpora()


def _spec(fig) -> dict:
    """What Streamlit sends the browser of a figure, as a value (JSON objects are unordered)."""
    return json.loads(fig.to_json())


def test_the_dot_plot_is_cached_per_rows_and_interface_language(tiny_db: Path) -> None:
    """The cached figure is the library's figure (the same JSON), built once per rows, names and language."""
    from analysis import charts
    from analysis.i18n import set_language

    rows = state.premiums("tiny", "eng", ("utf8-bytes", "codepoints"))
    built = charts.premium_dots(rows, reference_name="English", policy="p")
    first = state.premium_dots(rows, reference_name="English", policy="p")
    again = state.premium_dots(rows.copy(), reference_name="English", policy="p")
    # the same figure (a copy comes back with its layout's keys in another order, which Plotly does not read)
    assert _spec(first) == _spec(built) == _spec(again) and first is not again  # a fresh copy per call
    assert first.layout.title.text == "Token premium vs English"
    one = state.premium_dots(rows[rows["tokenizer"] == "codepoints"], reference_name="English", policy="p")
    # rows dearest first: English, the reference (1), then Greek (14 / 20 characters)
    assert [t.name for t in one.data] == ["codepoints"] and list(one.data[0].x) == [1.0, pytest.approx(14 / 20)]
    try:
        set_language("fr")
        french = state.premium_dots(rows, reference_name="English", policy="p")
        assert _spec(french) == _spec(charts.premium_dots(rows, reference_name="English", policy="p"))
        assert french.layout.title.text != first.layout.title.text  # the key holds the language
    finally:
        set_language("en")
