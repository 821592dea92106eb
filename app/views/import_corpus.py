"""Import a parallel corpus: upload it, count it with chosen tokenizers, explore its premiums."""

from __future__ import annotations

import tempfile

import streamlit as st

from analysis import AnalysisError, load_catalogue
from analysis.config import imports_enabled
from analysis.corpus.uploads import FILE_KINDS, MAX_UPLOAD_BYTES, check_name, corpus_from_upload, existing_name
from analysis.i18n import N_, format_number
from analysis.i18n import gettext as _
from analysis.lifecycle import private_prefix
from analysis.store.build import build
from analysis.store.corpora import import_into_store
from app import state
from app.state import DEFAULT_TOKENIZERS, db_path, show_error, show_unexpected

KINDS = {
    "tsv": N_("TSV: one column per language, a header row of language codes"),
    "jsonl": N_('JSONL: one {"id", "lang", "text"} object per line'),
    "flores200": N_("FLORES-200 folder (dev/<code>.dev, devtest/<code>.devtest) as a .zip"),
    "lines": N_("Folder of line-aligned <code>.txt files as a .zip"),
}
#: The uploader accepts files up to the server's own cap, so that a file over this page's limit gets a message
#: on the page (the library's check) rather than only the uploader's note.
UPLOADER_MB = 100

PROTOCOLS = {
    "units": N_("One unit per sentence (per-unit confidence intervals)"),
    "petrov2023": N_("petrov2023: one string per language, dev then devtest lines joined by spaces, as Petrov et al. "
                     "(2023) counted (reproduces their published table; no confidence intervals)"),
}

st.title(_("Import a corpus"))
try:
    enabled = imports_enabled()
except AnalysisError as e:  # a malformed ATLAS_IMPORT: refuse to write rather than guess
    show_error(e)
    st.stop()
if not enabled:
    st.info(_("Importing is switched off on this server (ATLAS_IMPORT=0). Run Token Atlas yourself to import corpora: "
            "`python -m analysis corpus import --kind tsv --path my.tsv --name mine`."))
    st.stop()

st.caption(_("Your corpus is read with the same rules as `python -m analysis corpus import`, written into the statistics "
           "database in one atomic step (a failed import changes nothing), and counted with the tokenizers you pick."))
kind = st.selectbox(_("Format"), list(KINDS), format_func=lambda k: _(KINDS[k]), key="im_kind")
name = st.text_input(_("Name in the database"), key="im_name", placeholder=_("e.g. flores-dev"))
suffix = FILE_KINDS.get(kind, ".zip").lstrip(".")
upload = st.file_uploader(_("The corpus (.{suffix}, at most {mb} MB)").format(
                              suffix=suffix, mb=format_number(MAX_UPLOAD_BYTES // 2**20)), type=[suffix],
                          key="im_file", max_upload_size=UPLOADER_MB)
protocol = "units"
if kind == "flores200":
    protocol = st.radio(_("Units"), list(PROTOCOLS), format_func=lambda p: _(PROTOCOLS[p]), key="im_protocol")
ids = load_catalogue().ids
tokenizers = st.multiselect(_("Count it with"), ids, default=[t for t in DEFAULT_TOKENIZERS if t in ids],
                            key="im_tokenizers", placeholder=_("Choose options"))

try:
    present = list(state.corpora())
except AnalysisError:
    present = []  # no database yet: the import creates it
existing = existing_name(name, present) if name else None
replace = False
if existing is not None and existing == name:
    try:
        counted = list(state.counted_tokenizers(existing))
    except AnalysisError:
        counted = []
    st.warning(_("A corpus named {name} is already in the database, counted with {n} tokenizer(s). Importing under "
                 "this name replaces it and deletes those counts. Choose a new name, or confirm below.").format(
        name=repr(existing), n=format_number(len(counted))))
    replace = st.checkbox(_("Replace {name} and delete its counts").format(name=repr(existing)), key="im_replace")

if st.button(_("Import and count"), type="primary", key="im_go", disabled=upload is None or not name or not tokenizers):
    try:
        check_name(name)
    except AnalysisError as e:
        show_error(e)
        st.stop()
    if existing is not None and existing != name:
        st.error(_("**Name taken**\n\n{name} differs from the corpus {existing} only in case, and names are compared "
                   "ignoring case. Choose another name, or type {existing} exactly to replace it.").format(
            name=repr(name), existing=repr(existing)))
        st.stop()
    if existing is not None and not replace:
        st.error(_("**Nothing imported**\n\n{existing} exists. Tick *Replace {existing} and delete its counts* to "
                   "replace it, or choose a new name.").format(existing=repr(existing)))
        st.stop()
    with st.status(_("Importing {file} as {name}…").format(file=upload.name, name=repr(name)), expanded=True) as status:
        try:
            # The folder's name carries this process's pid: a killed server's leftovers are removed at the next start.
            with tempfile.TemporaryDirectory(prefix=private_prefix("atlas-import-")) as tmp:
                corpus = corpus_from_upload(kind, upload.name, upload.getvalue(), name=name, workdir=tmp,
                                            protocol=protocol)
            status.write(_("read {languages} languages, {units} units").format(
                languages=format_number(len(corpus.languages)), units=format_number(len(corpus.unit_order))))
            db = import_into_store(db_path(), corpus, progress=status.write)
            report = build(db, corpora=[name], tokenizers=tokenizers, workers=1, progress=status.write)
            status.update(label=_("Imported {name}: {n} tokenizer(s) counted").format(
                name=repr(name), n=format_number(len(report.pairs_counted))), state="complete")
            st.success(_("Done. Open the Premium explorer and choose corpus **{name}**.").format(name=name))
        except AnalysisError as e:
            status.update(label=_("Import failed; the database is unchanged"), state="error")
            show_error(e)
        except Exception as e:  # anything else: the status must not stay at "Importing…"
            status.update(label=_("Import failed; the database is unchanged"), state="error")
            show_unexpected(e)
