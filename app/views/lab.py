"""Tokenizer lab: train a tokenizer on chosen languages and watch the premiums move against standard BPE."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis import AnalysisError
from analysis.i18n import N_, format_number, format_percent, language_name
from analysis.i18n import gettext as _
from analysis.lab.charts import compression_chart, premium_chart, script_chart
from analysis.lab.compare import (
    LANGUAGE_SET,
    SCRIPT_HEADERS,
    SUMMARY_HEADERS,
    comparison_headers,
    comparison_rows,
    script_rows,
    summary_rows,
)
from analysis.lab.data import load_lab_data
from analysis.lab.steps import initial_tokens, merge_steps, steps_html
from analysis.lab.tokjson import PRE_TOKENIZERS
from analysis.lab.trainers import ALGORITHM_NAMES, ALGORITHMS, BYTE_LEVEL_ONLY, MIN_VOCAB_SIZE, TrainSpec
from analysis.lab.workspace import MAX_CONCURRENT, MAX_KEPT, MAX_LANGS, MAX_VOCAB, MAX_WEIGHT, Workspace, capped_languages
from analysis.render import CSS
from app import keys, state
from app.charts import show_chart
from app.language import headers, localized_grid
from app.state import db_path, show_error

DEFAULT_LANGS = ["eng", "fra", "hin", "arb", "cmn_hans", "amh", "rus", "tha"]
PRE_LABELS = {"gpt2": N_("GPT-2 regex (marks split from letters)"), "o200k": N_("GPT-4o regex (marks kept with letters)"),
              "whitespace": N_("spaces only (punctuation attached)")}
BPE_FAMILY = ("bpe", "superword-bpe", "parity-bpe")
#: The merge steps' table, built below.
MERGE_HEADERS = {"merge #": N_("merge #"), "merge": N_("merge"), "for": N_("for"), "tokens": N_("tokens")}


def _corpora() -> list[str]:
    try:
        return list(dict.fromkeys(["udhr", *state.corpora()]))
    except AnalysisError:
        return ["udhr"]


st.title(_("Tokenizer lab"))
st.caption(_("Train a tokenizer on parallel text in the languages you choose, then compare it with a standard BPE of "
             "the same size on held-out units: premiums with 95% bootstrap CIs, compression, fairness, vocabulary per "
             "script. Caps on this page: up to {langs} languages, {vocab} vocabulary entries, weights up to {weight}; "
             "{concurrent} trainings run at once on the server, and the last {kept} tokenizers you train stay "
             "available (also in the Playground) for this session.").format(
    langs=format_number(MAX_LANGS), vocab=format_number(MAX_VOCAB), weight=format_number(MAX_WEIGHT),
    concurrent=format_number(MAX_CONCURRENT), kept=format_number(MAX_KEPT)))

workspace = Workspace(st.session_state)
corpus = st.selectbox(_("Corpus"), _corpora(), key="lab_corpus")
try:
    languages = state.lab_languages(corpus)
except AnalysisError as e:
    show_error(e)
    st.stop()
names = {lang.code: f"{language_name(lang.code, english=lang.name)} ({lang.code})" for lang in languages}
default = [c for c in DEFAULT_LANGS if c in names] or list(names)[:4]
# The browser enforces the cap; a forged message may not: keep the first MAX_LANGS and say so.
sent = st.session_state.get(keys.LAB_LANGS)
kept = capped_languages(sent)
if kept is not None:
    st.warning(_("{n} training languages were chosen; the lab takes at most {cap}, so the first {cap} are kept. Remove "
                 "some to choose others.").format(n=format_number(len(sent)), cap=format_number(MAX_LANGS)))
    st.session_state[keys.LAB_LANGS] = kept
langs = st.multiselect(_("Training languages (type to search by name)"), list(names), default=default,
                       format_func=lambda c: names.get(c, c), max_selections=MAX_LANGS, key=keys.LAB_LANGS,
                       placeholder=_("Choose options"))
c1, c2, c3 = st.columns(3)
algorithm = c1.selectbox(_("Algorithm"), ALGORITHMS, index=ALGORITHMS.index("parity-bpe"),
                         format_func=lambda a: ALGORITHM_NAMES[a], key="lab_algorithm")
vocab_size = c2.number_input(_("Vocabulary size"), min_value=MIN_VOCAB_SIZE, max_value=MAX_VOCAB, value=2000, step=100,
                             key="lab_vocab")
pre = c3.selectbox(_("Pre-tokenizer"), PRE_TOKENIZERS, index=PRE_TOKENIZERS.index("o200k"),
                   format_func=lambda p: _(PRE_LABELS[p]), key="lab_pre")
c4, c5, c6 = st.columns(3)
held_out = c4.slider(_("Held-out share of the units"), 0.1, 0.5, 0.25, 0.05, key="lab_held_out")
seed = c5.number_input(_("Split seed"), min_value=0, max_value=1_000_000, value=0, key="lab_seed")
byte_level = c6.toggle(_("Byte-level"), value=True, key="lab_byte_level", disabled=algorithm in BYTE_LEVEL_ONLY,
                       help=_("Characters instead of bytes: unseen characters become <unk>. Parity-aware and superword "
                            "BPE are byte-level only."))
transition = 0.9
if algorithm == "superword-bpe":
    transition = st.slider(_("Share of merges learnt inside words before merges may cross spaces"), 0.5, 1.0, 0.9, 0.05,
                           key="lab_transition")
with st.expander(_("Language weights (how many times a language's training text counts; for Parity-aware BPE, a "
                 "factor on its measured length)")):
    wcols = st.columns(4)
    weights = {code: int(wcols[i % 4].number_input(names.get(code, code), min_value=1, max_value=MAX_WEIGHT, value=1,
                                                   key=f"lab_w_{code}")) for i, code in enumerate(langs)}

if st.button(_("Train"), type="primary", key="lab_train"):
    bar = st.progress(0.0, text=_("waiting for a free training slot…"))
    try:
        data = load_lab_data(corpus, langs, held_out=held_out, seed=int(seed), weights=weights, db=db_path())
        spec = TrainSpec(algorithm, int(vocab_size), pre_tokenizer=pre,
                         byte_level=bool(byte_level) or algorithm in BYTE_LEVEL_ONLY, superword_transition=transition)
        spec.check()
        slots = state.lab_training_slots()
        if not slots.acquire(timeout=120):
            st.error(_("**The server is busy**\n\nOther people are training right now; try again in a minute."))
            st.stop()
        try:
            trained = workspace.train(data, spec, progress=lambda done, _message: bar.progress(  # the library's note is English
                done, text=_("training the tokenizers… {pct} done").format(pct=format_percent(done))))
        finally:
            slots.release()
        bar.progress(1.0, text=_("comparing on the held-out units…"))
        workspace.compare(trained, data, requested=spec.vocab_size)
        bar.empty()
    except AnalysisError as e:
        bar.empty()
        show_error(e)

last = workspace.last
if last:
    cmp = last.comparison
    st.subheader(_("Held-out comparison"))
    described, facts = last.description
    reference = next((language_name(r.lang, english=r.name) for rep in cmp.reports[:1] for r in rep.langs
                      if r.lang == cmp.reference), cmp.reference)
    st.caption(_("{described}; held-out units: {units}. Premium = tokens of the language / tokens of {reference} on the "
                 "same held-out units (a ratio of sums). Fairness over {languages}. Training took {times}.").format(
        described=_(described).format(**{k: format_number(v) if isinstance(v, int) and k != "seed" else v
                                         for k, v in facts.items()}),
        units=", ".join(cmp.held_out_units), reference=reference,
        languages=_(LANGUAGE_SET).format(n=format_number(len(last.langs)), corpus=facts["corpus"]),
        times=", ".join(f"{format_number(t.seconds, decimals=2)} s ({t.short})" for t in last.trained)))
    st.dataframe(localized_grid(summary_rows(cmp)), hide_index=True, key="lab_summary",
                 column_config=headers(SUMMARY_HEADERS))
    off = last.off_size
    if off:
        st.info(_("Asked for {n} entries; {got}. A trainer stops early when the training text offers nothing more to "
                  "merge, and a character-level alphabet (with WordPiece's ## copies) can exceed the budget by "
                  "itself.").format(n=format_number(last.requested), got="; ".join(
            _("{tokenizer} has {n}").format(tokenizer=t.short, n=format_number(t.vocab_size)) for t in off)))
    if any(r.flagged for rep in cmp.reports for r in rep.langs):
        st.warning(_("Some languages have more than 10% unknown tokens (see the UNK % columns): their premiums are "
                   "not meaningful. Use a byte-level tokenizer to avoid unknown tokens."))
    show_chart(premium_chart(cmp), key="lab_premium_chart", mirrored=True)
    rows = comparison_rows(cmp)
    for row in rows:  # the language's name in the interface language (the rows keep the corpus's English name)
        row["name"] = language_name(str(row["lang"]), english=str(row["name"]))
    st.dataframe(localized_grid(rows), hide_index=True, key="lab_table",
                 column_config=headers(comparison_headers(cmp)))
    left, right = st.columns(2)
    show_chart(compression_chart(cmp), key="lab_compression_chart", where=left, mirrored=True)
    show_chart(script_chart(cmp), key="lab_script_chart", where=right, mirrored=True)
    with st.expander(_("Vocabulary share per script (table)")):
        st.dataframe(localized_grid(script_rows(cmp, top=20)), hide_index=True, key="lab_scripts",
                     column_config=headers(SCRIPT_HEADERS))

    st.subheader(_("Step through the first merges"))
    worst = cmp.reports[-1].fairness.argmax
    sample_lang = st.selectbox(_("Sample language"), last.langs, index=last.langs.index(worst),
                               format_func=lambda c: names.get(c, c), key="lab_sample_lang")
    texts = last.texts[sample_lang]
    first = texts.get("1") or next(iter(texts.values()), "")
    sample = st.text_area(_("Sample sentence"), value=first.split("\n")[0][:300], key=f"lab_sample_{sample_lang}",
                          max_chars=2000)
    n_steps = st.slider(_("Merges to show"), 5, 200, 25, key="lab_steps_n")
    only_changes = st.toggle(_("Only merges that change the sentence"), value=True, key="lab_steps_changes")
    st.html(f"<style>{CSS}</style>")
    bpe_runs = [t for t in last.trained if t.algorithm in BPE_FAMILY]
    for col, t in zip(st.columns(max(1, len(bpe_runs))), bpe_runs):
        with col:
            try:
                steps = merge_steps(t.spec, sample, limit=int(n_steps), only_changes=only_changes)
                start = initial_tokens(t.spec, sample)
            except AnalysisError as e:
                show_error(e)
                continue
            st.markdown(_("**{tokenizer}** — {n} byte tokens at the start").format(tokenizer=t.short,
                                                                                  n=format_number(len(start))))
            st.dataframe(localized_grid([{"merge #": s.rank, "merge": s.merge, "for": s.served or _("all"),
                                          "tokens": s.n_tokens} for s in steps]),
                         hide_index=True, key=f"lab_steps_{t.algorithm}", column_config=headers(MERGE_HEADERS))
            if steps:
                st.caption(_("after merge {n} (new token outlined):").format(n=format_number(steps[-1].rank)))
                st.html(steps_html(steps[-1].tokens, changed=steps[-1].token))

    st.subheader(_("Download"))
    for k, t in enumerate(last.trained):
        path = Path(t.path)
        if path.is_file():
            st.download_button(_("{label} — tokenizer.json ({n} entries)").format(
                                   label=t.label, n=format_number(t.vocab_size)), data=path.read_bytes(),
                               file_name="tokenizer.json", mime="application/json", key=f"lab_download_{k}")
    st.caption(_("The files load with `analysis.get_tokenizer('file:/path/tokenizer.json')` or `tokenizers.Tokenizer."
               "from_file`; the Playground lists them for this session."))
