"""Benchmark: the dashboard, server side, through Streamlit's AppTest (a full script run, no browser).

In one run:
  * Playground: 10,000 characters of mixed-script UDHR text (8 languages, 7 scripts) with 8 tokenizers; the median
    of 7 full reruns after one warm-up run (tokenizers loaded once per process, as on the server), against the
    sum over the 8 tokenizers of the bare backend ids call on the same text, median of 7 (target rerun <= 1.0 s);
  * Premium explorer: each interaction (reference, tokenizers, search, script filter, complete toggle, per-unit
    language, map tokenizer) timed as the script run it triggers, first (cold cache) and again (warm);
    target median <= 300 ms.

Needs the default database (`python -m analysis build`, or ATLAS_DB pointing at one with the 8 tokenizers).
Usage: python tests/bench/bench_app.py [--json out.json]. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from analysis import get_tokenizer  # noqa: E402
from analysis.corpus.udhr import load_udhr  # noqa: E402
from tests.bench.bench_encode import bare_calls, loadavg, machine  # noqa: E402

APP = str(ROOT / "app" / "streamlit_app.py")
TOKENIZERS = ["o200k_base", "cl100k_base", "llama3", "gemma3", "qwen3", "mistral-tekken", "deepseek-v3", "bert-uncased"]
LANGS = ["eng", "hin", "cmn_hans", "arb", "rus", "amh", "tha", "jpn"]
REPS = 7


def mixed_text(n: int = 10_000) -> str:
    udhr = load_udhr()
    parts, k = [], 0
    while sum(map(len, parts)) < n:
        lang = LANGS[k % len(LANGS)]
        units = udhr.texts(lang)
        parts.append(units[sorted(units)[k // len(LANGS) % len(units)]])
        k += 1
    return "\n".join(parts)[:n]


def timed_run(at: AppTest) -> float:
    t = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t
    if at.exception:
        raise SystemExit(f"the app failed: {at.exception[0].message}")
    return elapsed


def playground(text: str) -> dict[str, Any]:
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.text_area(key="pg_text").set_value(text)
    at.multiselect(key="pg_tokenizers").set_value(TOKENIZERS)
    warm = timed_run(at)  # loads the tokenizers not loaded yet
    reruns = [timed_run(at) for _ in range(REPS)]
    toks = [get_tokenizer(t) for t in TOKENIZERS]
    calls = [bare_calls(t)[1] for t in toks]
    bare = []
    for _ in range(REPS):
        t = time.perf_counter()
        for call in calls:
            call(text)
        bare.append(time.perf_counter() - t)
    counts = {t.id: t.count(text) for t in toks}
    return {"chars": len(text), "tokenizers": TOKENIZERS, "first_run_s": warm, "rerun_median_s": statistics.median(reruns),
            "rerun_all_s": reruns, "bare_median_s": statistics.median(bare),
            "ratio": statistics.median(reruns) / statistics.median(bare), "counts": counts}


def explorer() -> list[dict[str, Any]]:
    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page("views/premiums.py")
    first = timed_run(at)
    steps = [
        ("open page (default view)", lambda a: None),
        ("reference -> French", lambda a: a.selectbox(key="px_reference").set_value("fra")),
        ("reference -> English", lambda a: a.selectbox(key="px_reference").set_value("eng")),
        ("tokenizers -> 8", lambda a: a.multiselect(key="px_tokenizers").set_value(TOKENIZERS)),
        ("search 'Hindi, amh, Cyrl'", lambda a: a.text_input(key="px_search").set_value("Hindi, amh, Cyrl")),
        ("search cleared", lambda a: a.text_input(key="px_search").set_value("")),
        ("script filter Deva+Arab", lambda a: a.multiselect(key="px_scripts").set_value(["Deva", "Arab"])),
        ("script filter cleared", lambda a: a.multiselect(key="px_scripts").set_value([])),
        ("tab -> Per unit", lambda a: a.session_state.__setitem__("px_tab", "Per unit")),
        ("per-unit language -> Amharic", lambda a: a.selectbox(key="px_unit_lang").set_value("amh")),
        ("tab -> Map", lambda a: a.session_state.__setitem__("px_tab", "Map")),
        ("complete variants only", lambda a: a.checkbox(key="px_complete").check()),
        ("map tokenizer -> llama3", lambda a: a.selectbox(key="px_map_tokenizer").set_value("llama3")),
    ]
    rows = []
    for name, act in steps:
        act(at)
        cold = first if name.startswith("open") else timed_run(at)
        warm = timed_run(at)  # the same state again: every query now comes from the cache
        rows.append({"interaction": name, "cold_ms": 1000 * cold, "warm_ms": 1000 * warm})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    text = mixed_text()
    pg = playground(text)
    print(f"Playground: {pg['chars']:,} characters, {len(TOKENIZERS)} tokenizers; first run {pg['first_run_s']:.2f} s")
    print(f"  full rerun median {pg['rerun_median_s'] * 1000:.0f} ms (target <= 1000 ms); bare encode of the same text "
          f"with the same tokenizers {pg['bare_median_s'] * 1000:.0f} ms; ratio {pg['ratio']:.2f}")
    rows = explorer()
    print("Premium explorer (server-side script run per interaction, default database):")
    for r in rows:
        print(f"  {r['interaction']:<32} cold {r['cold_ms']:7.0f} ms   warm {r['warm_ms']:6.0f} ms")
    cold = statistics.median(r["cold_ms"] for r in rows)
    warm = statistics.median(r["warm_ms"] for r in rows)
    print(f"  median: cold {cold:.0f} ms, warm {warm:.0f} ms (target <= 300 ms); load average {loadavg()}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "playground": pg, "explorer": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
