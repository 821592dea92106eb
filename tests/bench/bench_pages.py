"""Benchmark: the Vocabulary comparison and SQL console pages, and the library calls under them.

In one run, in one fresh interpreter:
  * per catalogue tokenizer with a vocabulary (18 of 19): load (``get_tokenizer``), the backend's per-id tables
    (shared with its encoder), and ``load_vocabulary`` on top of them (entries, lengths, scripts, distinct count);
  * ours vs the straightforward library way on the same vocabularies: script classes vectorized vs
    ``script_share`` per token; overlap and unique counts by ``Comparison`` vs Python sets pair by pair;
  * the Vocabulary page through AppTest: first run with its defaults (tokenizers already loaded: page-level
    work only), warm reruns, a search in the unique-token browser, and all 18 vocabularies at once;
  * the SQL console: ``run_query`` (statement check, fresh cursor, timer, streamed fetch) vs the bare
    ``con.execute(sql).df()`` on a read-only connection, per example query, on the default database.

Usage: python tests/bench/bench_pages.py [--db atlas.duckdb] [--json out.json] [--reps 5]
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from analysis import get_tokenizer, load_catalogue  # noqa: E402
from analysis.scripts import script_share  # noqa: E402
from analysis.vocab import Comparison, _id_tables, has_vocabulary, load_vocabulary, script_classes  # noqa: E402
from tests.bench.bench_encode import loadavg, machine  # noqa: E402

APP = str(ROOT / "app" / "streamlit_app.py")


def median_s(fn: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_vocabularies() -> tuple[list[dict[str, Any]], list]:
    rows, vocabs = [], []
    for tid in (t for t in load_catalogue().ids if has_vocabulary(t)):
        t_load, tok = once(lambda tid=tid: get_tokenizer(tid))
        t_tables, _ = once(lambda tok=tok: _id_tables(tok))
        t_vocab, v = once(lambda tok=tok: load_vocabulary(tok))
        vocabs.append(v)
        rows.append({"tokenizer": tid, "entries": v.n_entries, "load_s": t_load, "tables_s": t_tables,
                     "vocabulary_s": t_vocab})
        print(f"  {tid:15} {v.n_entries:>9,} entries  load {t_load:5.2f} s  tables {t_tables:5.2f} s  "
              f"vocabulary {t_vocab:5.2f} s", file=sys.stderr, flush=True)
    return rows, vocabs


def bench_against_sets(vocabs: list, reps: int) -> dict[str, Any]:
    """Ours vs the straightforward way with the library's own per-token function and Python sets."""
    big = [v for v in vocabs if v.tokenizer != "codepoints"]
    entries = [e for v in big for e in v.token_bytes.tolist()]
    ours_scripts = median_s(lambda: script_classes(entries), max(1, reps // 2))
    bare_scripts = median_s(lambda: [script_share(b) for b in entries], 1)

    def naive_overlap() -> None:
        sets = [set(v.token_bytes.tolist()) for v in big]
        for a in sets:
            for b in sets:
                _ = len(a & b) / len(a | b)
        for i, a in enumerate(sets):
            _ = len(a - set().union(*(s for k, s in enumerate(sets) if k != i)))

    def ours_overlap() -> None:
        cmp = Comparison(big)
        cmp.jaccard()
        cmp.unique_counts()

    ours_cmp = median_s(ours_overlap, reps)
    bare_cmp = median_s(naive_overlap, reps)
    six = [v for v in vocabs if v.tokenizer in ("o200k_base", "cl100k_base", "llama3", "gemma3", "qwen3",
                                                 "mistral-tekken")]
    return {"entries": len(entries), "tokenizers": len(big),
            "scripts_ours_s": ours_scripts, "scripts_per_token_s": bare_scripts,
            "overlap_ours_s": ours_cmp, "overlap_python_sets_s": bare_cmp,
            "overlap_six_defaults_s": median_s(lambda: Comparison(six).jaccard(), reps)}


def bench_page(reps: int) -> dict[str, Any]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=600)
    at.switch_page("pages/vocab.py")
    first, _ = once(at.run)
    assert not at.exception, at.exception
    warm = median_s(at.run, reps)

    def search() -> None:
        at.text_input(key="vc_unique_search").set_value("ing" if at.text_input(key="vc_unique_search").value != "ing"
                                                        else "tion")
        at.run()

    searched = median_s(search, reps)
    ids = [t for t in load_catalogue().ids if has_vocabulary(t)]
    at.text_input(key="vc_unique_search").set_value("")
    all_first, _ = once(lambda: at.multiselect(key="vc_tokenizers").set_value(ids).run())
    assert not at.exception, at.exception
    all_warm = median_s(at.run, reps)
    return {"defaults_first_run_s": first, "defaults_warm_rerun_s": warm, "search_rerun_s": searched,
            "all18_first_run_s": all_first, "all18_warm_rerun_s": all_warm}


def bench_sql(db: Path, reps: int) -> list[dict[str, Any]]:
    from analysis.sql_console import EXAMPLES, open_console, run_query
    from analysis.store.schema import open_readonly

    t_open, console = once(lambda: open_console(db))
    plain = open_readonly(db)
    rows = [{"query": "open_console", "ours_ms": t_open * 1000, "bare_ms": None, "ratio": None}]
    for title, sql in EXAMPLES:
        run_query(console, sql)
        plain.execute(sql).df()
        ours = median_s(lambda sql=sql: run_query(console, sql), reps)
        bare = median_s(lambda sql=sql: plain.execute(sql).df(), reps)
        rows.append({"query": title, "ours_ms": ours * 1000, "bare_ms": bare * 1000, "ratio": ours / bare})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=None, help="statistics database (default $ATLAS_DB)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    from analysis.store.schema import default_db_path

    db = args.db or default_db_path()
    out: dict[str, Any] = {"machine": machine(), "load_before": loadavg()}
    print("vocabularies:", file=sys.stderr)
    per, vocabs = bench_vocabularies()
    out["vocabularies"] = per
    total = {k: sum(r[k] for r in per) for k in ("load_s", "tables_s", "vocabulary_s")}
    out["vocabularies_total"] = total
    out["against_sets"] = cmp = bench_against_sets(vocabs, args.reps)
    del vocabs
    out["page"] = page = bench_page(args.reps)
    out["sql"] = sql = bench_sql(db, max(args.reps, 10)) if db.is_file() else []
    out["load_after"] = loadavg()

    print(f"\n{out['machine']}; load average before/after: {out['load_before']} / {out['load_after']}")
    print(f"\n18 vocabularies: load {total['load_s']:.1f} s, backend tables {total['tables_s']:.1f} s, "
          f"load_vocabulary {total['vocabulary_s']:.1f} s (of which codepoints "
          f"{next(r['vocabulary_s'] for r in per if r['tokenizer'] == 'codepoints'):.1f} s)")
    print(f"script classes, {cmp['entries']:,} entries of {cmp['tokenizers']} vocabularies: vectorized "
          f"{cmp['scripts_ours_s']:.2f} s vs script_share per token {cmp['scripts_per_token_s']:.2f} s "
          f"(ratio {cmp['scripts_ours_s'] / cmp['scripts_per_token_s']:.2f})")
    print(f"overlap + unique counts, {cmp['tokenizers']} vocabularies: Comparison {cmp['overlap_ours_s']:.2f} s vs "
          f"Python sets {cmp['overlap_python_sets_s']:.2f} s (ratio "
          f"{cmp['overlap_ours_s'] / cmp['overlap_python_sets_s']:.2f}); the six defaults "
          f"{cmp['overlap_six_defaults_s']:.2f} s")
    print("Vocabulary page (AppTest, server side): " + ", ".join(f"{k} {v:.2f} s" for k, v in page.items()))
    if sql:
        print("\nSQL console, median ms (ours = run_query; bare = con.execute(sql).df() on a read-only connection):")
        for r in sql:
            bare = f"{r['bare_ms']:8.1f}  {r['ratio']:5.2f}" if r["bare_ms"] is not None else ""
            print(f"  {r['query'][:60]:60} {r['ours_ms']:8.1f}  {bare}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
