"""The app's data layer: every cached resource and read the pages use, and the only place Streamlit caching lives.

Pages call the typed functions here (``state.premiums(corpus, reference, tokenizers)``) and never ``st.cache_*``
themselves. Each read of the statistics database is a pair: a public function with the page's arguments, and a
private cached one that also takes :func:`db_version`, so that a rebuilt database swapped in by rename is read
afresh on the next call while the previous version's results age out of the cache. Reads that fail (no database,
an unknown corpus) raise :class:`analysis.AnalysisError` and are not cached; pages show it with :func:`show_error`.

Resources shared by every session of the server process (``st.cache_resource``): tokenizers, the registry of
read-only connections, vocabularies, the SQL console's connection, the lab's training slots. Results
(``st.cache_data``): everything else, each with the number of entries it kept before this module held them all.

The package's modules, each a part of the one data layer (pages import this package, not them):

- :mod:`.database`: the database the app reads, its version (every read's cache key), read-only cursors;
- :mod:`.reads`: the cached reads of the statistics database (the store, the token page, the Glitch tokens page,
  the lab's languages, the Playground's glitch flags);
- :mod:`.resources`: tokenizers, workshops, files served, the SQL console, vocabularies, the lab's training slots,
  visitors' counting jobs and chat templates;
- :mod:`.figures`: charts built from the rows a page shows (the explorer's dot plot), cached;
- :mod:`.errors`: what a visitor sees of an exception.
"""

from __future__ import annotations

from app.keys import LAB_TOKENIZERS

from .database import (
    DbVersion,
    cursor,
    db_path,
    db_version,
    store,
)
from .errors import (
    show_error,
    show_unexpected,
)
from .figures import premium_dots
from .reads import (
    corpora,
    corpus_info,
    corpus_protocol,
    counted_tokenizers,
    example_units,
    fairness,
    frequency_by_language,
    glitch_counts,
    glitch_evidence,
    glitch_scans,
    glitch_scripts,
    glitch_tokens,
    lab_languages,
    lang_stats,
    languages,
    meta,
    model_indicators,
    premiums,
    published_agreement,
    published_models,
    published_summary,
    published_tokens,
    published_vs_ours,
    scanned_models,
    token_flags,
    unit_names,
    unit_ratios,
    unit_text,
)
from .resources import (
    DEFAULT_TOKENIZERS,
    STATIC_DIR,
    STATIC_FILES,
    Chosen,
    catalogue_ids,
    chat_format_name,
    chat_render,
    console_run,
    console_schema,
    lab_training_slots,
    provide_static_files,
    sweep_leftovers,
    tokenizer,
    vocab_comparison,
    vocab_lengths,
    vocab_sizes_and_scripts,
    vocabulary,
    workshop,
    yours_premiums,
)

__all__ = [
    "DEFAULT_TOKENIZERS",
    "LAB_TOKENIZERS",
    "STATIC_DIR",
    "STATIC_FILES",
    "Chosen",
    "DbVersion",
    "catalogue_ids",
    "chat_format_name",
    "chat_render",
    "console_run",
    "console_schema",
    "corpora",
    "corpus_info",
    "corpus_protocol",
    "counted_tokenizers",
    "cursor",
    "db_path",
    "db_version",
    "example_units",
    "fairness",
    "frequency_by_language",
    "glitch_counts",
    "glitch_evidence",
    "glitch_scans",
    "glitch_scripts",
    "glitch_tokens",
    "lab_languages",
    "lab_training_slots",
    "lang_stats",
    "languages",
    "meta",
    "model_indicators",
    "premium_dots",
    "premiums",
    "provide_static_files",
    "published_agreement",
    "published_models",
    "published_summary",
    "published_tokens",
    "published_vs_ours",
    "scanned_models",
    "show_error",
    "show_unexpected",
    "store",
    "sweep_leftovers",
    "token_flags",
    "tokenizer",
    "unit_names",
    "unit_ratios",
    "unit_text",
    "vocab_comparison",
    "vocab_lengths",
    "vocab_sizes_and_scripts",
    "vocabulary",
    "workshop",
    "yours_premiums",
]
